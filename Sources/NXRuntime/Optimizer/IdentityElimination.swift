import NXIR

/// Removes Identity nodes and inference-mode Dropout nodes whose mask nobody reads, wiring
/// their readers to the input. When the node's output is a graph output, the producer of
/// its input is renamed instead, so the graph keeps its output names.
struct IdentityElimination: GraphPass {
    let name = "identity"

    func run(on model: inout Model, registry: OperatorRegistry) throws -> Bool {
        var graph = model.graph
        var changed = false
        var index = 0
        while index < graph.nodes.count {
            let node = graph.nodes[index]
            guard isPassThrough(node, graph: graph), let input = node.inputs.first, !input.isEmpty else {
                index += 1
                continue
            }
            let output = node.outputs[0]
            let outputs = Set(graph.outputs.map(\.name))
            if outputs.contains(output) {
                // Only safe when the input is a node output used nowhere else and not itself an output.
                let index2 = GraphIndex(graph)
                guard let producer = index2.producer[input], index2.hasSingleUse(input) else {
                    index += 1
                    continue
                }
                graph.nodes[producer].outputs = graph.nodes[producer].outputs.map { $0 == input ? output : $0 }
            } else {
                graph.replaceUses(of: output, with: input)
            }
            graph.nodes.remove(at: index)
            changed = true
        }
        if changed { model.graph = graph }
        return changed
    }

    private func isPassThrough(_ node: Node, graph: Graph) -> Bool {
        guard node.domain.isEmpty else { return false }
        switch node.opType {
        case "Identity": return true
        case "Dropout":
            // Training mode (opset 12+ input 2) changes values; a read mask needs the kernel.
            let maskUnused = node.outputs.count < 2 || node.outputs[1].isEmpty
                || !graph.nodes.contains { $0.inputs.contains(node.outputs[1]) } && !graph.outputs.contains { $0.name == node.outputs[1] }
            let trainingOff = node.inputs.count < 3 || node.inputs[2].isEmpty
                || (graph.initializers[node.inputs[2]].flatMap { try? $0.intValues().first } == 0)
            return maskUnused && trainingOff
        default: return false
        }
    }
}
