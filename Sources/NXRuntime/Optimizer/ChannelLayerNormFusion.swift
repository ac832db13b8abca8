import NXIR

/// Replaces Transpose(NCHW->NHWC) -> LayerNormalization(last axis) -> Transpose(NHWC->NCHW),
/// how PyTorch exports timm's LayerNorm2d, with one ai.nx LayerNormalizationChannels node
/// that normalizes over C in place in NCHW: two full-tensor transposes saved per norm.
struct ChannelLayerNormFusion: LocalFusionPass {
    let name = "channel-layernorm-fusion"

    func match(at normIndex: Int, in model: Model, index: GraphIndex) -> LocalRewrite? {
        let graph = model.graph
        let norm = graph.nodes[normIndex]
        guard norm.opType == "LayerNormalization", norm.domain.isEmpty, norm.inputs.count >= 2 else { return nil }
        let axis = norm.attributes["axis"]?.intValue ?? -1
        guard axis == -1 || axis == 3, norm.outputs.dropFirst().allSatisfy(\.isEmpty),
            let inIndex = index.producer[norm.inputs[0]], index.hasSingleUse(norm.inputs[0]),
            graph.nodes[inIndex].opType == "Transpose", graph.nodes[inIndex].attributes["perm"]?.intsValue == [0, 2, 3, 1],
            let outIndex = index.soleConsumer(norm.outputs[0]),
            graph.nodes[outIndex].opType == "Transpose", graph.nodes[outIndex].attributes["perm"]?.intsValue == [0, 3, 1, 2]
        else { return nil }
        var attributes: [String: Attribute] = [:]
        if let epsilon = norm.attributes["epsilon"] { attributes["epsilon"] = epsilon }
        let fused = Node(
            name: norm.name.isEmpty ? "\(norm.outputs[0])/channels" : norm.name, opType: "LayerNormalizationChannels",
            domain: nxDomain, inputs: [graph.nodes[inIndex].inputs[0]] + norm.inputs.dropFirst(),
            outputs: [graph.nodes[outIndex].outputs[0]], attributes: attributes)
        return LocalRewrite(position: normIndex, replacement: fused, removed: [inIndex, outIndex])
    }
}
