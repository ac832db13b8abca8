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
