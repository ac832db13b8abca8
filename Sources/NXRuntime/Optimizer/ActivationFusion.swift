import NXIR

/// Folds an activation into the Conv, Gemm or FusedMatMul that feeds it, when nothing else
/// reads the pre-activation value: the result is written once and activated while in cache.
/// The activation's op type and attributes travel on the fused node as `activation` and
/// `activation_<attribute>`.
struct ActivationFusion: LocalFusionPass {
    let name = "activation-fusion"
    static let activations: Set<String> = ["Relu", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Gelu"]
    private static let fusedNames = ["Conv": "FusedConv", "Gemm": "FusedGemm"]

    func match(at position: Int, in model: Model, index: GraphIndex) -> LocalRewrite? {
        let graph = model.graph
        let node = graph.nodes[position]
        // An ai.nx FusedConv without an activation (one that took a residual Add) too:
        // its activation applies after the residual, as the graph's order says.
        let producesFusable = (node.domain.isEmpty && Self.fusedNames[node.opType] != nil)
            || (node.domain == nxDomain && (node.opType == "FusedMatMul" || node.opType == "FusedConv"))
        guard producesFusable, node.attributes["activation"] == nil, let output = node.outputs.first,
            let activationIndex = index.soleConsumer(output)
        else { return nil }
        let activation = graph.nodes[activationIndex]
        let isStandard = activation.domain.isEmpty && Self.activations.contains(activation.opType)
            && (activation.opType != "Gelu" || (model.opsetVersion(for: "") ?? 0) >= 20)
        let isOurGelu = activation.domain == nxDomain && activation.opType == "Gelu"
        guard isStandard || isOurGelu else { return nil }
        var fused = node
        fused.opType = Self.fusedNames[node.opType] ?? node.opType
        fused.domain = nxDomain
        fused.outputs = activation.outputs
        fused.attributes["activation"] = .string(activation.opType)
        for (key, value) in activation.attributes { fused.attributes["activation_\(key)"] = value }
        return LocalRewrite(position: position, replacement: fused, removed: [activationIndex])
    }
}
