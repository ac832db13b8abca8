import NXIR
import Synchronization

/// Where a run's kernels get their output buffers: the pool, or a memory plan's arena.
protocol BufferSource: Sendable {
    /// Storage of `count` bytes whose contents are undefined: kernels write every element
    /// they return.
    func storage(byteCount count: Int) -> TensorStorage
}

/// Recycles tensor buffers between nodes and between runs. A tensor's storage gives its
/// buffer back here when the last reference goes away, so once a session has run a given
/// input shape, later runs of that shape take every buffer from the pool and allocate none.
/// Sizes are rounded up (64 B, or 4 KiB past 64 KiB) so near-equal requests share buffers.
/// Runs with a memory plan take only their outputs from here (see `MemoryPlanner`).
final class BufferPool: BufferSource {
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

    func storage(byteCount count: Int) -> TensorStorage {
        lend(take(byteCount: count), count: count) { _ in }
    }

    /// Storage over a buffer from `take`, which goes back to the pool when the storage is
    /// freed, after `released` has seen it.
    func lend(
        _ memory: UnsafeMutableRawBufferPointer, count: Int,
        released: @escaping @Sendable (UnsafeMutableRawBufferPointer) -> Void
    ) -> TensorStorage {
        TensorStorage(lending: memory, count: count) { [self] memory in
            released(memory)
            let buffer = Buffer(memory: memory)
            state.withLock { $0.free[memory.count, default: []].append(buffer) }
        }
    }

    /// A buffer of at least `count` bytes, reused when one of that rounded size is free.
    /// `trimmingOnMiss`: when none is, first free every idle buffer, so that memory held
    /// stays near what is live (a first run, whose sizes the pool has not seen, would
    /// otherwise keep one buffer of each size it ever asked for).
    func take(byteCount count: Int, trimmingOnMiss: Bool = false) -> UnsafeMutableRawBufferPointer {
        let size = Self.roundedSize(count)
        let (reused, idle): (Buffer?, [Buffer]) = state.withLock { state in
            if let buffer = state.free[size]?.popLast() { return (buffer, []) }
            state.allocations += 1
            state.bytesAllocated += size
            return (nil, trimmingOnMiss ? Self.removeAll(&state) : [])
        }
        for buffer in idle { PageMemory.deallocate(buffer.memory) }
        return reused?.memory ?? PageMemory.allocate(size)
    }

    /// Frees every idle buffer (used after a memory plan took over the run's buffers).
    func trim() {
        for buffer in state.withLock({ Self.removeAll(&$0) }) { PageMemory.deallocate(buffer.memory) }
    }

    private static func removeAll(_ state: inout State) -> [Buffer] {
        defer { state.free.removeAll() }
        return state.free.values.flatMap { $0 }
    }

    /// Buffers made so far (not reuses): flat after warm-up means no steady-state allocation.
    var allocationCount: Int { state.withLock { $0.allocations } }
    var bytesAllocated: Int { state.withLock { $0.bytesAllocated } }

    deinit { trim() }
}
