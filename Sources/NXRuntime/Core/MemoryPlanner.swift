import NXIR
import Synchronization

/// The input shapes and types of a run: runs that share them make the same buffer
/// requests, so they share a memory plan.
struct ShapeSignature: Hashable, Sendable {
    let shapes: [[Int]]
    let types: [DataType]
}

/// A session's memory plans, one per shape signature, and the one arena they place buffers
/// in. The first run of a signature records its requests (from the pool); later runs take
/// their buffers from the arena as planned, one run at a time. A run that finds the arena
/// taken, or its signature still being recorded, uses the pool, so concurrent runs stay
/// independent.
final class MemoryPlanner: Sendable {
    /// Plans kept at once; beyond that the oldest goes (a session sees few shapes).
    static let planLimit = 8

    let pool: BufferPool
    private let state = Mutex(State())

    private struct State {
        var plans: [ShapeSignature: MemoryPlan] = [:]
        var planOrder: [ShapeSignature] = []
        var recording: Set<ShapeSignature> = []
        var arena: Arena?
        var arenaBusy = false
        var statistics = MemoryStatistics()
    }

    init(pool: BufferPool) { self.pool = pool }

    /// Where the run's buffers come from.
    func begin(_ signature: ShapeSignature) -> any RunMemory {
        enum Choice { case replay(MemoryPlan, Arena), record, pool }
        let choice: Choice = state.withLock { state in
            if let plan = state.plans[signature] {
                guard !state.arenaBusy else { return .pool }
                state.arenaBusy = true
                state.statistics.replays += 1
                return .replay(plan, Self.arena(atLeast: plan.arenaSize, &state))
            }
            guard !state.recording.contains(signature) else { return .pool }
            state.recording.insert(signature)
            return .record
        }
        switch choice {
        case .replay(let plan, let arena): return PlannedRun(plan: plan, arena: arena, signature: signature, planner: self)
        case .record: return RecordingRun(signature: signature, planner: self)
        case .pool: return pool
        }
    }

    /// Stores the plan a recording made (nil: the run failed), makes the arena big enough
    /// while no run holds it, and frees the pool's idle buffers, which the plan replaces.
    func finishRecording(_ signature: ShapeSignature, plan: MemoryPlan?) {
        state.withLock { state in
            state.recording.remove(signature)
            guard let plan else { return }
            state.statistics.recordings += 1
            if state.plans.updateValue(plan, forKey: signature) == nil { state.planOrder.append(signature) }
            if state.planOrder.count > Self.planLimit { state.plans[state.planOrder.removeFirst()] = nil }
            if !state.arenaBusy { _ = Self.arena(atLeast: plan.arenaSize, &state) }
        }
        pool.trim()
    }

    /// A planned run is over and none of its arena buffers is alive any more.
    func returnArena() { state.withLock { $0.arenaBusy = false } }

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

    private static func arena(atLeast size: Int, _ state: inout State) -> Arena {
        if let arena = state.arena, arena.memory.count >= size { return arena }
        // Only called while no run holds the arena, so the old one has no live buffers.
        let arena = Arena(byteCount: size)
        state.arena = arena
        state.statistics.arenaAllocations += 1
        state.statistics.arenaBytes += arena.memory.count
        return arena
    }

    var statistics: MemoryStatistics { state.withLock { $0.statistics } }
    /// Size of the arena held now (the largest plan's).
    var arenaSize: Int { state.withLock { $0.arena?.memory.count ?? 0 } }
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
