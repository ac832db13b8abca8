import NXIR

/// ConvNeXt as an ONNX graph, computing exactly timm's forward in NCHW:
/// stem Conv 4x4/4 + LayerNorm2d; per stage (after the first) LayerNorm2d + Conv 2x2/2;
/// blocks of depthwise Conv 7x7 -> LayerNorm over channels -> 1x1 Conv to 4C -> exact GELU
/// -> 1x1 Conv to C -> layer scale -> residual; head GAP -> LayerNorm -> Linear.
///
/// Parameters carry timm's names ("stages.1.blocks.0.mlp.fc1.weight"), so a timm state
/// dict maps onto them one to one; the MLP's Linear weights live as 1x1 convolution weights
/// [4C, C, 1, 1] and gamma as [C, 1, 1] (same elements, reshaped on import). LayerNorm over
/// channels is written as Transpose -> LayerNormalization -> Transpose, the standard opset-17
/// form that every runtime reads (ours fuses it back into one op).
public enum ConvNeXt {
    public enum Head: Sendable, Equatable {
        case classifier(numClasses: Int)
        /// The four stage outputs, named feature0 ... feature3.
        case features
    }

    /// ImageNet normalization timm's ConvNeXt weights expect (the graph takes normalized input).
    public static let inputMean: [Float] = [0.485, 0.456, 0.406]
    public static let inputStd: [Float] = [0.229, 0.224, 0.225]

    public static func model(
        _ config: ConvNeXtConfig, head: Head = .classifier(numClasses: 1000), inputSize: Int? = 224,
        parameters: inout some ParameterSource, opset: Int = Model.defaultOpset
    ) throws -> Model {
        let b = GraphBuilder(name: "convnext_\(config.variant)", opset: opset)
        let input = b.input("input", shape: ["batch", 3, inputSize.map(Dimension.fixed) ?? "height", inputSize.map(Dimension.fixed) ?? "width"])
        let features = try encoder(b, input: input, config: config, parameters: &parameters)
        var outputs: [String]
        switch head {
        case .features:
            outputs = []
            for (index, feature) in features.enumerated() {
                b.output(feature, name: "feature\(index)")
                outputs.append("feature\(index)")
            }
        case .classifier(let numClasses):
            let logits = try classifierHead(b, features[3], channels: config.dims[3], numClasses: numClasses, config: config, parameters: &parameters)
            b.output(logits, name: "logits", shape: ["batch", .fixed(numClasses)])
            outputs = ["logits"]
        }
        var metadata = [
            "nx.family": "convnext", "nx.variant": config.variant,
            "nx.input_mean": inputMean.map { "\($0)" }.joined(separator: ","),
            "nx.input_std": inputStd.map { "\($0)" }.joined(separator: ","),
            "nx.output_names": outputs.joined(separator: ","),
        ]
        if let inputSize { metadata["nx.input_size"] = "\(inputSize)" }
        return b.model(metadata: metadata, docString: "ConvNeXt-\(config.variant) (timm layout)")
    }

    /// The four stage outputs (strides 4, 8, 16, 32) of the encoder, built into `b`.
    public static func encoder(
        _ b: GraphBuilder, input: Value, config: ConvNeXtConfig, parameters: inout some ParameterSource
    ) throws -> [Value] {
        var x = try b.scoped("stem") {
            let conv = try convolution(b, input, "0", out: config.dims[0], in: 3, kernel: 4, stride: 4, parameters: &parameters)
            return try channelLayerNorm(b, conv, "1", channels: config.dims[0], epsilon: config.epsilon, parameters: &parameters)
        }
        var features: [Value] = []
        for stage in 0..<4 {
            x = try b.scoped("stages.\(stage)") {
                var y = x
                if stage > 0 {
                    try b.scoped("downsample") {
                        y = try channelLayerNorm(b, y, "0", channels: config.dims[stage - 1], epsilon: config.epsilon, parameters: &parameters)
                        y = try convolution(b, y, "1", out: config.dims[stage], in: config.dims[stage - 1], kernel: 2, stride: 2, parameters: &parameters)
                    }
                }
                for block in 0..<config.depths[stage] {
                    y = try b.scoped("blocks.\(block)") {
                        try convNeXtBlock(b, y, channels: config.dims[stage], config: config, parameters: &parameters)
                    }
                }
                return y
            }
            features.append(x)
        }
        return features
    }

    static func convNeXtBlock(
        _ b: GraphBuilder, _ x: Value, channels: Int, config: ConvNeXtConfig, parameters: inout some ParameterSource
    ) throws -> Value {
        let hidden = channels * config.mlpRatio
        var y = try convolution(b, x, "conv_dw", out: channels, in: channels, kernel: 7, stride: 1, padding: 3, group: channels, parameters: &parameters)
        y = try channelLayerNorm(b, y, "norm", channels: channels, epsilon: config.epsilon, parameters: &parameters)
        y = try b.scoped("mlp") {
            let h = b.gelu(try convolution(b, y, "fc1", out: hidden, in: channels, kernel: 1, stride: 1, parameters: &parameters))
            return try convolution(b, h, "fc2", out: channels, in: hidden, kernel: 1, stride: 1, parameters: &parameters)
        }
        let gamma = try parameters.parameter(b.qualified("gamma"), shape: [channels], initializer: .constant(config.layerScaleInit))
        y = b.mul(y, b.initializer("gamma", gamma.reshaped([channels, 1, 1])))
        return b.add(y, x)
    }

    static func classifierHead(
        _ b: GraphBuilder, _ x: Value, channels: Int, numClasses: Int, config: ConvNeXtConfig, parameters: inout some ParameterSource
    ) throws -> Value {
        try b.scoped("head") {
            let pooled = b.flatten(b.globalAveragePool(x), axis: 1)
            let normed = try b.scoped("norm") {
                let scale = b.initializer("weight", try parameters.parameter(b.qualified("weight"), shape: [channels], initializer: .ones))
                let bias = b.initializer("bias", try parameters.parameter(b.qualified("bias"), shape: [channels], initializer: .zeros))
                return b.layerNormalization(pooled, scale: scale, bias: bias, axis: -1, epsilon: config.epsilon)
            }
            return try b.scoped("fc") {
                let weight = b.initializer("weight", try parameters.parameter(b.qualified("weight"), shape: [numClasses, channels], initializer: .truncatedNormal(std: 0.02)))
                let bias = b.initializer("bias", try parameters.parameter(b.qualified("bias"), shape: [numClasses], initializer: .zeros))
                return b.gemm(normed, weight, bias, transB: true)
            }
        }
    }
}

/// Layers shared by the model builders, with timm's parameter names and initialisation.

/// Conv2d with bias, parameters "<name>.weight" [out, in/group, k, k] and "<name>.bias".
func convolution(
    _ b: GraphBuilder, _ x: Value, _ name: String, out: Int, in channels: Int, kernel: Int, stride: Int, padding: Int = 0,
    group: Int = 1, bias: Bool = true, parameters: inout some ParameterSource
) throws -> Value {
    try b.scoped(name) {
        let weight = b.initializer("weight", try parameters.parameter(
            b.qualified("weight"), shape: [out, channels / group, kernel, kernel], initializer: .truncatedNormal(std: 0.02)))
        let biasValue = bias
            ? b.initializer("bias", try parameters.parameter(b.qualified("bias"), shape: [out], initializer: .zeros)) : nil
        return b.conv(x, weight, bias: biasValue, strides: [stride, stride], pads: [padding, padding, padding, padding], group: group)
    }
}

/// timm's LayerNorm2d: LayerNorm over the channels of an NCHW tensor, parameters
/// "<name>.weight" and "<name>.bias" [C].
func channelLayerNorm(
    _ b: GraphBuilder, _ x: Value, _ name: String, channels: Int, epsilon: Float, parameters: inout some ParameterSource
) throws -> Value {
    try b.scoped(name) {
        let scale = b.initializer("weight", try parameters.parameter(b.qualified("weight"), shape: [channels], initializer: .ones))
        let bias = b.initializer("bias", try parameters.parameter(b.qualified("bias"), shape: [channels], initializer: .zeros))
        let nhwc = b.transpose(x, perm: [0, 2, 3, 1])
        let normed = b.layerNormalization(nhwc, scale: scale, bias: bias, axis: -1, epsilon: epsilon)
        return b.transpose(normed, perm: [0, 3, 1, 2])
    }
}
