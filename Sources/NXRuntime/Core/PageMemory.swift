#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Buffers for tensors. Large ones are whole anonymous mappings, so freeing one gives its
/// pages back to the OS at once: malloc keeps freed heap chunks resident, which would make
/// the peak memory of a run depend on the order in which sizes were freed.
enum PageMemory {
    /// From this size on, buffers are mapped (below it malloc's free lists serve well).
    static let mappedThreshold = 256 << 10

    /// `count` bytes, 64-byte aligned (page-aligned when mapped), contents undefined.
    /// `populated`: the pages are faulted in by the one call, which costs less than a fault
    /// per page when the caller is about to write all of them (a weight copied at load).
    static func allocate(_ count: Int, populated: Bool = false) -> UnsafeMutableRawBufferPointer {
        guard count >= mappedThreshold else { return .allocate(byteCount: max(count, 1), alignment: 64) }
        let flags = MAP_PRIVATE | MAP_ANONYMOUS | (populated ? MAP_POPULATE : 0)
        let address = mmap(nil, count, PROT_READ | PROT_WRITE, flags, -1, 0)
        guard let address, address != MAP_FAILED else {
            fatalError("out of memory: cannot map \(count) bytes for a tensor buffer (\(String(cString: strerror(errno))))")
        }
        return UnsafeMutableRawBufferPointer(start: address, count: count)
    }

    /// Frees what `allocate` returned, with the same count.
    static func deallocate(_ buffer: UnsafeMutableRawBufferPointer) {
        if buffer.count >= mappedThreshold {
            munmap(buffer.baseAddress, buffer.count)
        } else {
            buffer.deallocate()
        }
    }
}
