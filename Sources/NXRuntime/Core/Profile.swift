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

/// Time of one node across the runs of a session, for `nx bench --nodes`: where the
/// remaining time sits within an op type (a 7x7-stage GEMM against a 56x56 one).
public struct NodeProfileEntry: Sendable {
    public var node: String
    public var opType: String
    /// Shape of the node's first output in the last run.
    public var outputShape: [Int]
    public var calls: Int
    public var nanoseconds: UInt64
    public var flops: Int
}

final class Profiler: Sendable {
    private struct State {
        var entries: [String: ProfileEntry] = [:]
        var nodes: [Int: NodeProfileEntry] = [:]
    }
    private let state = Mutex(State())
    private let nodesPerOpType: [String: Int]

    init(nodesPerOpType: [String: Int]) { self.nodesPerOpType = nodesPerOpType }

    func record(step: Int, node: String, opType: String, outputShape: [Int], nanoseconds: UInt64, flops: Int) {
        state.withLock { state in
            var entry = state.entries[opType] ?? ProfileEntry(
                opType: opType, nodes: nodesPerOpType[opType] ?? 0, calls: 0, nanoseconds: 0, flops: 0)
            entry.calls += 1
            entry.nanoseconds += nanoseconds
            entry.flops += flops
            state.entries[opType] = entry
            var nodeEntry = state.nodes[step] ?? NodeProfileEntry(
                node: node, opType: opType, outputShape: outputShape, calls: 0, nanoseconds: 0, flops: 0)
            nodeEntry.calls += 1
            nodeEntry.nanoseconds += nanoseconds
            nodeEntry.flops += flops
            nodeEntry.outputShape = outputShape
            state.nodes[step] = nodeEntry
        }
    }

    func reset() { state.withLock { $0 = State() } }

    /// Entries by descending time.
    var entries: [ProfileEntry] { state.withLock { Array($0.entries.values) }.sorted { $0.nanoseconds > $1.nanoseconds } }

    /// Nodes by descending time.
    var nodeEntries: [NodeProfileEntry] { state.withLock { Array($0.nodes.values) }.sorted { $0.nanoseconds > $1.nanoseconds } }
}
