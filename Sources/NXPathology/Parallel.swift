import Dispatch
import Synchronization

/// Independent pieces of work on up to `threads` threads (GCD's pool), in the calling thread's
/// time: each call returns when every piece is done. One thread, or one piece, runs them in
/// order on the caller.
enum Parallel {
    /// `body(0)` ... `body(count - 1)`, each once; the pieces are claimed in order.
    static func forEach(_ count: Int, threads: Int, _ body: (Int) -> Void) {
        let workers = min(threads, count)
        guard workers > 1 else {
            for index in 0..<count { body(index) }
            return
        }
        let next = Atomic(0)
        withoutActuallyEscaping(body) { body in
            let work = PiecesOfWork(body: body)
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                while true {
                    let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard index < count else { return }
                    work.body(index)
                }
            }
        }
    }

    /// `body` over `0..<count`, results in order; the first piece's error, in index order,
    /// when any throws (every piece still runs).
    static func map<Result, Failure: Error>(
        _ count: Int, threads: Int, _ body: (Int) throws(Failure) -> Result
    ) throws(Failure) -> [Result] {
        var results = [Swift.Result<Result, Failure>?](repeating: nil, count: count)
        results.withUnsafeMutableBufferPointer { slots in
            forEach(count, threads: threads) { index in
                do throws(Failure) { slots[index] = .success(try body(index)) } catch { slots[index] = .failure(error) }
            }
        }
        return try results.map { (slot) throws(Failure) in try slot!.get() }
    }
}

/// Carries the caller's closure into `concurrentPerform`: each piece touches its own data, by
/// `Parallel`'s contract, which is what makes sharing the closure safe.
private struct PiecesOfWork: @unchecked Sendable {
    let body: (Int) -> Void
}
