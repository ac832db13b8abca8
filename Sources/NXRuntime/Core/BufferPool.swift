import NXIR
import Synchronization

/// Recycles tensor buffers between nodes and between runs. A tensor's storage gives its
/// buffer back here when the last reference goes away, so once a session has run a given
/// input shape, later runs of that shape take every buffer from the pool and allocate none.
/// Sizes are rounded up (64 B, or 4 KiB past 64 KiB) so near-equal requests share buffers.
final class BufferPool: Sendable {
    private struct Buffer: @unchecked Sendable { let memory: UnsafeMutableRawBufferPointer }
    private struct State {
        var free: [Int: [Buffer]] = [:]
        var allocations = 0
        var bytesAllocated = 0
    }
    private let state = Mutex(State())

    static func roundedSize(_ count: Int) -> Int {
        let granule = count > 65536 ? 4096 : 64
        return max(granule, (count + granule - 1) / granule * granule)
    }

    /// A buffer of at least `count` bytes, wrapped in storage that returns it when freed.
    /// Its contents are undefined: kernels write every element they return.
    func storage(byteCount count: Int) -> TensorStorage {
        let size = Self.roundedSize(count)
        let reused: Buffer? = state.withLock { state in
            if let buffer = state.free[size]?.popLast() { return buffer }
            state.allocations += 1
            state.bytesAllocated += size
            return nil
        }
        let memory = reused?.memory ?? UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
        return TensorStorage(lending: memory, count: count) { [self] memory in
            let buffer = Buffer(memory: memory)
            state.withLock { $0.free[memory.count, default: []].append(buffer) }
        }
    }

    /// Buffers made so far (not reuses): flat after warm-up means no steady-state allocation.
    var allocationCount: Int { state.withLock { $0.allocations } }
    var bytesAllocated: Int { state.withLock { $0.bytesAllocated } }

    deinit {
        state.withLock { state in
            for buffers in state.free.values { for buffer in buffers { buffer.memory.deallocate() } }
        }
    }
}
