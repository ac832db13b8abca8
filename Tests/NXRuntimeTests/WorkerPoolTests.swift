import Dispatch
import Synchronization
import Testing

@testable import NXRuntime

/// The pool behind `parallelFor`: every chunk runs exactly once, whoever submits and however
/// many chunks there are.
@Suite struct WorkerPoolTests {
    @Test(arguments: [2, 3, 16, 200, 70_000])
    func everyChunkRunsOnce(_ chunks: Int) {
        // Each chunk writes only its own counter; a chunk run twice or never shows.
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: chunks)
        defer { counts.deallocate() }
        counts.initialize(repeating: 0)
        for _ in 0..<20 {
            WorkerPool.shared.run(chunks: chunks) { counts[$0] += 1 }
        }
        #expect(counts.allSatisfy { $0 == 20 })
    }

    /// A pool's first job must reach the worker it starts for it: a worker that took the
    /// generation it saw on starting as already done skipped that job, so a session's kernel
    /// build (one job) ran on one thread. Each chunk here waits until both run at once.
    @Test func firstJobReachesTheNewWorker() {
        for _ in 0..<20 {
            let pool = WorkerPool()
            let arrived = Atomic<Int>(0)
            let met = Atomic<Int>(0)
            pool.run(chunks: 2, threads: 2) { _ in
                arrived.add(1, ordering: .acquiringAndReleasing)
                let deadline = DispatchTime.now().uptimeNanoseconds + 2_000_000_000
                while arrived.load(ordering: .acquiring) < 2 && DispatchTime.now().uptimeNanoseconds < deadline {}
                if arrived.load(ordering: .acquiring) == 2 { met.add(1, ordering: .relaxed) }
            }
            #expect(met.load(ordering: .relaxed) == 2)
        }
    }

    /// Two threads submitting at once: one gets the pool, the other GCD; both finish whole.
    @Test func concurrentSubmittersBothComplete() {
        let total = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<50 {
                let context = ExecutionContext(threads: 2, pool: BufferPool())
                context.parallelFor(1000) { range in total.add(range.count, ordering: .relaxed) }
            }
        }
        #expect(total.load(ordering: .relaxed) == 4 * 50 * 1000)
    }
}
