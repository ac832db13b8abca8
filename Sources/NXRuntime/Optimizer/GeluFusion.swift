import NXIR

/// Replaces the exact-GELU subgraph exporters write before opset 20,
/// x * 0.5 * (1 + erf(x / sqrt 2)) — with the division as Mul by 1/sqrt 2, and the three
/// multiplications in any of the orders PyTorch and TensorFlow emit — by one ai.nx Gelu node.
struct GeluFusion: LocalFusionPass {
    let name = "gelu-fusion"

    private func near(_ value: Float?, _ target: Float) -> Bool {
        guard let value else { return false }
        return abs(value - target) <= 1e-4 * abs(target)
    }

    func match(at erfIndex: Int, in model: Model, index: GraphIndex) -> LocalRewrite? {
        let graph = model.graph
        func node(_ i: Int) -> Node { graph.nodes[i] }
        func isOp(_ i: Int, _ op: String) -> Bool { node(i).opType == op && node(i).domain.isEmpty }
        /// For a binary node reading `value` and a constant, the constant's value.
        func otherConstant(_ i: Int, besides value: String) -> Float? {
            let inputs = node(i).inputs
            guard inputs.count == 2 else { return nil }
            if inputs[0] == value { return graph.scalarConstant(inputs[1]) }
            if inputs[1] == value { return graph.scalarConstant(inputs[0]) }
            return nil
        }
        func otherInput(_ i: Int, besides value: String) -> String? {
            let inputs = node(i).inputs
            guard inputs.count == 2 else { return nil }
            return inputs[0] == value ? inputs[1] : inputs[1] == value ? inputs[0] : nil
        }

        guard isOp(erfIndex, "Erf") else { return nil }
        let erf = graph.nodes[erfIndex]
        // x / sqrt 2  or  x * (1 / sqrt 2)
        guard let scaleIndex = index.producer[erf.inputs[0]], index.hasSingleUse(erf.inputs[0]) else { return nil }
        let scaled = node(scaleIndex)
        let x: String
        if isOp(scaleIndex, "Div"), near(graph.scalarConstant(scaled.inputs[1]), Float(2).squareRoot()) {
            x = scaled.inputs[0]
        } else if isOp(scaleIndex, "Mul"), let input = scaled.inputs.first(where: { graph.scalarConstant($0) == nil }),
            near(otherConstant(scaleIndex, besides: input), 1 / Float(2).squareRoot()) {
            x = input
        } else { return nil }
        // 1 + erf(...)
        guard let addIndex = index.soleConsumer(erf.outputs[0]), isOp(addIndex, "Add"),
            near(otherConstant(addIndex, besides: erf.outputs[0]), 1)
        else { return nil }
        let onePlus = node(addIndex).outputs[0]
        guard let firstIndex = index.soleConsumer(onePlus), isOp(firstIndex, "Mul"),
            let firstOther = otherInput(firstIndex, besides: onePlus)
        else { return nil }
        let first = node(firstIndex).outputs[0]
        var removed: Set<Int> = [scaleIndex, erfIndex, addIndex, firstIndex]
        var output: String
        if firstOther == x {
            // (x * (1 + erf)) * 0.5
            guard let lastIndex = index.soleConsumer(first), isOp(lastIndex, "Mul"), near(otherConstant(lastIndex, besides: first), 0.5)
            else { return nil }
            removed.insert(lastIndex)
            output = node(lastIndex).outputs[0]
        } else if near(graph.scalarConstant(firstOther), 0.5) {
            // ((1 + erf) * 0.5) * x
            guard let lastIndex = index.soleConsumer(first), isOp(lastIndex, "Mul"), otherInput(lastIndex, besides: first) == x
            else { return nil }
            removed.insert(lastIndex)
            output = node(lastIndex).outputs[0]
        } else if let halfIndex = index.producer[firstOther], index.hasSingleUse(firstOther), isOp(halfIndex, "Mul"),
            otherInput(halfIndex, besides: x) != nil, near(otherConstant(halfIndex, besides: x), 0.5) {
            // (x * 0.5) * (1 + erf)
            removed.insert(halfIndex)
            output = first
        } else { return nil }
        let label = erf.name.isEmpty ? output : erf.name
        removed.remove(erfIndex)
        return LocalRewrite(
            position: erfIndex, replacement: Node(name: "\(label)/gelu", opType: "Gelu", domain: nxDomain, inputs: [x], outputs: [output]),
            removed: removed)
    }
}
