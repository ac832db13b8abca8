/// Where each buffer request of a run goes in one arena, planned from a recorded run:
/// the static memory plan of ONNX Runtime's memory patterns and TFLite's arena planner.
///
/// A recorded request has a size and a lifetime on the run's event clock (every request
/// and every release ticks it). Requests whose lifetimes overlap get disjoint byte ranges;
/// others may share. Placement is greedy by size, largest first, each into the smallest gap
/// between the already placed requests it overlaps in time (best fit), which keeps the
/// arena close to the largest set of buffers alive at once. Requests never released during
/// the recorded run (the graph's outputs, which the caller keeps) get no offset: they must
/// come from the pool, since the next run would overwrite them.
struct MemoryPlan: Sendable {
    struct Request: Sendable, Equatable {
        let byteCount: Int
        let start: Int
        /// Release time; nil when the buffer outlived the run.
        let end: Int?
    }

    /// Arena offsets are multiples of this (a cache line, what `BufferPool` aligns to).
    static let alignment = 64

    /// Requested byte counts, by request index, to detect a run that diverges from the plan.
    let byteCounts: [Int]
    /// Arena offset by request index; nil for requests served by the pool.
    let offsets: [Int?]
    let arenaSize: Int

    var requestCount: Int { byteCounts.count }

    static func slotSize(_ byteCount: Int) -> Int {
        max(alignment, (byteCount + alignment - 1) / alignment * alignment)
    }

    init(_ requests: [Request]) {
        byteCounts = requests.map(\.byteCount)
        var offsets = [Int?](repeating: nil, count: requests.count)
        var placed: [(offset: Int, size: Int, start: Int, end: Int)] = []
        let order = requests.indices.filter { requests[$0].end != nil }.sorted {
            let a = requests[$0], b = requests[$1]
            return a.byteCount != b.byteCount ? a.byteCount > b.byteCount : a.start < b.start
        }
        var arenaSize = 0
        for index in order {
            let request = requests[index]
            let size = Self.slotSize(request.byteCount), start = request.start, end = request.end!
            let overlapping = placed.filter { $0.start < end && start < $0.end }.sorted { $0.offset < $1.offset }
            var best: (offset: Int, gap: Int)?
            var cursor = 0
            for other in overlapping {
                let gap = other.offset - cursor
                if gap >= size, best.map({ gap < $0.gap }) ?? true { best = (cursor, gap) }
                cursor = max(cursor, other.offset + other.size)
            }
            let offset = best?.offset ?? cursor
            offsets[index] = offset
            placed.append((offset, size, start, end))
            arenaSize = max(arenaSize, offset + size)
        }
        self.offsets = offsets
        self.arenaSize = arenaSize
    }
}
