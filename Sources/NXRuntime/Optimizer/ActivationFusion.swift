import NXIR

/// Folds an activation into the Conv, Gemm or FusedMatMul that feeds it, when nothing else
/// reads the pre-activation value: the result is written once and activated while in cache.
/// The activation's op type and attributes travel on the fused node as `activation` and
/// `activation_<attribute>`.
struct ActivationFusion: GraphPass {
    let name = "activation-fusion"
    static let activations: Set<String> = ["Relu", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Gelu"]
    private static let fusedNames = ["Conv": "FusedConv", "Gemm": "FusedGemm"]

    func run(on model: inout Model, registry: OperatorRegistry) throws -> Bool {
        var graph = model.graph
        var changed = false
        var index = GraphIndex(graph)
        var position = 0
        while position < graph.nodes.count {
            let node = graph.nodes[position]
            defer { position += 1 }
            let producesFusable = (node.domain.isEmpty && Self.fusedNames[node.opType] != nil)
                || (node.domain == nxDomain && node.opType == "FusedMatMul")
            guard producesFusable, node.attributes["activation"] == nil, let output = node.outputs.first,
                let activationIndex = index.soleConsumer(output)
            else { continue }
            let activation = graph.nodes[activationIndex]
            let isStandard = activation.domain.isEmpty && Self.activations.contains(activation.opType)
                && (activation.opType != "Gelu" || (model.opsetVersion(for: "") ?? 0) >= 20)
            let isOurGelu = activation.domain == nxDomain && activation.opType == "Gelu"
            guard isStandard || isOurGelu else { continue }
            var fused = node
            fused.opType = Self.fusedNames[node.opType] ?? node.opType
            fused.domain = nxDomain
            fused.outputs = activation.outputs
            fused.attributes["activation"] = .string(activation.opType)
            for (key, value) in activation.attributes { fused.attributes["activation_\(key)"] = value }
            graph.nodes[position] = fused
            graph.nodes.remove(at: activationIndex)
            if activationIndex < position { position -= 1 }
            index = GraphIndex(graph)
            changed = true
        }
        guard changed else { return false }
        model.graph = graph
        model.importNXDomain()
        return true
    }
}
