/// The bytes behind a tensor: a buffer this object owns, a buffer lent by a pool (returned
/// to it when the last tensor using it goes away), or a read-only region of a memory-mapped
/// file that it keeps alive. Shared freely; only the code that just allocated a buffer
/// writes to it, before handing the tensor on.
public final class TensorStorage: @unchecked Sendable {
    public let bytes: UnsafeRawBufferPointer
    private let origin: Origin

    private enum Origin {
        case owned
        case pooled(UnsafeMutableRawBufferPointer, @Sendable (UnsafeMutableRawBufferPointer) -> Void)
        case mapped(MappedFile)
    }

    /// Copies `source` into a new owned, 64-byte aligned buffer (not zeroed first: for
    /// weights copied at load, a second pass over hundreds of MB shows in the load time).
    public convenience init(copying source: UnsafeRawBufferPointer) {
        self.init(byteCount: source.count, zeroed: false) { buffer in
            if let base = source.baseAddress, source.count > 0 { buffer.baseAddress!.copyMemory(from: base, byteCount: source.count) }
        }
    }

    /// Makes an owned buffer, zeroed, and lets `fill` write it once.
    public convenience init(byteCount: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        try self.init(byteCount: byteCount, zeroed: true, fill: fill)
    }

    private init(byteCount: Int, zeroed: Bool, fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
        if zeroed { buffer.initializeMemory(as: UInt8.self, repeating: 0) }
        let region = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<byteCount])
        do { try fill(region) } catch {
            buffer.deallocate()
            throw error
        }
        bytes = UnsafeRawBufferPointer(region)
        origin = .owned
    }

    /// Uses the first `count` bytes of `buffer`, lent by its owner (a pool, an arena, or
    /// code that mapped it); `release` gives the whole buffer back when this storage is freed.
    public init(
        lending buffer: UnsafeMutableRawBufferPointer, count: Int,
        release: @escaping @Sendable (UnsafeMutableRawBufferPointer) -> Void
    ) {
        precondition(count <= buffer.count, "lent buffer too small")
        bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
        origin = .pooled(buffer, release)
    }

    /// A view of `count` bytes at `offset` in a mapped file; the caller has checked the range.
    public init(mapping file: MappedFile, offset: Int, count: Int) {
        precondition(offset >= 0 && count >= 0 && offset + count <= file.count, "range outside \(file.path)")
        bytes = count == 0
            ? UnsafeRawBufferPointer(start: nil, count: 0)
            : UnsafeRawBufferPointer(rebasing: file.bytes[offset..<(offset + count)])
        origin = .mapped(file)
    }

    public var isMapped: Bool { if case .mapped = origin { true } else { false } }

    /// For a mapped view: lets the OS drop its file pages from memory after the caller made
    /// its own copy (see `MappedFile.dropResidentPages`). Nothing for buffers in memory.
    public func dropResidentPages() {
        guard case .mapped(let file) = origin, let base = bytes.baseAddress, let fileBase = file.bytes.baseAddress else { return }
        let offset = base - fileBase
        file.dropResidentPages(offset..<(offset + bytes.count))
    }
    public var count: Int { bytes.count }

    /// Every mapped file that `tensors` view, each dropped whole from the resident set (see
    /// `MappedFile.dropResidentPages`) in one call: a graph's weights mostly share one file,
    /// and a call per weight, after every optimizer pass, made thousands of madvise calls
    /// per load. Views that are still read fault their pages back in.
    public static func dropResidentFilePages(of tensors: some Sequence<Tensor>) {
        var seen = Set<ObjectIdentifier>()
        for tensor in tensors {
            guard case .mapped(let file) = tensor.storage.origin, seen.insert(ObjectIdentifier(file)).inserted else { continue }
            file.dropResidentPages(0..<file.count)
        }
    }

    /// Writable address of a buffer in memory; `nil` for mapped files, which are read-only.
    public var mutableBaseAddress: UnsafeMutableRawPointer? {
        if case .mapped = origin { return nil }
        return bytes.baseAddress.map { UnsafeMutableRawPointer(mutating: $0) }
    }

    deinit {
        switch origin {
        case .owned: if let base = bytes.baseAddress { UnsafeMutableRawPointer(mutating: base).deallocate() }
        case .pooled(let buffer, let release): release(buffer)
        case .mapped: break
        }
    }
}
