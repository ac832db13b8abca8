import NXIR
import Synchronization

/// The input shapes and types of a run: runs that share them make the same buffer
/// requests, so they share a memory plan.
struct ShapeSignature: Hashable, Sendable {
    let shapes: [[Int]]
    let types: [DataType]
}

/// A session's memory plans, one per shape signature, and the arenas they place buffers in.
/// The first run of a signature records its requests (from the pool); later runs take their
/// buffers from an arena as planned, each arena lent to one run at a time. Up to
/// `arenaLimit` planned runs go on at once (the session's threads: a caller that runs tiles
/// side by side, one thread each, gets an arena per run); a run that finds every arena
/// taken, or its signature still being recorded, uses the pool, so concurrent runs stay
/// independent.
final class MemoryPlanner: Sendable {
    /// Plans kept at once; beyond that the oldest goes (a session sees few shapes).
    static let planLimit = 8

    let pool: BufferPool
    let arenaLimit: Int
    private let state = Mutex(State())

    private struct State {
        var plans: [ShapeSignature: MemoryPlan] = [:]
        var planOrder: [ShapeSignature] = []
        var recording: Set<ShapeSignature> = []
        var arenas: [Arena] = []
        var busy: [Bool] = []
        var statistics = MemoryStatistics()
    }

    init(pool: BufferPool, arenaLimit: Int = 1) {
        self.pool = pool
        self.arenaLimit = max(1, arenaLimit)
    }

    /// Where the run's buffers come from.
    func begin(_ signature: ShapeSignature) -> any RunMemory {
        enum Choice { case replay(MemoryPlan, Arena, Int), record, besideRecording, pool }
        let limit = arenaLimit
        let choice: Choice = state.withLock { state in
            if let plan = state.plans[signature] {
                guard let index = state.busy.firstIndex(of: false) ?? (state.arenas.count < limit ? state.arenas.count : nil)
                else { return .pool }
                state.statistics.replays += 1
                let arena = Self.arena(index, atLeast: plan.arenaSize, &state)
                state.busy[index] = true
                return .replay(plan, arena, index)
            }
            guard !state.recording.contains(signature) else { return .besideRecording }
            state.recording.insert(signature)
            return .record
        }
        switch choice {
        case .replay(let plan, let arena, let index):
            return PlannedRun(plan: plan, arena: arena, arenaIndex: index, signature: signature, planner: self)
        case .record: return RecordingRun(signature: signature, planner: self)
        case .besideRecording: return RunBesideRecording(pool: pool)
        case .pool: return pool
        }
    }

    /// Stores the plan a recording made (nil: the run failed), makes the first arena big
    /// enough while no run holds it, and frees the pool's idle buffers, which the plan replaces.
    func finishRecording(_ signature: ShapeSignature, plan: MemoryPlan?) {
        state.withLock { state in
            state.recording.remove(signature)
            guard let plan else { return }
            state.statistics.recordings += 1
            if state.plans.updateValue(plan, forKey: signature) == nil { state.planOrder.append(signature) }
            if state.planOrder.count > Self.planLimit { state.plans[state.planOrder.removeFirst()] = nil }
            if state.busy.first != true { _ = Self.arena(0, atLeast: plan.arenaSize, &state) }
        }
        pool.trim()
    }

    /// A planned run is over and none of its buffers in arena `index` is alive any more.
    func returnArena(_ index: Int) {
        state.withLock { state in
            if index < state.busy.count { state.busy[index] = false }
        }
    }

    /// A planned run diverged from its recording (`discard`: in a way that makes the plan
    /// unsafe to keep, such as an arena buffer outliving the run; the next run re-records).
    func noteDivergence(_ signature: ShapeSignature, discard: Bool) {
        state.withLock { state in
            state.statistics.divergences += 1
            guard discard, state.plans.removeValue(forKey: signature) != nil else { return }
            state.planOrder.removeAll { $0 == signature }
        }
    }

    /// A planned request found its range still in use and went to the pool.
    func noteLateRelease() { state.withLock { $0.statistics.lateReleases += 1 } }

    /// Arena `index` (one past the last: a new one), at least `size` bytes. Only called
    /// while no run holds that arena, so one replaced for being small has no live buffers.
    private static func arena(_ index: Int, atLeast size: Int, _ state: inout State) -> Arena {
        if index < state.arenas.count, state.arenas[index].memory.count >= size { return state.arenas[index] }
        let arena = Arena(byteCount: size)
        if index < state.arenas.count {
            state.arenas[index] = arena
        } else {
            state.arenas.append(arena)
            state.busy.append(false)
        }
        state.statistics.arenaAllocations += 1
        state.statistics.arenaBytes += arena.memory.count
        return arena
    }

    var statistics: MemoryStatistics { state.withLock { $0.statistics } }
    /// Bytes of the arenas held now (each as large as the largest plan it has served).
    var arenaSize: Int { state.withLock { $0.arenas.reduce(0) { $0 + $1.memory.count } } }
}

/// What the planner did so far (for tests and `nx bench`).
struct MemoryStatistics: Sendable, Equatable {
    var recordings = 0
    var replays = 0
    var divergences = 0
    var lateReleases = 0
    var arenaAllocations = 0
    var arenaBytes = 0
}

/// One block of memory that planned runs carve their buffers from.
final class Arena: Sendable {
    private struct Memory: @unchecked Sendable { let buffer: UnsafeMutableRawBufferPointer }
    private let storage: Memory
    var memory: UnsafeMutableRawBufferPointer { storage.buffer }

    init(byteCount: Int) { storage = Memory(buffer: PageMemory.allocate(max(byteCount, MemoryPlan.alignment))) }
    deinit { PageMemory.deallocate(storage.buffer) }
}
