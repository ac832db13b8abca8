#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Buffers for tensors and packed weights. Large ones are whole anonymous mappings, so
/// freeing one gives its pages back to the OS at once: malloc keeps freed heap chunks
/// resident, which would make the peak memory of a run depend on the order in which sizes
/// were freed.
enum PageMemory {
    /// From this size on, buffers are mapped (below it malloc's free lists serve well).
    static let mappedThreshold = 256 << 10

    /// `count` bytes, 64-byte aligned (page-aligned when mapped), contents undefined.
    /// `populated`: the pages are faulted in by the one call, which costs less than a fault
    /// per page when the caller is about to write all of them (a weight copied at load).
    static func allocate(_ count: Int, populated: Bool = false) -> UnsafeMutableRawBufferPointer {
        guard count >= mappedThreshold else { return .allocate(byteCount: max(count, 1), alignment: 64) }
        let flags = MAP_PRIVATE | MAP_ANONYMOUS | (populated ? MAP_POPULATE : 0)
        // Transparent huge pages (madvise) were tried for packed weights: ConvNeXt-B then
        // loaded in 0.39 to 1.3 s, against 0.5, in this VM.
        return UnsafeMutableRawBufferPointer(start: map(count, flags: flags), count: count)
    }

    /// Frees what `allocate` returned, with the same count.
    static func deallocate(_ buffer: UnsafeMutableRawBufferPointer) {
        if buffer.count >= mappedThreshold {
            munmap(buffer.baseAddress, buffer.count)
        } else {
            buffer.deallocate()
        }
    }

    private static func map(_ count: Int, flags: Int32) -> UnsafeMutableRawPointer {
        let address = mmap(nil, count, PROT_READ | PROT_WRITE, flags, -1, 0)
        guard let address, address != MAP_FAILED else {
            fatalError("out of memory: cannot map \(count) bytes for a tensor buffer (\(String(cString: strerror(errno))))")
        }
        return address
    }
}

/// Floats in a buffer of their own from `PageMemory`, written once when made and read-only
/// after: the packed form of a weight.
final class PackedBuffer: @unchecked Sendable {
    let count: Int
    private let memory: UnsafeMutableRawBufferPointer

    /// `fill` must write all `count` floats.
    init(count: Int, fill: (UnsafeMutablePointer<Float>) -> Void) {
        self.count = count
        memory = PageMemory.allocate(max(count, 1) * MemoryLayout<Float>.stride, populated: true)
        fill(memory.baseAddress!.bindMemory(to: Float.self, capacity: max(count, 1)))
    }

    deinit { PageMemory.deallocate(memory) }

    var pointer: UnsafePointer<Float> { UnsafePointer(memory.baseAddress!.assumingMemoryBound(to: Float.self)) }
}
