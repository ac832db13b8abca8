import NXIR

/// Folds a pre-activation BatchNormalization -> Relu pair into the convolution that reads it
/// (DenseNet and HoVer-Net's dense layers: `Conv(ReLU(BN(x)))`), when the statistics are
/// constants and nothing else reads the BN or ReLU outputs. The result is an ai.nx FusedConv
/// with two more inputs, the per-channel `input_scale` and `input_shift` of the BN, and
/// `input_activation = "Relu"`; the kernel applies them while copying its input into the
/// padded layout it needs anyway, so the two full passes over the input disappear.
struct PreActivationFusion: FusionPass {
    let name = "preactivation-fusion"

    func fuseOne(_ model: Model) -> Graph? {
        let graph = model.graph
        let index = GraphIndex(graph)
        for (convIndex, conv) in graph.nodes.enumerated() {
            let isConv = conv.isConvolution
            guard isConv, conv.attributes["input_activation"] == nil, conv.inputs.count >= 2, conv.inputs.count <= 3,
                let reluIndex = index.producer[conv.inputs[0]], index.soleConsumer(conv.inputs[0]) == convIndex
            else { continue }
            let relu = graph.nodes[reluIndex]
            guard relu.domain.isEmpty, relu.opType == "Relu", let normIndex = index.producer[relu.inputs[0]],
                index.soleConsumer(relu.inputs[0]) == reluIndex
            else { continue }
            let norm = graph.nodes[normIndex]
            guard norm.domain.isEmpty, norm.opType == "BatchNormalization", norm.inputs.count == 5,
                norm.outputs.dropFirst().allSatisfy(\.isEmpty), (norm.attributes["training_mode"]?.intValue ?? 0) == 0,
                let gamma = try? graph.initializers[norm.inputs[1]]?.floatValues(),
                let beta = try? graph.initializers[norm.inputs[2]]?.floatValues(),
                let mean = try? graph.initializers[norm.inputs[3]]?.floatValues(),
                let variance = try? graph.initializers[norm.inputs[4]]?.floatValues(),
                [beta.count, mean.count, variance.count].allSatisfy({ $0 == gamma.count })
            else { continue }
            let epsilon = norm.attributes["epsilon"]?.floatValue ?? 1e-5
            let scale = zip(gamma, variance).map { $0 / ($1 + epsilon).squareRoot() }
            let shift = (0..<gamma.count).map { beta[$0] - mean[$0] * scale[$0] }
            var result = graph
            let scaleName = unique("\(conv.label)_input_scale", in: result)
            result.initializers[scaleName] = Tensor(shape: [scale.count], scalars: scale)
            let shiftName = unique("\(conv.label)_input_shift", in: result)
            result.initializers[shiftName] = Tensor(shape: [shift.count], scalars: shift)
            var fused = conv
            fused.opType = "FusedConv"
            fused.domain = nxDomain
            fused.inputs = [norm.inputs[0], conv.inputs[1], conv.inputs.count > 2 ? conv.inputs[2] : "", scaleName, shiftName]
            fused.attributes["input_activation"] = .string("Relu")
            result.nodes[convIndex] = fused
            result.nodes.remove(at: max(reluIndex, normIndex))
            result.nodes.remove(at: min(reluIndex, normIndex))
            return result
        }
        return nil
    }
}
