import NXIR

/// MatMul by a constant 2-D weight followed by Add of a constant bias along the last axis
/// (how PyTorch exports nn.Linear on a tensor of rank > 2) becomes one ai.nx FusedMatMul,
/// which adds the bias while each output row is still in cache.
struct MatMulBiasFusion: LocalFusionPass {
    let name = "matmul-bias-fusion"

    func match(at position: Int, in model: Model, index: GraphIndex) -> LocalRewrite? {
        let graph = model.graph
        let node = graph.nodes[position]
        guard node.opType == "MatMul", node.domain.isEmpty, node.inputs.count == 2,
            let weight = graph.initializers[node.inputs[1]], weight.rank == 2, weight.dataType == .float32,
            let addIndex = index.soleConsumer(node.outputs[0]),
            graph.nodes[addIndex].opType == "Add", graph.nodes[addIndex].domain.isEmpty,
            let biasName = graph.nodes[addIndex].inputs.first(where: { $0 != node.outputs[0] }),
            let bias = graph.initializers[biasName], bias.dataType == .float32,
            bias.elementCount == weight.shape[1], bias.rank <= 1
        else { return nil }
        var fused = node
        fused.opType = "FusedMatMul"
        fused.domain = nxDomain
        fused.inputs = node.inputs + [biasName]
        fused.outputs = graph.nodes[addIndex].outputs
        return LocalRewrite(position: position, replacement: fused, removed: [addIndex])
    }
}
