import NXIR

/// Replaces the LayerNorm subgraph exporters write when LayerNormalization is unavailable
/// (before opset 17, or from TensorFlow):
///   m = ReduceMean(x, last axis); d = x - m; v = ReduceMean(d ^ 2, last axis);
///   y = d / Sqrt(v + eps) [* scale] [+ bias]
/// by one LayerNormalization over the last axis (in the ai.nx domain, which has it at any
/// opset). Only the last axis is matched: without shapes, "last" is the one axis we can
/// name for certain.
struct LayerNormFusion: FusionPass {
    let name = "layernorm-fusion"

    func fuseOne(_ model: Model) -> Graph? {
        let graph = model.graph
        let index = GraphIndex(graph)
        func node(_ i: Int) -> Node { graph.nodes[i] }
        func isOp(_ i: Int, _ op: String) -> Bool { node(i).opType == op && node(i).domain.isEmpty }
        func reducesLastAxis(_ i: Int) -> Bool {
            guard isOp(i, "ReduceMean"), (node(i).attributes["keepdims"]?.intValue ?? 1) == 1 else { return false }
            if let axes = node(i).attributes["axes"]?.intsValue { return axes == [-1] }
            if node(i).inputs.count > 1, let axes = try? graph.initializers[node(i).inputs[1]]?.intValues() { return axes == [-1] }
            return false
        }
        func consumers(_ value: String) -> [Int] { index.consumers[value] ?? [] }

        for (meanIndex, _) in graph.nodes.enumerated() where reducesLastAxis(meanIndex) {
            let x = node(meanIndex).inputs[0]
            let mean = node(meanIndex).outputs[0]
            guard let subIndex = index.soleConsumer(mean), isOp(subIndex, "Sub"), node(subIndex).inputs == [x, mean] else { continue }
            let centered = node(subIndex).outputs[0]
            // d feeds exactly Pow(d, 2) and the final Div.
            let readers = consumers(centered)
            guard readers.count == 2, !index.graphOutputs.contains(centered),
                let powIndex = readers.first(where: { isOp($0, "Pow") }), let divIndex = readers.first(where: { isOp($0, "Div") }),
                node(powIndex).inputs[0] == centered, graph.scalarConstant(node(powIndex).inputs[1]) == 2,
                node(divIndex).inputs[0] == centered,
                let varianceIndex = index.soleConsumer(node(powIndex).outputs[0]), reducesLastAxis(varianceIndex),
                let addIndex = index.soleConsumer(node(varianceIndex).outputs[0]), isOp(addIndex, "Add"),
                let epsilonName = node(addIndex).inputs.first(where: { $0 != node(varianceIndex).outputs[0] }),
                let epsilon = graph.scalarConstant(epsilonName),
                let sqrtIndex = index.soleConsumer(node(addIndex).outputs[0]), isOp(sqrtIndex, "Sqrt"),
                node(divIndex).inputs[1] == node(sqrtIndex).outputs[0], index.hasSingleUse(node(sqrtIndex).outputs[0])
            else { continue }
            var removed: Set<Int> = [meanIndex, subIndex, powIndex, varianceIndex, addIndex, sqrtIndex, divIndex]
            var output = node(divIndex).outputs[0]
            var scale: String?
            var bias: String?
            if let mulIndex = index.soleConsumer(output), isOp(mulIndex, "Mul"),
                let other = node(mulIndex).inputs.first(where: { $0 != output }), graph.initializers[other] != nil {
                scale = other
                removed.insert(mulIndex)
                output = node(mulIndex).outputs[0]
                if let biasIndex = index.soleConsumer(output), isOp(biasIndex, "Add"),
                    let other = node(biasIndex).inputs.first(where: { $0 != output }), graph.initializers[other] != nil {
                    bias = other
                    removed.insert(biasIndex)
                    output = node(biasIndex).outputs[0]
                }
            }
            var result = graph
            if scale == nil {
                // LayerNormalization needs a scale; without one the width is unknown here, so
                // leave such graphs alone rather than guess it.
                continue
            }
            result.nodes[meanIndex] = Node(
                name: "\(output)/layernorm", opType: "LayerNormalization", domain: nxDomain,
                inputs: [x, scale!] + (bias.map { [$0] } ?? []), outputs: [output],
                attributes: ["axis": .int(-1), "epsilon": .float(epsilon)])
            removed.remove(meanIndex)
            result.removeNodes(removed)
            return result
        }
        return nil
    }
}
