import NXIR

/// The two decoder branches and their blocks, in the reference's module structure
/// (DenseDecoder, TypeDecoder, DenseBlock, ConvCAM, ChannelAttention), so every initializer
/// gets the reference's state-dict name. Callers open the "decoder" / "tp" scope.
extension HistoNeXt {
    /// Shared NP/HV decoder; per stage s: up{s} (ConvT 3x3/2) -> crop -> cat[F_{s-1}, up]
    /// (stage 0: no skip) -> dense{s}; then the np_head and hv_head 1x1 convs.
    static func denseDecoder(
        _ b: GraphBuilder, _ features: [Value], config: HistoNeXtConfig, geometry: HistoNeXtGeometry,
        parameters: inout some ParameterSource
    ) throws -> (np: Value, hv: Value) {
        let dims = config.encoder.dims
        var x = features[3]
        var channels = dims[3]
        for (index, stage) in HistoNeXtConfig.stages.enumerated() {
            let width = config.upWidths[index]
            x = try torchConvTranspose2d(
                b, x, "up\(stage)", out: width, in: channels, kernel: HistoNeXtGeometry.denseKernel, stride: 2, parameters: &parameters)
            x = centerCrop(b, x, geometry.denseCrops[index])
            channels = width
            if stage > 0 {
                x = b.concat([features[stage - 1], x], axis: 1)
                channels += dims[stage - 1]
            }
            (x, channels) = try denseBlock(
                b, x, "dense\(stage)", channels: channels, growth: config.denseGrowth[index], layers: config.denseLayers[index],
                epsilon: config.batchNormEpsilon, parameters: &parameters)
        }
        let np = try torchConv2d(b, x, "np_head", out: 2, in: channels, kernel: 1, bias: true, parameters: &parameters)
        let hv = try torchConv2d(b, x, "hv_head", out: 2, in: channels, kernel: 1, bias: true, parameters: &parameters)
        return (np, hv)
    }

    /// TP branch; per stage s: up{s} (ConvT 5x5/2) -> crop -> cam{s} -> cat[F_{s-1}, x]
    /// (stage 0: none); then the 1x1 head to `numTypes`.
    static func typeDecoder(
        _ b: GraphBuilder, _ features: [Value], config: HistoNeXtConfig, geometry: HistoNeXtGeometry, numTypes: Int,
        parameters: inout some ParameterSource
    ) throws -> Value {
        let dims = config.encoder.dims
        var x = features[3]
        var channels = dims[3]
        for (index, stage) in HistoNeXtConfig.stages.enumerated() {
            let width = config.tpWidths[index]
            x = try torchConvTranspose2d(
                b, x, "up\(stage)", out: width, in: channels, kernel: HistoNeXtGeometry.typeKernel, stride: 2, parameters: &parameters)
            x = centerCrop(b, x, geometry.typeCrops[index])
            x = try convCAM(b, x, "cam\(stage)", width: width, layers: config.camLayers[index], config: config, parameters: &parameters)
            channels = width
            if stage > 0 {
                x = b.concat([features[stage - 1], x], axis: 1)
                channels += dims[stage - 1]
            }
        }
        return try torchConv2d(b, x, "head", out: numTypes, in: channels, kernel: 1, bias: true, parameters: &parameters)
    }

    /// Layer i: BN -> ReLU -> Conv3x3 (no bias) on cat[x0 ... xi], adding `growth` channels;
    /// the block returns ReLU(BN(cat[x0 ... xn])) and its channel count.
    static func denseBlock(
        _ b: GraphBuilder, _ x: Value, _ name: String, channels: Int, growth: Int, layers: Int, epsilon: Float,
        parameters: inout some ParameterSource
    ) throws -> (Value, Int) {
        try b.scoped(name) {
            var outputs = [x]
            var width = channels
            // Concat of one tensor is that tensor, as torch.cat([x]) is.
            func joined() -> Value { outputs.count == 1 ? outputs[0] : b.concat(outputs, axis: 1) }
            for layer in 0..<layers {
                let y = try b.scoped("layers.\(layer)") {
                    let normed = try batchNorm2d(b, joined(), "norm", channels: width, epsilon: epsilon, parameters: &parameters)
                    return try torchConv2d(
                        b, b.relu(normed), "conv", out: growth, in: width, kernel: 3, padding: 1, bias: false, parameters: &parameters)
                }
                outputs.append(y)
                width += growth
            }
            let normed = try batchNorm2d(b, joined(), "norm", channels: width, epsilon: epsilon, parameters: &parameters)
            return (b.relu(normed), width)
        }
    }

    /// n x [Conv5x5 groups=12 (no bias) -> BN -> ReLU], then channel attention once.
    static func convCAM(
        _ b: GraphBuilder, _ x: Value, _ name: String, width: Int, layers: Int, config: HistoNeXtConfig,
        parameters: inout some ParameterSource
    ) throws -> Value {
        try b.scoped(name) {
            var y = x
            for layer in 0..<layers {
                y = try b.scoped("layers.\(layer)") {
                    let conv = try torchConv2d(
                        b, y, "conv", out: width, in: width, kernel: 5, padding: 2, group: config.camGroups, bias: false,
                        parameters: &parameters)
                    return b.relu(try batchNorm2d(b, conv, "norm", channels: width, epsilon: config.batchNormEpsilon, parameters: &parameters))
                }
            }
            return try b.scoped("attention") {
                try channelAttention(b, y, width: width, hidden: max(1, width / config.camReduction), parameters: &parameters)
            }
        }
    }

    /// Paper eq. 4: x · sigmoid(fc2(ReLU(fc1(GAP(x) + GMP(x))))), fc1/fc2 1x1 convs with bias.
    /// The pools are added before fc1 (not CBAM's shared MLP on each pool).
    static func channelAttention(
        _ b: GraphBuilder, _ x: Value, width: Int, hidden: Int, parameters: inout some ParameterSource
    ) throws -> Value {
        let pooled = b.add(b.globalAveragePool(x), b.globalMaxPool(x))
        let squeezed = b.relu(try torchConv2d(b, pooled, "fc1", out: hidden, in: width, kernel: 1, bias: true, parameters: &parameters))
        let weights = b.sigmoid(try torchConv2d(b, squeezed, "fc2", out: width, in: hidden, kernel: 1, bias: true, parameters: &parameters))
        return b.mul(x, weights)
    }

    /// A constant Slice on H and W; no node when nothing is cropped.
    static func centerCrop(_ b: GraphBuilder, _ x: Value, _ crop: HistoNeXtGeometry.Crop) -> Value {
        guard crop.size != crop.upSize else { return x }
        let end = crop.start + crop.size
        return b.slice(x, starts: [crop.start, crop.start], ends: [end, end], axes: [2, 3])
    }
}
