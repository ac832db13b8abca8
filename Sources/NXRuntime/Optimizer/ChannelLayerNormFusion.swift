import NXIR

/// Replaces Transpose(NCHW->NHWC) -> LayerNormalization(last axis) -> Transpose(NHWC->NCHW),
/// how PyTorch exports timm's LayerNorm2d, with one ai.nx LayerNormalizationChannels node
/// that normalizes over C in place in NCHW: two full-tensor transposes saved per norm.
struct ChannelLayerNormFusion: FusionPass {
    let name = "channel-layernorm-fusion"

    func fuseOne(_ model: Model) -> Graph? {
        let graph = model.graph
        let index = GraphIndex(graph)
        for (normIndex, norm) in graph.nodes.enumerated()
        where norm.opType == "LayerNormalization" && norm.domain.isEmpty && norm.inputs.count >= 2 {
            let axis = norm.attributes["axis"]?.intValue ?? -1
            guard axis == -1 || axis == 3, norm.outputs.dropFirst().allSatisfy(\.isEmpty),
                let inIndex = index.producer[norm.inputs[0]], index.hasSingleUse(norm.inputs[0]),
                graph.nodes[inIndex].opType == "Transpose", graph.nodes[inIndex].attributes["perm"]?.intsValue == [0, 2, 3, 1],
                let outIndex = index.soleConsumer(norm.outputs[0]),
                graph.nodes[outIndex].opType == "Transpose", graph.nodes[outIndex].attributes["perm"]?.intsValue == [0, 3, 1, 2]
            else { continue }
            var result = graph
            var attributes: [String: Attribute] = [:]
            if let epsilon = norm.attributes["epsilon"] { attributes["epsilon"] = epsilon }
            result.nodes[normIndex] = Node(
                name: norm.name.isEmpty ? "\(norm.outputs[0])/channels" : norm.name, opType: "LayerNormalizationChannels",
                domain: nxDomain, inputs: [graph.nodes[inIndex].inputs[0]] + norm.inputs.dropFirst(),
                outputs: [graph.nodes[outIndex].outputs[0]], attributes: attributes)
            result.removeNodes([inIndex, outIndex])
            return result
        }
        return nil
    }
}
