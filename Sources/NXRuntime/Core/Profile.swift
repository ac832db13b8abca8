import Synchronization

/// Time per op type across the runs of a session, for `nx bench`.
public struct ProfileEntry: Sendable {
    public var opType: String
    /// Nodes of this op type in the graph.
    public var nodes: Int
    public var calls: Int
    public var nanoseconds: UInt64
    public var flops: Int
}

final class Profiler: Sendable {
    private struct State {
        var entries: [String: ProfileEntry] = [:]
    }
    private let state = Mutex(State())
    private let nodesPerOpType: [String: Int]

    init(nodesPerOpType: [String: Int]) { self.nodesPerOpType = nodesPerOpType }

    func record(opType: String, nanoseconds: UInt64, flops: Int) {
        state.withLock { state in
            var entry = state.entries[opType] ?? ProfileEntry(
                opType: opType, nodes: nodesPerOpType[opType] ?? 0, calls: 0, nanoseconds: 0, flops: 0)
            entry.calls += 1
            entry.nanoseconds += nanoseconds
            entry.flops += flops
            state.entries[opType] = entry
        }
    }

    func reset() { state.withLock { $0.entries = [:] } }

    /// Entries by descending time.
    var entries: [ProfileEntry] { state.withLock { Array($0.entries.values) }.sorted { $0.nanoseconds > $1.nanoseconds } }
}
