import CPUHints
import Dispatch
import Foundation
import Synchronization

/// The threads behind `ExecutionContext.parallelFor`: persistent workers that spin briefly
/// between jobs, so the next op's chunks start within a microsecond instead of waiting for
/// GCD to wake a thread (10-20 µs a call, which made small ops slower on 2 threads than on
/// one). Like OpenMP's and ONNX Runtime's pools, a worker spins for about 100 µs after its
/// last chunk, then sleeps until the next job.
///
/// One job at a time: the submitting thread publishes the job, claims chunks itself like any
/// worker, and returns when all are done, so a job never waits for a worker that is asleep or
/// busy elsewhere. A second thread submitting meanwhile (concurrent runs, nested loops) gets
/// GCD's `concurrentPerform` instead.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// The claim word: generation (32 bits) | chunk count (16) | next chunk to claim (16).
    /// One word, so a worker holding a stale generation can never claim a chunk of a newer
    /// job (its compare-exchange fails).
    private let claim = Atomic<UInt64>(0)
    private let completed = Atomic<Int>(0)
    /// Address of the current job's body, valid while any of its chunks is unfinished.
    private let job = Atomic<UInt>(0)
    private let submitting = Mutex(false)
    private let wakeUp = NSCondition()
    private let workerCount = Mutex(0)
    private static let spinLimit = 4096  // pauses: about 100 µs on this class of CPU
    static let maximumChunks = 0xFFFF
    static let maximumWorkers = 63

    private typealias Body = (Int) -> Void

    /// Runs `body(chunk)` for every chunk in `0..<chunks` on up to `min(chunks, threads)`
    /// threads (this one included), returning when all have finished.
    func run(chunks: Int, threads: Int = .max, _ body: (Int) -> Void) {
        if chunks <= 1 {
            if chunks == 1 { body(0) }
            return
        }
        // More chunks than the claim word counts (an absurd --threads) go to GCD too.
        let acquired = chunks <= Self.maximumChunks && submitting.withLock { busy -> Bool in
            if busy { return false }
            busy = true
            return true
        }
        guard acquired else {
            withoutActuallyEscaping(body) { body in
                let work = UncheckedBox(body)
                DispatchQueue.concurrentPerform(iterations: chunks) { work.value($0) }
            }
            return
        }
        defer { submitting.withLock { $0 = false } }
        // Workers claim chunks as they go, so a few can serve any chunk count.
        startWorkers(upTo: min(min(chunks, threads) - 1, Self.maximumWorkers))
        withoutActuallyEscaping(body) { body in
            var box: Body = body
            withUnsafeMutablePointer(to: &box) { pointer in
                job.store(UInt(bitPattern: pointer), ordering: .relaxed)
                completed.store(0, ordering: .relaxed)
                let generation = (claim.load(ordering: .relaxed) >> 32) &+ 1
                claim.store((generation << 32) | (UInt64(chunks) << 16), ordering: .releasing)
                wakeUp.lock()
                wakeUp.broadcast()
                wakeUp.unlock()
                runChunks(generation: generation)
                while completed.load(ordering: .acquiring) < chunks { nx_spin_pause() }
            }
        }
    }

    /// Claims and runs chunks of `generation`'s job until none is left.
    private func runChunks(generation: UInt64) {
        var value = claim.load(ordering: .acquiring)
        while value >> 32 == generation {
            let count = (value >> 16) & 0xFFFF, next = value & 0xFFFF
            if next >= count { return }
            let (exchanged, original) = claim.compareExchange(
                expected: value, desired: value + 1, ordering: .acquiringAndReleasing)
            if exchanged {
                let body = UnsafeMutablePointer<Body>(bitPattern: job.load(ordering: .acquiring))!
                body.pointee(Int(next))
                completed.add(1, ordering: .releasing)
                value = claim.load(ordering: .acquiring)
            } else {
                value = original
            }
        }
    }

    private func startWorkers(upTo wanted: Int) {
        workerCount.withLock { count in
            // The job about to be published is newer than this generation. A worker that read
            // the generation itself once running could read the new job's and skip it as seen.
            let seen = claim.load(ordering: .acquiring) >> 32
            while count < wanted {
                let thread = Thread { [unowned self] in self.work(seen: seen) }
                thread.name = "nx-worker-\(count)"
                thread.start()
                count += 1
            }
        }
    }

    /// `seen`: the last generation published before this worker was started.
    private func work(seen start: UInt64) {
        var seen = start
        while true {
            var spins = 0
            var value = claim.load(ordering: .acquiring)
            while value >> 32 == seen {
                if spins < Self.spinLimit {
                    nx_spin_pause()
                    spins += 1
                } else {
                    wakeUp.lock()
                    while claim.load(ordering: .acquiring) >> 32 == seen { wakeUp.wait() }
                    wakeUp.unlock()
                }
                value = claim.load(ordering: .acquiring)
            }
            seen = value >> 32
            runChunks(generation: seen)
        }
    }
}
