import NXIR

/// Removes nodes none of whose outputs reach a graph output, and initializers nothing reads.
/// Keeps the graph's declared outputs and inputs as they are.
struct DeadNodeElimination: GraphPass {
    let name = "dead-nodes"

    func run(on model: inout Model, registry: OperatorRegistry) throws -> Bool {
        var graph = model.graph
        var live = Set(graph.outputs.map(\.name))
        var keep = [Bool](repeating: false, count: graph.nodes.count)
        // Walk backwards from the outputs; topological order makes one sweep enough.
        let order = try graph.topologicalOrder()
        for index in order.reversed() where graph.nodes[index].outputs.contains(where: live.contains) {
            keep[index] = true
            for input in graph.nodes[index].inputs where !input.isEmpty { live.insert(input) }
        }
        let before = (graph.nodes.count, graph.initializers.count)
        graph.nodes = graph.nodes.enumerated().filter { keep[$0.offset] }.map(\.element)
        graph.initializers = graph.initializers.filter { live.contains($0.key) }
        guard (graph.nodes.count, graph.initializers.count) != before else { return false }
        model.graph = graph
        return true
    }
}
