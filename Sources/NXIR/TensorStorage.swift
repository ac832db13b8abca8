/// The bytes behind a tensor: either a buffer this object owns, or a read-only region of a
/// memory-mapped file that it keeps alive. Immutable once made, so sharing is safe.
public final class TensorStorage: @unchecked Sendable {
    public let bytes: UnsafeRawBufferPointer
    private let mapping: MappedFile?

    /// Copies `source` into a new owned, 64-byte aligned buffer.
    public init(copying source: UnsafeRawBufferPointer) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(source.count, 1), alignment: 64)
        if let base = source.baseAddress, source.count > 0 {
            buffer.baseAddress!.copyMemory(from: base, byteCount: source.count)
        }
        bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<source.count])
        mapping = nil
    }

    /// Makes an owned zeroed buffer and lets `fill` write it once.
    public init(byteCount: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        let region = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<byteCount])
        do { try fill(region) } catch {
            buffer.deallocate()
            throw error
        }
        bytes = UnsafeRawBufferPointer(region)
        mapping = nil
    }

    /// A view of `count` bytes at `offset` in a mapped file; the caller has checked the range.
    public init(mapping file: MappedFile, offset: Int, count: Int) {
        precondition(offset >= 0 && count >= 0 && offset + count <= file.count, "range outside \(file.path)")
        bytes = count == 0
            ? UnsafeRawBufferPointer(start: nil, count: 0)
            : UnsafeRawBufferPointer(rebasing: file.bytes[offset..<(offset + count)])
        mapping = file
    }

    public var isMapped: Bool { mapping != nil }
    public var count: Int { bytes.count }

    deinit {
        if mapping == nil, let base = bytes.baseAddress { UnsafeMutableRawPointer(mutating: base).deallocate() }
    }
}
