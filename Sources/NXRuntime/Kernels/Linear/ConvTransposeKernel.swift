import NXIR

/// ONNX ConvTranspose, float32, 1 to 3 spatial dimensions: X [N, C, in...] with
/// W [C, M/group, k...] (+ B [M]) -> Y [N, M, out...], with auto_pad, pads, strides,
/// dilations, group, output_padding and output_shape. Computed as the adjoint of Conv:
/// per image and group one GEMM gives the column matrix W_g^T X_g [M/group * k, in], and
/// col2im adds it onto the bias-filled output (no zero-stuffed input).
struct ConvTransposeKernel: Kernel {
    let attributes: SpatialAttributes
    let group: Int
    let outputPadding: [Int]?
    let outputShape: [Int]?
    /// Constant weights as each group's packed Wᵀ [M/group * k, C/group].
    let packedWeights: ConvKernel.PreparedMatrices?
    let packedBias: PackedFloats?
    let constantWeightShape: [Int]?

    init(_ context: KernelBuildContext) throws {
        attributes = try SpatialAttributes(context)
        group = try context.int("group", default: 1)
        guard group >= 1 else { throw KernelError("group \(group) must be at least 1") }
        outputPadding = try context.ints("output_padding")
        outputShape = try context.ints("output_shape")
        if let outputPadding, outputPadding.contains(where: { $0 < 0 }) {
            throw KernelError("output_padding \(outputPadding) has a negative value")
        }
        let group = self.group
        constantWeightShape = context.constantInput(1)?.shape
        // Few input pixels (HistoNeXt's upsampling of an 8x8 map into 1152 x 25 rows) run
        // ChannelPanelGEMM, which streams the large weight with prefetching.
        let pixels = context.staticShape(0).map { $0.dropFirst(2).reduce(1, *) }
        packedWeights = try context.constantInput(1).map { weight in
            try LinearSupport.requireFloat32(weight, "weight")
            guard weight.rank >= 3, weight.shape[0] % group == 0 else { return .rows([]) }
            return Self.packWeights(
                LinearSupport.unalignedFloats(weight), shape: weight.shape, group: group,
                channelPanels: pixels.map(ChannelPanelGEMM.suits) ?? false)
        }
        packedBias = try context.constantInput(2).map { try ConvKernel.pack($0, "bias") }
    }

    var packedConstantInputs: Set<Int> { (packedWeights?.count ?? 0) == group ? [1] : [] }

    /// Each group's Wᵀ, [M/group * k] x [C/group], packed for `PackedGEMM` or, with
    /// `channelPanels`, for `ChannelPanelGEMM`.
    static func packWeights(_ w: UnalignedFloats, shape: [Int], group: Int, channelPanels: Bool = false) -> ConvKernel.PreparedMatrices {
        let groupChannels = shape[0] / group
        let rows = shape[1...].reduce(1, *)
        if channelPanels {
            return .channels((0..<group).map { gi in
                ChannelPanelGEMM.PackedA(w + gi * groupChannels * rows, lda: rows, m: rows, k: groupChannels, transposed: true)
            })
        }
        return .rows((0..<group).map { gi in
            PackedGEMM.PackedA(w + gi * groupChannels * rows, lda: rows, m: rows, k: groupChannels, transposed: true)
        })
    }

    /// The col2im geometry: its "input" is Y's spatial shape and its "output" X's, since
    /// ConvTranspose reads the windows of a convolution from Y to X backwards.
    func geometry(input: [Int], kernel: [Int]) throws -> ConvGeometry {
        let rank = input.count
        let (strides, dilations, padsBegin, padsEnd) = try attributes.resolved(rank: rank)
        let extra = outputPadding ?? [Int](repeating: 0, count: rank)
        guard extra.count >= rank else {
            throw KernelError("output_padding has \(extra.count) values, expected \(rank)")
        }
        var requested = outputShape
        if let shape = requested, shape.count == rank + 2 { requested = Array(shape[2...]) }
        if let shape = requested, shape.count != rank {
            throw KernelError("output_shape \(shape) has \(shape.count) values, expected \(rank) spatial sizes")
        }
        if requested == nil, attributes.autoPad.isSame { requested = (0..<rank).map { input[$0] * strides[$0] } }
        var dims: [ConvDim] = []
        for i in 0..<rank {
            var dim = ConvDim(
                input: 0, kernel: kernel[i], output: input[i], stride: strides[i], dilation: dilations[i],
                padBegin: 0, padEnd: 0)
            let full = strides[i] * (input[i] - 1) + extra[i] + dim.dilatedKernel
            if let requested {
                // Pads follow from the requested size (the `pads` attribute is ignored); the odd
                // one goes at the end for SAME_UPPER, at the start otherwise. Python's floor
                // division keeps a negative total (a larger output than the full one) exact.
                let total = full - requested[i]
                let half = LinearSupport.floorDiv(total, 2)
                dim.padBegin = attributes.autoPad == .sameUpper ? half : total - half
                dim.padEnd = total - dim.padBegin
                dim.input = requested[i]
            } else {
                if attributes.autoPad == .notSet {
                    dim.padBegin = padsBegin[i]
                    dim.padEnd = padsEnd[i]
                }
                dim.input = full - dim.padBegin - dim.padEnd
            }
            guard dim.input >= 1 else {
                throw KernelError("spatial dimension \(i) gives output size \(dim.input) (input \(input[i]), kernel \(kernel[i]), stride \(strides[i]), pads \(dim.padBegin)+\(dim.padEnd))")
            }
            dims.append(dim)
        }
        return try ConvGeometry(dims)
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        guard inputs.count >= 2, let x = inputs[0] else { throw KernelError("needs inputs X and W") }
        let w = inputs[1]
        // A constant weight the session dropped after packing: its shape was kept.
        guard let weightShape = w?.shape ?? (packedConstantInputs.isEmpty ? nil : constantWeightShape) else {
            throw KernelError("needs input W")
        }
        let b = inputs.count > 2 ? inputs[2] : nil
        try LinearSupport.requireFloat32(x, "input X")
        if let w { try LinearSupport.requireFloat32(w, "weight W") }
        guard x.rank >= 3 else { throw KernelError("input X must be [N, C, spatial...], is \(x.shape)") }
        guard weightShape.count == x.rank else {
            throw KernelError("weight W \(weightShape) must have the input's rank \(x.rank) (input \(x.shape))")
        }
        let batch = x.shape[0], channels = x.shape[1]
        guard weightShape[0] == channels else {
            throw KernelError("input has \(channels) channels, weight expects \(weightShape[0]) (weight is [C, M/group, k...])")
        }
        guard channels % group == 0 else {
            throw KernelError("input has \(channels) channels, not a multiple of group \(group)")
        }
        let groupChannels = channels / group, groupOutputs = weightShape[1], outputChannels = groupOutputs * group
        if let b {
            try LinearSupport.requireFloat32(b, "bias B")
            guard b.rank == 1, b.shape[0] == outputChannels else {
                throw KernelError("bias B is \(b.shape), expected [\(outputChannels)] (one per output channel)")
            }
        }
        let kernel = try attributes.kernel(weightSpatial: Array(weightShape[2...]), rank: x.rank - 2)
        let g = try geometry(input: Array(x.shape[2...]), kernel: kernel)
        let outputShape = [batch, outputChannels] + g.dims.map(\.input)
        let (y, yData) = context.allocateFloats(outputShape)
        if y.elementCount == 0 { return [y] }

        let imageSize = g.inputSize, sourceSize = g.outputSize, kernelSize = g.kernelSize
        let rows = groupOutputs * kernelSize
        let column = context.allocateFloats([rows * sourceSize])
        withExtendedLifetime(column.tensor) {
            LinearSupport.withFloats(x) { xData in
                let weights = packedWeights.flatMap { $0.count == group ? $0 : nil }
                    ?? w.map { w in Self.packWeights(LinearSupport.unalignedFloats(w), shape: w.shape, group: group) } ?? .rows([])
                LinearSupport.withFloats(packedBias, b) { bData in
                    for n in 0..<batch {
                        for gi in 0..<group {
                            let xg = xData + (n * channels + gi * groupChannels) * sourceSize
                            let yg = yData + (n * outputChannels + gi * groupOutputs) * imageSize
                            switch weights {
                            case .rows(let matrices):
                                PackedGEMM.multiply(
                                    matrices[gi], b: xg, ldb: sourceSize, n: sourceSize, c: column.data, ldc: sourceSize, context: context)
                            case .channels(let matrices):
                                ChannelPanelGEMM.multiply(
                                    matrices[gi], b: xg, ldb: sourceSize, n: sourceSize, c: column.data, ldc: sourceSize, context: context)
                            }
                            LinearSupport.fillRows(yg, rows: groupOutputs, columns: imageSize, bias: bData.map { $0 + gi * groupOutputs })
                            Im2col.accumulate(column.data, channels: groupOutputs, geometry: g, into: yg, context: context)
                        }
                    }
                }
            }
        }
        return [y]
    }

    /// 2 x (multiply-adds): every input element meets M/group x kernel weights.
    func flops(inputs: [Tensor?], outputs: [Tensor]) -> Int {
        guard let x = inputs.first ?? nil, let shape = inputs.dropFirst().first??.shape ?? constantWeightShape,
            let first = shape.first, first > 0
        else { return 0 }
        return 2 * x.elementCount * (shape.reduce(1, *) / first)
    }
}
