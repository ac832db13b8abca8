import NXIR

/// ONNX Conv, float32, 1 to 3 spatial dimensions: X [N, C, in...] * W [M, C/group, k...]
/// (+ B [M]) -> Y [N, M, out...], with auto_pad, pads, strides, dilations, group and
/// kernel_shape. Three strategies: a 1x1 stride-1 unpadded convolution is one GEMM per image
/// and group over the NCHW image itself; depthwise (one channel per group, 1-D or 2-D) runs
/// the direct SIMD kernel; everything else is im2col + GEMM per image and group.
struct ConvKernel: Kernel {
    let attributes: SpatialAttributes
    let group: Int
    /// Constant weight and bias, copied at load.
    let packedWeight: PackedFloats?
    let packedBias: PackedFloats?

    init(_ context: KernelBuildContext) throws {
        attributes = try SpatialAttributes(context)
        group = try context.int("group", default: 1)
        guard group >= 1 else { throw KernelError("group \(group) must be at least 1") }
        packedWeight = try context.constantInput(1).map { try ConvKernel.pack($0, "weight") }
        packedBias = try context.constantInput(2).map { try ConvKernel.pack($0, "bias") }
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
        LinearSupport.withFloats(x) { xData in
            LinearSupport.withFloats(packedWeight, w) { wData in
                LinearSupport.withFloats(packedBias, b) { bData in
                    Self.convolve(x: xData, w: wData, bias: bData, y: yData, plan: plan, group: group, context: context)
                }
            }
        }
        return [y]
    }

    /// Y = conv(X, W) + B for checked shapes.
    static func convolve(
        x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
        plan: Plan, group: Int, context: ExecutionContext
    ) {
        let g = plan.geometry
        let groupChannels = plan.channels / group, groupOutputs = plan.outputChannels / group
        let kernelSize = g.kernelSize, inputSize = g.inputSize, outputSize = g.outputSize

        if groupChannels == 1, groupOutputs == 1, g.rank <= 2 {
            DepthwiseConv2D.run(
                x: x, weights: w, bias: bias, y: y, planes: plan.batch * plan.channels, channels: plan.channels,
                geometry: g, context: context)
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
                    if let bias { LinearSupport.fillRows(yg, rows: groupOutputs, columns: outputSize, bias: bias + gi * groupOutputs) }
                    let matrix: UnsafePointer<Float>
                    if let column {
                        Im2col.pack(xg, channels: groupChannels, geometry: g, into: column.data, context: context)
                        matrix = UnsafePointer(column.data)
                    } else {
                        matrix = xg
                    }
                    SGEMM.multiply(
                        m: groupOutputs, n: outputSize, k: reduction, a: w + gi * groupOutputs * reduction, lda: reduction,
                        b: matrix, ldb: outputSize, beta: bias == nil ? 0 : 1, c: yg, ldc: outputSize)
                }
            }
        }
    }

    /// 2 x (multiply-adds): every output element sums C/group x kernel products.
    func flops(inputs: [Tensor?], outputs: [Tensor]) -> Int {
        guard inputs.count >= 2, let w = inputs[1], let y = outputs.first, w.rank >= 1, w.shape[0] > 0 else { return 0 }
        return 2 * y.elementCount * (w.elementCount / w.shape[0])
    }
}
