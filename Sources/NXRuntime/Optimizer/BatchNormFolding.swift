import NXIR

/// Folds an inference BatchNormalization into the Conv that feeds it, when the Conv's
/// weights and the statistics are constants and nothing else reads the Conv's output:
/// W' = W * g / sqrt(v + eps) per output channel, B' = (B - m) * g / sqrt(v + eps) + b.
/// (The same rewrite as ONNX Runtime's conv_bn_fusion.)
struct BatchNormFolding: GraphPass {
    let name = "batchnorm-folding"

    func run(on model: inout Model, registry: OperatorRegistry) throws -> Bool {
        var changed = false
        while let rewritten = try foldOne(model.graph) {
            model.graph = rewritten
            changed = true
        }
        return changed
    }

    private func foldOne(_ graph: Graph) throws -> Graph? {
        let index = GraphIndex(graph)
        for (normIndex, norm) in graph.nodes.enumerated() where norm.opType == "BatchNormalization" && norm.domain.isEmpty {
            guard norm.inputs.count == 5, norm.outputs.count == 1 || norm.outputs.dropFirst().allSatisfy(\.isEmpty),
                (norm.attributes["training_mode"]?.intValue ?? 0) == 0,
                let convIndex = index.producer[norm.inputs[0]], index.hasSingleUse(norm.inputs[0]),
                graph.nodes[convIndex].opType == "Conv", graph.nodes[convIndex].domain.isEmpty
            else { continue }
            let conv = graph.nodes[convIndex]
            guard conv.inputs.count >= 2, let weight = graph.initializers[conv.inputs[1]], weight.dataType == .float32,
                let scale = try? graph.initializers[norm.inputs[1]]?.floatValues(),
                let shift = try? graph.initializers[norm.inputs[2]]?.floatValues(),
                let mean = try? graph.initializers[norm.inputs[3]]?.floatValues(),
                let variance = try? graph.initializers[norm.inputs[4]]?.floatValues()
            else { continue }
            let channels = weight.shape[0]
            guard [scale.count, shift.count, mean.count, variance.count].allSatisfy({ $0 == channels }) else { continue }
            var bias = [Float](repeating: 0, count: channels)
            if conv.inputs.count > 2, !conv.inputs[2].isEmpty {
                guard let existing = try? graph.initializers[conv.inputs[2]]?.floatValues(), existing.count == channels else { continue }
                bias = existing
            }
            let epsilon = norm.attributes["epsilon"]?.floatValue ?? 1e-5
            var weights = try weight.floatValues()
            let perChannel = weights.count / channels
            for channel in 0..<channels {
                let factor = scale[channel] / (variance[channel] + epsilon).squareRoot()
                for offset in 0..<perChannel { weights[channel * perChannel + offset] *= factor }
                bias[channel] = (bias[channel] - mean[channel]) * factor + shift[channel]
            }
            var result = graph
            // New names: the originals may be shared with other nodes.
            let weightName = unique("\(conv.inputs[1])_bn_folded", in: result)
            result.initializers[weightName] = Tensor(shape: weight.shape, scalars: weights)
            let biasName = unique("\(conv.label)_bn_folded_bias", in: result)
            result.initializers[biasName] = Tensor(shape: [channels], scalars: bias)
            var fused = conv
            fused.inputs = [conv.inputs[0], weightName, biasName]
            fused.outputs = [norm.outputs[0]]
            result.nodes[convIndex] = fused
            result.nodes.remove(at: normIndex)
            return result
        }
        return nil
    }
}

/// `base`, or `base_N`, whichever no value of the graph uses yet.
func unique(_ base: String, in graph: Graph) -> String {
    let used = Set(graph.initializers.keys).union(graph.nodes.flatMap(\.outputs)).union(graph.inputs.map(\.name))
    var candidate = base
    var suffix = 1
    while used.contains(candidate) {
        candidate = "\(base)_\(suffix)"
        suffix += 1
    }
    return candidate
}
