import NXIR

/// Runs a channels-last island of a channels-first graph in NCHW: `Transpose(0,2,3,1) ->
/// ops on the last axis -> Transpose(0,3,1,2)`, how PyTorch exports timm's ConvNeXt block
/// (LayerNorm, Linear + GELU, Linear, in channels-last). Inside the island, LayerNorm over
/// the last axis becomes ai.nx LayerNormalizationChannels, a FusedMatMul by a constant
/// [K, N] weight becomes a 1x1 FusedConv with the transposed weight [N, K, 1, 1] (same bias
/// and activation), and both transposes go: two full passes over the activations per block.
/// Every value inside must have a single reader; any other op stops the match.
struct ChannelsFirstMLP: FusionPass {
    let name = "channels-first-mlp"

    func fuseOne(_ model: Model) -> Graph? {
        let graph = model.graph
        let index = GraphIndex(graph)
        for (startIndex, start) in graph.nodes.enumerated()
        where start.domain.isEmpty && start.opType == "Transpose" && start.attributes["perm"]?.intsValue == [0, 2, 3, 1] {
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
            guard let endIndex, chain.contains(where: { graph.nodes[$0].opType == "FusedMatMul" }) else { continue }
            var result = graph
            for (position, nodeIndex) in chain.enumerated() {
                var node = converted(graph.nodes[nodeIndex], in: &result)
                if position == 0 { node.inputs[0] = start.inputs[0] }
                if position == chain.count - 1 { node.outputs = graph.nodes[endIndex].outputs }
                result.nodes[nodeIndex] = node
            }
            result.removeNodes([startIndex, endIndex])
            return result
        }
        return nil
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

    private func converted(_ node: Node, in graph: inout Graph) -> Node {
        if isLastAxisNorm(node) {
            var attributes: [String: Attribute] = [:]
            if let epsilon = node.attributes["epsilon"] { attributes["epsilon"] = epsilon }
            return Node(
                name: node.name, opType: "LayerNormalizationChannels", domain: nxDomain, inputs: node.inputs,
                outputs: [node.outputs[0]], attributes: attributes)
        }
        // FusedMatMul(A, W [K, N], b) -> FusedConv(X, Wᵀ [N, K, 1, 1], b).
        let weight = graph.initializers[node.inputs[1]]!
        let (k, n) = (weight.shape[0], weight.shape[1])
        let name = unique("\(node.inputs[1])_channels_first", in: graph)
        graph.initializers[name] = Self.transposed(weight, rows: k, columns: n)
        var fused = node
        fused.opType = "FusedConv"
        fused.inputs = [node.inputs[0], name, node.inputs[2]]
        return fused
    }

    /// W [K, N] as Wᵀ [N, K, 1, 1], read in place (aligned or not) by the Transpose kernel's
    /// tiled transpose and written once: an element-wise transpose through two array copies
    /// took 60% of the load of PyTorch's ConvNeXt-T export.
    static func transposed(_ weight: Tensor, rows k: Int, columns n: Int) -> Tensor {
        let byteCount = k * n * MemoryLayout<Float>.stride
        let buffer = PageMemory.allocate(max(byteCount, MemoryLayout<Float>.stride), populated: true)
        if let source = weight.storage.bytes.baseAddress, byteCount > 0 {
            TransposeKernel.batchedTranspose(
                source, buffer.baseAddress!, batch: 1, rows: k, columns: n, elementSize: MemoryLayout<Float>.stride,
                context: ExecutionContext(threads: 1, pool: BufferPool()))
        }
        let storage = TensorStorage(lending: buffer, count: byteCount) { PageMemory.deallocate($0) }
        return Tensor(dataType: .float32, shape: [n, k, 1, 1], storage: storage)
    }
}
