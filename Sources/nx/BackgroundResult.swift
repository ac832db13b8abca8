import Dispatch
import Synchronization

/// A value computed on another thread while the caller does something else, waited for when
/// it is needed; `value()` rethrows the work's error.
final class BackgroundResult<Value: Sendable>: Sendable {
    private let result = Mutex<Result<Value, any Error>?>(nil)
    private let finished = DispatchSemaphore(value: 0)

    init(_ work: @escaping @Sendable () throws -> Value) {
        DispatchQueue.global().async { [self] in
            let outcome = Result { try work() }
            result.withLock { $0 = outcome }
            finished.signal()
        }
    }

    /// Waits for the work (once; later calls return at once).
    func value() throws -> Value {
        let outcome = result.withLock { $0 } ?? {
            finished.wait()
            return result.withLock { $0 }!
        }()
        return try outcome.get()
    }
}
