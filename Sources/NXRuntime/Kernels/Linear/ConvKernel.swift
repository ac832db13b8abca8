import NXIR

/// ONNX Conv, float32, 1 to 3 spatial dimensions: X [N, C, in...] * W [M, C/group, k...]
/// (+ B [M]) -> Y [N, M, out...], with auto_pad, pads, strides, dilations, group and
/// kernel_shape. Four strategies: a 1x1 stride-1 unpadded convolution is one GEMM per image
/// and group over the NCHW image itself; depthwise (one channel per group, 1-D or 2-D) runs
/// the direct SIMD kernel; other stride-1 1-D and 2-D convolutions with enough channels per
/// group run one GEMM per kernel tap (`TapConvolution`); everything else is im2col + GEMM.
struct ConvKernel: Kernel {
    let attributes: SpatialAttributes
    let group: Int
    /// Constant weight and bias, copied at load.
    let packedWeight: PackedFloats?
    let packedBias: PackedFloats?
    /// Constant weights already in `TapConvolution`'s order, when that strategy will apply
    /// (it depends only on the weight shape and strides); `packedWeight` is nil then.
    let tapWeights: [Float]?
    /// Applied to each output block in cache (set when the optimizer fused one in).
    var activation: UnaryFunction?

    init(_ context: KernelBuildContext) throws {
        let attributes = try SpatialAttributes(context)
        self.attributes = attributes
        let group = try context.int("group", default: 1)
        self.group = group
        guard group >= 1 else { throw KernelError("group \(group) must be at least 1") }
        let weight = context.constantInput(1)
        let tapped = weight.map { ConvKernel.usesTaps(weight: $0.shape, group: group, attributes) } ?? false
        if let weight, tapped {
            try LinearSupport.requireFloat32(weight, "weight")
            let (outputs, groupChannels) = (weight.shape[0], weight.shape[1])
            tapWeights = LinearSupport.withFloats(weight) {
                TapConvolution.packWeights($0, outputs: outputs, groupChannels: groupChannels, taps: weight.elementCount / max(1, outputs * groupChannels), group: group)
            }
            packedWeight = nil
        } else {
            tapWeights = nil
            packedWeight = try weight.map { try ConvKernel.pack($0, "weight") }
        }
        packedBias = try context.constantInput(2).map { try ConvKernel.pack($0, "bias") }
    }

    /// Whether a weight of this shape with these attributes runs as `TapConvolution`.
    static func usesTaps(weight shape: [Int], group: Int, _ attributes: SpatialAttributes) -> Bool {
        guard (3...4).contains(shape.count), shape[0] % group == 0 else { return false }
        let spatial = shape.count - 2
        let strides = (try? attributes.resolved(rank: spatial))?.strides ?? []
        return strides.count == spatial && strides.allSatisfy { $0 == 1 } && shape[2...].reduce(1, *) > 1
            && shape[1] >= TapConvolution.minimumGroupChannels
    }

    static func pack(_ tensor: Tensor, _ name: String) throws -> PackedFloats {
        try LinearSupport.requireFloat32(tensor, name)
        return PackedFloats(tensor)
    }

    /// The checked shapes and geometry of one run.
    struct Plan {
        let batch: Int, channels: Int, outputChannels: Int
        let geometry: ConvGeometry
        var outputShape: [Int] { [batch, outputChannels] + geometry.outputShape }
    }

    func plan(_ x: Tensor, _ w: Tensor, _ b: Tensor?) throws -> Plan {
        try LinearSupport.requireFloat32(x, "input X")
        try LinearSupport.requireFloat32(w, "weight W")
        guard x.rank >= 3 else { throw KernelError("input X must be [N, C, spatial...], is \(x.shape)") }
        guard w.rank == x.rank else {
            throw KernelError("weight W \(w.shape) must have the input's rank \(x.rank) (input \(x.shape))")
        }
        let channels = x.shape[1], outputChannels = w.shape[0]
        guard channels == w.shape[1] * group else {
            throw KernelError("input has \(channels) channels, weight expects \(w.shape[1] * group) (group \(group))")
        }
        guard outputChannels % group == 0 else {
            throw KernelError("weight has \(outputChannels) output channels, not a multiple of group \(group)")
        }
        if let b {
            try LinearSupport.requireFloat32(b, "bias B")
            guard b.rank == 1, b.shape[0] == outputChannels else {
                throw KernelError("bias B is \(b.shape), expected [\(outputChannels)] (one per output channel)")
            }
        }
        let rank = x.rank - 2
        let kernel = try attributes.kernel(weightSpatial: Array(w.shape[2...]), rank: rank)
        let geometry = try ConvGeometry.convolution(attributes, input: Array(x.shape[2...]), kernel: kernel)
        return Plan(batch: x.shape[0], channels: channels, outputChannels: outputChannels, geometry: geometry)
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        guard inputs.count >= 2, let x = inputs[0], let w = inputs[1] else {
            throw KernelError("needs inputs X and W")
        }
        let b = inputs.count > 2 ? inputs[2] : nil
        let plan = try plan(x, w, b)
        let (y, yData) = context.allocateFloats(plan.outputShape)
        if y.elementCount == 0 { return [y] }
        if TapConvolution.applies(plan.geometry, groupChannels: plan.channels / group) {
            runTaps(x, w, b, y: yData, plan: plan, context: context)
            return [y]
        }
        LinearSupport.withFloats(x) { xData in
            LinearSupport.withFloats(packedWeight, w) { wData in
                LinearSupport.withFloats(packedBias, b) { bData in
                    Self.convolve(
                        x: xData, w: wData, bias: bData, y: yData, plan: plan, group: group, activation: activation,
                        context: context)
                }
            }
        }
        return [y]
    }

    private func runTaps(_ x: Tensor, _ w: Tensor, _ b: Tensor?, y: UnsafeMutablePointer<Float>, plan: Plan, context: ExecutionContext) {
        let groupChannels = plan.channels / group
        let weights = tapWeights ?? LinearSupport.withFloats(w) {
            TapConvolution.packWeights($0, outputs: plan.outputChannels, groupChannels: groupChannels, taps: plan.geometry.kernelSize, group: group)
        }
        LinearSupport.withFloats(x) { xData in
            weights.withUnsafeBufferPointer { wData in
                LinearSupport.withFloats(packedBias, b) { bData in
                    TapConvolution.run(
                        x: xData, tapWeights: wData.baseAddress!, bias: bData, y: y, batch: plan.batch, channels: plan.channels,
                        outputChannels: plan.outputChannels, group: group, geometry: plan.geometry, activation: activation,
                        context: context)
                }
            }
        }
    }

    /// Y = conv(X, W) + B for checked shapes.
    static func convolve(
        x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
        plan: Plan, group: Int, activation: UnaryFunction? = nil, context: ExecutionContext
    ) {
        let g = plan.geometry
        let groupChannels = plan.channels / group, groupOutputs = plan.outputChannels / group
        let kernelSize = g.kernelSize, inputSize = g.inputSize, outputSize = g.outputSize

        if groupChannels == 1, groupOutputs == 1, g.rank <= 2 {
            DepthwiseConv2D.run(
                x: x, weights: w, bias: bias, y: y, planes: plan.batch * plan.channels, channels: plan.channels,
                geometry: g, context: context)
            if let activation {
                let count = plan.batch * plan.outputChannels * outputSize
                context.parallelFor(count, grain: 16384) { range in
                    activation.map(y + range.lowerBound, y + range.lowerBound, count: range.count)
                }
            }
            return
        }

        let pointwise = g.dims.allSatisfy { $0.kernel == 1 && $0.stride == 1 && $0.padBegin == 0 && $0.padEnd == 0 }
        let reduction = groupChannels * kernelSize
        // One column buffer reused for every image and group (pooled across runs).
        let column = pointwise ? nil : context.allocateFloats([reduction * outputSize])
        withExtendedLifetime(column?.tensor) {
            for n in 0..<plan.batch {
                for gi in 0..<group {
                    let xg = x + (n * plan.channels + gi * groupChannels) * inputSize
                    let yg = y + (n * plan.outputChannels + gi * groupOutputs) * outputSize
                    let matrix: UnsafePointer<Float>
                    if let column {
                        Im2col.pack(xg, channels: groupChannels, geometry: g, into: column.data, context: context)
                        matrix = UnsafePointer(column.data)
                    } else {
                        matrix = xg
                    }
                    SGEMM.multiply(
                        m: groupOutputs, n: outputSize, k: reduction, a: w + gi * groupOutputs * reduction, lda: reduction,
                        b: matrix, ldb: outputSize, beta: 0, c: yg, ldc: outputSize, context: context,
                        epilogue: GEMMEpilogue(bias: bias.map { .perRow($0 + gi * groupOutputs) } ?? .none, activation: activation))
                }
            }
        }
    }

    /// 2 x (multiply-adds): every output element sums C/group x kernel products.
    func flops(inputs: [Tensor?], outputs: [Tensor]) -> Int {
        guard inputs.count >= 2, let w = inputs[1], let y = outputs.first, w.rank >= 1, w.shape[0] > 0 else { return 0 }
        return 2 * y.elementCount * (w.elementCount / w.shape[0]) + y.elementCount * (activation?.flopsPerElement ?? 0)
    }
}
