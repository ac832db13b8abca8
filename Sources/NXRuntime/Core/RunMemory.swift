import NXIR
import Synchronization

/// The buffers of one `Session.run`: told when the run is over, after the run dropped
/// every tensor but the outputs it returns.
protocol RunMemory: BufferSource {
    func finish(completed: Bool)
}

/// Runs without a plan take buffers from the pool and have nothing to finish.
extension BufferPool: RunMemory {
    func finish(completed: Bool) {}
}

/// A run that began while its signature was still being recorded (runs side by side from
/// the start): buffers from the pool, trimming it on a miss, and its idle buffers freed when
/// it is over. The recording trims the pool when it finishes, which can be before this run
/// does; without this, a whole run's buffers would sit idle in the pool for the session's
/// life beside the plan's arena.
final class RunBesideRecording: RunMemory {
    private let pool: BufferPool

    init(pool: BufferPool) { self.pool = pool }

    func storage(byteCount count: Int) -> TensorStorage {
        pool.lend(pool.take(byteCount: count, trimmingOnMiss: true), count: count) { _ in }
    }

    func finish(completed: Bool) { pool.trim() }
}

/// The first run of a signature: buffers from a `RecordingHeap` (or, past it, from the pool,
/// trimming it on a miss, so this run holds little more than its live buffers), every
/// request and release on one clock.
final class RecordingRun: RunMemory {
    private struct State {
        var clock = 0
        var requests: [(byteCount: Int, start: Int, end: Int?)] = []
        var finished = false
    }
    private let state = Mutex(State())
    private let signature: ShapeSignature
    private let planner: MemoryPlanner
    private let heap = RecordingHeap()

    init(signature: ShapeSignature, planner: MemoryPlanner) {
        self.signature = signature
        self.planner = planner
    }

    func storage(byteCount count: Int) -> TensorStorage {
        let index = state.withLock { state in
            state.requests.append((count, state.clock, nil))
            state.clock += 1
            return state.requests.count - 1
        }
        let released: @Sendable (UnsafeMutableRawBufferPointer) -> Void = { [self] _ in
            state.withLock { state in
                guard !state.finished else { return }  // released by the caller, after the run
                state.requests[index].end = state.clock
                state.clock += 1
            }
        }
        if let storage = heap?.storage(byteCount: count, released: released) { return storage }
        let memory = planner.pool.take(byteCount: count, trimmingOnMiss: true)
        return planner.pool.lend(memory, count: count, released: released)
    }

    func finish(completed: Bool) {
        let requests = state.withLock { state in
            state.finished = true
            return state.requests
        }
        heap?.releaseUnusedPages()
        let plan = completed ? MemoryPlan(requests.map { MemoryPlan.Request(byteCount: $0.byteCount, start: $0.start, end: $0.end) }) : nil
        planner.finishRecording(signature, plan: plan)
    }
}

/// A run with a plan: request i gets the arena range the plan gives it, checked against the
/// buffers still alive (so a run whose lifetimes differ from the recording cannot overwrite
/// a live buffer: that request goes to the pool). Requests the plan sends to the pool
/// (outputs) go there; after the first request that disagrees with the recording (size or
/// count), all the rest do.
final class PlannedRun: RunMemory {
    private struct State {
        var next = 0
        var diverged = false
        var live: [Int: Range<Int>] = [:]
        var finished = false
    }
    private let state = Mutex(State())
    private let plan: MemoryPlan
    private let arena: Arena
    private let arenaIndex: Int
    private let signature: ShapeSignature
    private let planner: MemoryPlanner

    init(plan: MemoryPlan, arena: Arena, arenaIndex: Int, signature: ShapeSignature, planner: MemoryPlanner) {
        self.plan = plan
        self.arena = arena
        self.arenaIndex = arenaIndex
        self.signature = signature
        self.planner = planner
    }

    func storage(byteCount count: Int) -> TensorStorage {
        enum Outcome { case arena(Int, Range<Int>), pool, stillInUse, unplanned(diverging: Bool) }
        let outcome: Outcome = state.withLock { state in
            let index = state.next
            state.next += 1
            if state.diverged { return .unplanned(diverging: false) }
            guard index < plan.requestCount, plan.byteCounts[index] == count else {
                state.diverged = true
                return .unplanned(diverging: true)
            }
            guard let offset = plan.offsets[index] else { return .pool }
            let range = offset..<(offset + MemoryPlan.slotSize(count))
            // A buffer released just before this request in the recording may be freed a
            // moment later this time (the last reference to a tensor can sit in a closure
            // that a worker thread of `parallelFor` drops): this one request then goes to
            // the pool, and the plan holds for the rest.
            guard !state.live.values.contains(where: { $0.overlaps(range) }) else { return .stillInUse }
            state.live[index] = range
            return .arena(index, range)
        }
        switch outcome {
        case .arena(let index, let range):
            return TensorStorage(lending: UnsafeMutableRawBufferPointer(rebasing: arena.memory[range]), count: count) { [self] _ in
                let last = state.withLock { state in
                    state.live[index] = nil
                    return state.finished && state.live.isEmpty
                }
                if last { planner.returnArena(arenaIndex) }
            }
        case .pool:
            return planner.pool.storage(byteCount: count)
        case .stillInUse:
            planner.noteLateRelease()
            return planner.pool.storage(byteCount: count)
        case .unplanned(let diverging):
            // The rest of this run is unplanned: trimming keeps its memory near what is
            // live, as in a recording, instead of one idle buffer per size it meets.
            if diverging { planner.noteDivergence(signature, discard: false) }
            let memory = planner.pool.take(byteCount: count, trimmingOnMiss: true)
            return planner.pool.lend(memory, count: count) { _ in }
        }
    }

    func finish(completed: Bool) {
        let idle = state.withLock { state in
            state.finished = true
            return state.live.isEmpty
        }
        if !idle {
            // An arena buffer outlived the run (the recording said it would not): the arena
            // comes back when it is freed, and this signature is recorded afresh.
            planner.noteDivergence(signature, discard: true)
        } else {
            planner.returnArena(arenaIndex)
        }
    }
}
