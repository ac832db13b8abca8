import Dispatch
import NXIR

/// What a kernel gets while running: output allocation and parallel loops sized to the
/// session's thread count. One per `Session.run`, so concurrent runs share nothing mutable
/// except the thread-safe buffer pool (and the memory planner, which lends each of its
/// arenas to one run at a time).
public final class ExecutionContext: @unchecked Sendable {
    public let threads: Int
    let buffers: any BufferSource

    /// This context on one thread (same buffers): for work inside a parallel loop.
    func singleThreaded() -> ExecutionContext {
        threads == 1 ? self : ExecutionContext(threads: 1, pool: buffers)
    }

    init(threads: Int, pool buffers: any BufferSource) {
        self.threads = max(1, threads)
        self.buffers = buffers
    }

    /// A new tensor whose contents the caller must fully write before returning it.
    public func allocate(_ type: DataType, _ shape: [Int]) -> (tensor: Tensor, data: UnsafeMutableRawPointer) {
        let count = elementCount(shape) * (type.byteSize ?? 1)
        let storage = buffers.storage(byteCount: count)
        return (Tensor(dataType: type, shape: shape, storage: storage), storage.mutableBaseAddress!)
    }

    /// A float32 tensor and a typed pointer to fill it.
    public func allocateFloats(_ shape: [Int]) -> (tensor: Tensor, data: UnsafeMutablePointer<Float>) {
        let (tensor, data) = allocate(.float32, shape)
        return (tensor, data.assumingMemoryBound(to: Float.self))
    }

    /// Runs `body` over `0..<count` split into at most `threads` contiguous chunks of at
    /// least `grain` items each; sequential when that gives one chunk.
    public func parallelFor(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = min(threads, max(1, count / max(grain, 1)))
        if chunks <= 1 {
            body(0..<count)
            return
        }
        WorkerPool.shared.run(chunks: chunks) { chunk in
            let start = count * chunk / chunks
            let end = count * (chunk + 1) / chunks
            if start < end { body(start..<end) }
        }
    }
}

extension ExecutionContext {
    /// Runs `body(index)` for every index in `0..<count`, each claimed by whichever of the
    /// session's threads is free next: for items of uneven cost, or many more items than
    /// threads, where fixed contiguous shares would leave one thread waiting for the other.
    func parallelForEach(_ count: Int, _ body: (Int) -> Void) {
        if threads == 1 || count <= 1 {
            for index in 0..<count { body(index) }
        } else {
            WorkerPool.shared.run(chunks: count, threads: threads, body)
        }
    }
}

/// Carries a non-Sendable closure into `concurrentPerform`, whose iterations each call it on
/// a disjoint range: the kernels' own partitioning is what makes that safe.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
