import NXIR

/// Folds an activation into the Conv, Gemm or FusedMatMul that feeds it, when nothing else
/// reads the pre-activation value: the result is written once and activated while in cache.
/// The activation's op type and attributes travel on the fused node as `activation` and
/// `activation_<attribute>`.
struct ActivationFusion: FusionPass {
    let name = "activation-fusion"
    static let activations: Set<String> = ["Relu", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Gelu"]
    private static let fusedNames = ["Conv": "FusedConv", "Gemm": "FusedGemm"]

    func fuseOne(_ model: Model) -> Graph? {
        let graph = model.graph
        let index = GraphIndex(graph)
        for (position, node) in graph.nodes.enumerated() {
            // An ai.nx FusedConv without an activation (one that took a residual Add) too:
            // its activation applies after the residual, as the graph's order says.
            let producesFusable = (node.domain.isEmpty && Self.fusedNames[node.opType] != nil)
                || (node.domain == nxDomain && (node.opType == "FusedMatMul" || node.opType == "FusedConv"))
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
            var result = graph
            result.nodes[position] = fused
            result.nodes.remove(at: activationIndex)
            return result
        }
        return nil
    }
}
