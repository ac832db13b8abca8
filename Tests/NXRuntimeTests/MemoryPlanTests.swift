import Foundation
import NXTestSupport
import Synchronization
import Testing
import NXIR
@testable import NXRuntime

/// The static memory plan (`MemoryPlan`, `MemoryPlanner`): outputs equal to runs without a
/// plan, never overwritten by later runs, safe under concurrency and when a run departs
/// from the recording.
@Suite struct MemoryPlanTests {
    /// Convolutions, a residual, a concat of values with different lifetimes, a MatMul, and
    /// three outputs: one a value other nodes also read, one a view (Reshape) of another.
    private func branchyModel() -> Model {
        var random = SeededRandom(seed: 11)
        func weights(_ shape: [Int]) -> Tensor {
            Tensor(shape: shape, scalars: (0..<elementCount(shape)).map { _ in Float.random(in: -0.5...0.5, using: &random) })
        }
        let b = GraphBuilder(opset: 17)
        let x = b.input("x", shape: ["batch", 4, 6, 6])
        let c1 = b.conv(x, b.initializer("w1", weights([8, 4, 3, 3])), bias: b.initializer("b1", weights([8])), pads: [1, 1, 1, 1])
        let r1 = b.relu(c1)
        let s = b.add(b.conv(r1, b.initializer("w2", weights([8, 8, 1, 1]))), r1)
        let pooled = b.flatten(b.globalAveragePool(b.concat([s, r1, c1], axis: 1)))
        b.output(b.matMul(pooled, b.initializer("wm", weights([24, 5]))), name: "logits")
        b.output(s, name: "features")
        b.output(b.reshape(r1, [-1, 288]), name: "activations")
        return b.model()
    }

    private func input(batch: Int, seed: UInt64) -> [String: Tensor] {
        var random = SeededRandom(seed: seed)
        let count = batch * 4 * 36
        return ["x": Tensor(shape: [batch, 4, 6, 6], scalars: (0..<count).map { _ in Float.random(in: -1...1, using: &random) })]
    }

    private func bytes(_ outputs: [String: Tensor]) -> [String: [UInt8]] {
        outputs.mapValues { $0.withUnsafeBytes(Array.init) }
    }

    @Test func plannedRunsEqualUnplannedAcrossShapes() throws {
        let planned = try Session(model: branchyModel(), options: SessionOptions(threads: 2))
        let unplanned = try Session(model: branchyModel(), options: SessionOptions(threads: 2, planMemory: false))
        let batches = [1, 2, 1, 3, 2, 2, 1, 3]
        for (round, batch) in batches.enumerated() {
            let feeds = input(batch: batch, seed: UInt64(round))
            #expect(bytes(try planned.run(feeds)) == bytes(try unplanned.run(feeds)), "round \(round), batch \(batch)")
        }
        let statistics = planned.memoryStatistics
        #expect(statistics.recordings == 3)
        #expect(statistics.replays == batches.count - 3)
        #expect(statistics.divergences == 0)
        #expect(unplanned.memoryStatistics == MemoryStatistics())
    }

    @Test func outputsOfEarlierRunsAreNotOverwritten() throws {
        let session = try Session(model: branchyModel(), options: SessionOptions(threads: 1))
        let first = try session.run(input(batch: 2, seed: 1))
        let firstBytes = bytes(first)
        var later: [String: Tensor] = [:]
        for seed in 2..<6 { later = try session.run(input(batch: 2, seed: UInt64(seed))) }
        #expect(session.memoryStatistics.replays == 4)
        #expect(bytes(first) == firstBytes)
        for name in firstBytes.keys { #expect(bytes(later)[name] != firstBytes[name], "\(name)") }
    }

    @Test func concurrentPlannedRunsAreCorrect() async throws {
        let session = try Session(model: branchyModel(), options: SessionOptions(threads: 2))
        let reference = try Session(model: branchyModel(), options: SessionOptions(threads: 1, planMemory: false))
        let expected = try (0..<8).map { task in bytes(try reference.run(input(batch: 2, seed: UInt64(task)))) }
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for _ in 0..<20 {
                        guard bytes(try session.run(input(batch: 2, seed: UInt64(task)))) == expected[task] else { return false }
                    }
                    return true
                }
            }
            for try await ok in group { #expect(ok) }
        }
        // One recording, however the runs interleaved; the arena is free again afterwards.
        let replays = session.memoryStatistics.replays
        #expect(bytes(try session.run(input(batch: 2, seed: 3))) == expected[3])
        #expect(session.memoryStatistics.recordings == 1)
        #expect(session.memoryStatistics.replays == replays + 1)
    }

    /// Runs side by side on one thread each (`Session.run(_:threads:)`, as `Segmenter` runs
    /// tiles) each get an arena of their own, up to one per session thread: every run after
    /// the recording replays the plan, none falls back to the pool.
    @Test func runsSideBySideEachGetAnArena() throws {
        let session = try Session(model: branchyModel(), options: SessionOptions(threads: 2))
        let reference = try Session(model: branchyModel(), options: SessionOptions(threads: 1, planMemory: false))
        let expected = try (0..<2).map { bytes(try reference.run(input(batch: 2, seed: UInt64($0)))) }
        #expect(bytes(try session.run(input(batch: 2, seed: 0))) == expected[0])
        let rounds = 10
        let matches = Mutex(0)
        for _ in 0..<rounds {
            DispatchQueue.concurrentPerform(iterations: 2) { task in
                let outputs = try? session.run(input(batch: 2, seed: UInt64(task)), threads: 1)
                if let outputs, bytes(outputs) == expected[task] { matches.withLock { $0 += 1 } }
            }
        }
        #expect(matches.withLock { $0 } == 2 * rounds)
        let statistics = session.memoryStatistics
        #expect(statistics.recordings == 1 && statistics.replays == 2 * rounds && statistics.divergences == 0)
        #expect(statistics.arenaAllocations <= 2)
    }

    /// ConstantOfShape's output size follows an input's values, which the shape signature
    /// does not see: a run with other values departs from the plan and uses the pool.
    @Test func runsThatDivergeFallBackToThePool() throws {
        let b = GraphBuilder(opset: 17)
        let n = b.input("n", .int64, shape: [1])
        let filled = b.node("ConstantOfShape", [n], attributes: ["value": .tensor(Tensor(shape: [1], scalars: [Float(1.5)]))])[0]
        b.output(b.relu(b.add(filled, filled)), name: "y")
        let session = try Session(model: b.model(), options: SessionOptions(threads: 1))
        func run(_ count: Int) throws -> [Float] {
            try session.run(["n": Tensor(shape: [1], scalars: [Int64(count)])])["y"]!.scalars(as: Float.self)
        }
        #expect(try run(4) == [Float](repeating: 3, count: 4))
        #expect(try run(4) == [Float](repeating: 3, count: 4))
        #expect(session.memoryStatistics.divergences == 0)
        #expect(try run(8) == [Float](repeating: 3, count: 8))
        #expect(session.memoryStatistics.divergences == 1)
        // The plan stays, and the arena was given back.
        #expect(try run(4) == [Float](repeating: 3, count: 4))
        #expect(session.memoryStatistics == MemoryStatistics(recordings: 1, replays: 3, divergences: 1, arenaAllocations: 1, arenaBytes: session.memoryStatistics.arenaBytes))
    }

    /// A run whose buffers live longer than recorded must not be handed a range that a
    /// live buffer still uses; the plan goes on for the requests after it.
    @Test func liveBuffersAreNeverShared() throws {
        // 0 lives [0, 2), 1 lives [1, 4), 2 lives [3, 5), 3 lives [5, 6): 2 and 3 may reuse 0's range.
        let plan = MemoryPlan([
            .init(byteCount: 256, start: 0, end: 2), .init(byteCount: 256, start: 1, end: 4),
            .init(byteCount: 256, start: 3, end: 5), .init(byteCount: 256, start: 5, end: 6),
        ])
        #expect(plan.offsets[2] == plan.offsets[0] && plan.offsets[3] == plan.offsets[0])
        #expect(plan.arenaSize == 512)
        let planner = MemoryPlanner(pool: BufferPool())
        let arena = Arena(byteCount: plan.arenaSize)
        let run = PlannedRun(plan: plan, arena: arena, arenaIndex: 0, signature: ShapeSignature(shapes: [], types: []), planner: planner)
        func range(_ storage: TensorStorage) -> Range<Int> {
            let start = Int(bitPattern: storage.bytes.baseAddress!)
            return start..<(start + storage.count)
        }
        let arenaRange = range(TensorStorage(lending: arena.memory, count: arena.memory.count) { _ in })
        var first: TensorStorage? = run.storage(byteCount: 256)
        let second = run.storage(byteCount: 256)
        let third = run.storage(byteCount: 256)  // `first` is still alive: not its range
        #expect(!range(third).overlaps(range(first!)) && !range(third).overlaps(range(second)))
        #expect(!arenaRange.contains(range(third).lowerBound))
        #expect(planner.statistics.lateReleases == 1 && planner.statistics.divergences == 0)
        let firstRange = range(first!)
        first = nil
        let fourth = run.storage(byteCount: 256)
        #expect(range(fourth) == firstRange && arenaRange.contains(firstRange.lowerBound))
        run.finish(completed: true)
    }

    @Test func planSeparatesOverlappingLifetimes() {
        var random = SeededRandom(seed: 5)
        for _ in 0..<50 {
            let requests = (0..<60).map { index in
                let start = index * 2
                let end: Int? = Int.random(in: 0..<10, using: &random) == 0 ? nil : start + Int.random(in: 1...30, using: &random)
                return MemoryPlan.Request(byteCount: Int.random(in: 1...5000, using: &random), start: start, end: end)
            }
            let plan = MemoryPlan(requests)
            var peakLive = 0
            for time in 0..<200 {
                let live = requests.filter { $0.end != nil && $0.start <= time && time < $0.end! }
                peakLive = max(peakLive, live.reduce(0) { $0 + MemoryPlan.slotSize($1.byteCount) })
            }
            #expect(plan.arenaSize >= peakLive)
            for (i, a) in requests.enumerated() {
                guard let offset = plan.offsets[i] else {
                    #expect(a.end == nil)
                    continue
                }
                #expect(offset % MemoryPlan.alignment == 0 && offset + a.byteCount <= plan.arenaSize)
                for (j, b) in requests.enumerated() where j > i {
                    guard let other = plan.offsets[j], a.start < b.end!, b.start < a.end! else { continue }
                    #expect(!(offset..<(offset + a.byteCount)).overlaps(other..<(other + b.byteCount)), "requests \(i) and \(j)")
                }
            }
        }
    }

    /// The recording heap never lends a live range twice, reuses and merges freed ones (so
    /// the pages a first run touches stay near its live peak), and outlives its buffers.
    @Test func recordingHeapReusesFreedRanges() throws {
        var random = SeededRandom(seed: 8)
        var heap: RecordingHeap? = try #require(RecordingHeap(reserving: 1 << 24))
        weak let watched = heap
        var live: [(storage: TensorStorage, fill: UInt8)] = []
        var peakLive = 0
        for step in 0..<400 {
            if !live.isEmpty, Int.random(in: 0..<5, using: &random) < 2 {
                let victim = live.remove(at: Int.random(in: 0..<live.count, using: &random))
                #expect(victim.storage.bytes.allSatisfy { $0 == victim.fill }, "step \(step): a live buffer was overwritten")
            }
            let count = Int.random(in: 1...70_000, using: &random)
            let storage = try #require(heap!.storage(byteCount: count) { _ in })
            let fill = UInt8(truncatingIfNeeded: step)
            storage.mutableBaseAddress!.initializeMemory(as: UInt8.self, repeating: fill, count: storage.count)
            live.append((storage, fill))
            peakLive = max(peakLive, live.reduce(0) { $0 + MemoryPlan.slotSize($1.storage.count) })
        }
        for buffer in live { #expect(buffer.storage.bytes.allSatisfy { $0 == buffer.fill }) }
        // First fit keeps the touched range within a small factor of the live peak.
        #expect(heap!.highWater < 2 * peakLive)
        // Pages no live buffer uses go back to the OS (a range carved from them reads as
        // zeros); the live buffers keep their contents.
        do {
            let kept = live.removeLast()
            live.removeAll()
            heap!.releaseUnusedPages()
            #expect(kept.storage.bytes.allSatisfy { $0 == kept.fill })
            let touched = heap!.highWater
            let reused = try #require(heap!.storage(byteCount: 1 << 20) { _ in })
            // Carved from pages the loop wrote, not from fresh ones, which read as zeros anyway.
            #expect(heap!.highWater == touched)
            let page = Int(sysconf(Int32(_SC_PAGESIZE)))
            let base = Int(bitPattern: reused.bytes.baseAddress!)
            let firstWholePage = (base + page - 1) / page * page - base
            #expect(reused.bytes[firstWholePage..<(firstWholePage + page)].allSatisfy { $0 == 0 })
        }
        // Everything freed: one range again, so a request of the whole reservation fits.
        live.removeAll()
        #expect(heap!.storage(byteCount: 1 << 24) { _ in } != nil)
        #expect(heap!.storage(byteCount: (1 << 24) + 1) { _ in } == nil)
        // A buffer keeps its heap alive after the last other reference goes.
        var last = heap!.storage(byteCount: 64) { _ in }
        heap = nil
        #expect(watched != nil)
        last = nil
        #expect(watched == nil && last == nil)
    }
}
