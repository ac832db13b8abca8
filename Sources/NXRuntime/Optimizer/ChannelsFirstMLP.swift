import NXIR

/// Runs a channels-last island of a channels-first graph in NCHW: `Transpose(0,2,3,1) ->
/// ops on the last axis -> Transpose(0,3,1,2)`, how PyTorch exports timm's ConvNeXt block
/// (LayerNorm, Linear + GELU, Linear, in channels-last). Inside the island, LayerNorm over
/// the last axis becomes ai.nx LayerNormalizationChannels, a FusedMatMul by a constant
/// [K, N] weight becomes a 1x1 FusedConv reading that weight as it is, marked
/// `weight_transposed` (its kernel packs Wᵀ straight from W: a transposed copy was 40% of
/// the load of PyTorch's ConvNeXt-T export), with the same bias and activation; and both
/// transposes go: two full passes over the activations per block.
/// Every value inside must have a single reader; any other op stops the match.
struct ChannelsFirstMLP: LocalFusionPass {
    let name = "channels-first-mlp"

    func match(at startIndex: Int, in model: Model, index: GraphIndex) -> LocalRewrite? {
        let graph = model.graph
        let start = graph.nodes[startIndex]
        guard start.domain.isEmpty, start.opType == "Transpose", start.attributes["perm"]?.intsValue == [0, 2, 3, 1] else {
            return nil
        }
        var chain: [Int] = []
        var value = start.outputs[0]
        var endIndex: Int?
        while let next = index.soleConsumer(value) {
            let node = graph.nodes[next]
            if node.domain.isEmpty && node.opType == "Transpose" && node.attributes["perm"]?.intsValue == [0, 3, 1, 2] {
                endIndex = next
                break
            }
            guard node.inputs.first == value, convertible(node, graph), let output = node.outputs.first else { break }
            chain.append(next)
            value = output
        }
        guard let endIndex, chain.contains(where: { graph.nodes[$0].opType == "FusedMatMul" }) else { return nil }
        var replacements: [Int: Node] = [:]
        for (position, nodeIndex) in chain.enumerated() {
            var node = converted(graph.nodes[nodeIndex])
            if position == 0 { node.inputs[0] = start.inputs[0] }
            if position == chain.count - 1 { node.outputs = graph.nodes[endIndex].outputs }
            replacements[nodeIndex] = node
        }
        return LocalRewrite(replacements: replacements, removed: [startIndex, endIndex])
    }

    private func isLastAxisNorm(_ node: Node) -> Bool {
        let axis = node.attributes["axis"]?.intValue ?? -1
        return node.opType == "LayerNormalization" && (node.domain.isEmpty || node.domain == nxDomain)
            && (axis == -1 || axis == 3) && node.outputs.dropFirst().allSatisfy(\.isEmpty)
    }

    private func convertible(_ node: Node, _ graph: Graph) -> Bool {
        if isLastAxisNorm(node) { return true }
        guard node.domain == nxDomain, node.opType == "FusedMatMul", node.inputs.count == 3,
            let weight = graph.initializers[node.inputs[1]], weight.rank == 2, weight.dataType == .float32,
            weight.sizeProblem == nil
        else { return false }
        return true
    }

    private func converted(_ node: Node) -> Node {
        if isLastAxisNorm(node) {
            var attributes: [String: Attribute] = [:]
            if let epsilon = node.attributes["epsilon"] { attributes["epsilon"] = epsilon }
            return Node(
                name: node.name, opType: "LayerNormalizationChannels", domain: nxDomain, inputs: node.inputs,
                outputs: [node.outputs[0]], attributes: attributes)
        }
        // FusedMatMul(A, W [K, N], b) -> FusedConv(X, W as Wᵀ [N, K, 1, 1], b).
        var fused = node
        fused.opType = "FusedConv"
        fused.attributes["weight_transposed"] = .int(1)
        return fused
    }
}
