import Foundation
import NXIR

/// ONNX Conv, float32, 1 to 3 spatial dimensions: X [N, C, in...] * W [M, C/group, k...]
/// (+ B [M]) -> Y [N, M, out...], with auto_pad, pads, strides, dilations, group and
/// kernel_shape. Four algorithms (`Algorithm`): depthwise (one channel per group, 1-D or
/// 2-D) runs the direct SIMD kernel; 3x3 stride-1 2-D convolutions with enough channels per
/// group run Winograd F(2x2, 3x3); other stride-1 1-D and 2-D ones run one GEMM per group
/// reading shifted windows of a padded input copy (`taps`); everything else is one GEMM per image and group, on the image itself (1x1, stride 1,
/// unpadded) or on its im2col matrix. Every GEMM is `PackedGEMM` with the weights packed at
/// load, in the layout of the algorithm that will run, except that the one-GEMM algorithm
/// runs `ChannelPanelGEMM` when the output is known at load to have few pixels.
struct ConvKernel: Kernel {
    let attributes: SpatialAttributes
    let group: Int
    /// Constant bias, copied at load.
    let packedBias: PackedFloats?
    /// Constant weight of a depthwise conv, copied at load (nil once packed for blocks).
    private(set) var depthwiseWeight: PackedFloats?
    /// Constant weights packed for the algorithm their shape implies.
    let preparedWeights: (algorithm: Algorithm, matrices: PreparedMatrices)?
    /// The constant weight's shape: what runs check once the session has dropped the
    /// weight itself (`packedConstantInputs`).
    let constantWeightShape: [Int]?
    /// Applied to each output block in cache (set when the optimizer fused one in).
    var activation: UnaryFunction?
    /// Applied to the input as it is read (the optimizer's pre-activation fusion).
    var inputActivation: InputActivation?
    /// Input 5, of the output's shape, is added before the activation (the optimizer's
    /// residual fusion).
    var addsResidual = false
    /// Input X, or output Y, stored channel-blocked `[N][C / 16][H·W][16]` under its NCHW
    /// shape (the optimizer's `blocked-mlp-hidden` on small images; only ChannelPanelGEMM
    /// reads and writes it).
    private(set) var blockedInput = false, blockedOutput = false
    /// Input X, or output Y, stored pixel-paneled `[N][H·W / 64][C][64]` under its NCHW
    /// shape, the last panel of an image as wide as its remaining pixels (the same pass on
    /// large images; only PackedGEMM reads and writes it).
    private(set) var paneledInput = false, paneledOutput = false

    /// Checks FusedConv's `input_channel_block` / `output_channel_block` (0 or 16) and
    /// `input_pixel_block` / `output_pixel_block` (0 or 64) against what this kernel was
    /// built to run.
    mutating func setBlockedLayouts(_ layouts: BlockedLayouts, preActivated: Bool) throws {
        for (name, value, allowed) in layouts.named where value != 0 && value != allowed {
            throw KernelError("\(name) must be 0 or \(allowed), is \(value)")
        }
        guard layouts.any else { return }
        let channelBlocks = layouts.inputChannelBlock != 0 || layouts.outputChannelBlock != 0
        let pixelBlocks = layouts.inputPixelBlock != 0 || layouts.outputPixelBlock != 0
        if channelBlocks && pixelBlocks { throw KernelError("a convolution takes channel blocks or pixel blocks, not both") }
        if channelBlocks, let depthwiseWeight, let shape = constantWeightShape {
            if preActivated { throw KernelError("a blocked input cannot take a pre-activation") }
            try setBlockedDepthwise(layouts, weight: depthwiseWeight, shape: shape)
            return
        }
        if channelBlocks {
            guard case .channels = preparedWeights?.matrices, group == 1 else {
                throw KernelError(
                    "a channel-blocked input or output needs an ungrouped 1x1 convolution with a constant weight whose output has at most 320 pixels, known at load")
            }
        } else {
            guard case .rows = preparedWeights?.matrices, preparedWeights?.algorithm == .matrix, group == 1,
                constantWeightShape?.dropFirst(2).allSatisfy({ $0 == 1 }) == true, attributes.hasUnitStridesAndNoPadding
            else {
                throw KernelError(
                    "a pixel-paneled input or output needs an ungrouped 1x1 convolution with unit strides, no padding and a constant weight whose output has more than 320 pixels or is unknown at load")
            }
        }
        if let shape = constantWeightShape {
            for (name, value, count) in [
                ("output_channel_block", layouts.outputChannelBlock, shape[0]), ("input_channel_block", layouts.inputChannelBlock, shape[1]),
            ] where value != 0 && count % value != 0 {
                throw KernelError("\(name) \(value) needs a multiple of \(value) channels, not \(count)")
            }
        }
        let blockedOut = layouts.outputChannelBlock != 0 || layouts.outputPixelBlock != 0
        let blockedIn = layouts.inputChannelBlock != 0 || layouts.inputPixelBlock != 0
        // A channel-blocked residual is read in C's own order as C is finished.
        if layouts.outputPixelBlock != 0 && addsResidual { throw KernelError("a paneled output cannot take a residual") }
        if blockedIn && preActivated { throw KernelError("a blocked or paneled input cannot take a pre-activation") }
        (blockedInput, blockedOutput) = (layouts.inputChannelBlock != 0, layouts.outputChannelBlock != 0)
        (paneledInput, paneledOutput) = (layouts.inputPixelBlock != 0, layouts.outputPixelBlock != 0)
    }

    /// A depthwise convolution on a channel-blocked X and Y: both blocked, 2-D, unit strides
    /// and dilations, a constant weight and a multiple of 16 channels; the weight packed
    /// per 16-channel block here.
    private mutating func setBlockedDepthwise(_ layouts: BlockedLayouts, weight: PackedFloats, shape: [Int]) throws {
        let block = BlockedDepthwiseConv2D.block
        let resolved = try attributes.resolved(rank: shape.count - 2)
        guard layouts.inputChannelBlock == block, layouts.outputChannelBlock == block, shape.count == 4, shape[0] % block == 0,
            (resolved.strides + resolved.dilations).allSatisfy({ $0 == 1 })
        else {
            throw KernelError(
                "a channel-blocked depthwise convolution needs X and Y both blocked, a 2-D kernel with unit strides and dilations, and a multiple of \(block) channels (weight \(shape))")
        }
        let taps = shape[2] * shape[3]
        let packed = weight.withPointer { BlockedDepthwiseConv2D.packWeights($0, channels: shape[0], taps: taps) }
        blockedDepthwiseWeight = PackedFloats(Tensor(shape: [packed.count], scalars: packed))
        depthwiseWeight = nil
        (blockedInput, blockedOutput) = (true, true)
    }

    /// A depthwise weight packed `[C / 16][kh·kw][16]` for a channel-blocked X and Y.
    private(set) var blockedDepthwiseWeight: PackedFloats?

    /// FusedConv's layout attributes.
    struct BlockedLayouts {
        var inputChannelBlock = 0, outputChannelBlock = 0, inputPixelBlock = 0, outputPixelBlock = 0

        var any: Bool { inputChannelBlock != 0 || outputChannelBlock != 0 || inputPixelBlock != 0 || outputPixelBlock != 0 }
        var named: [(String, Int, Int)] {
            [
                ("input_channel_block", inputChannelBlock, ChannelPanelGEMM.channelBlock),
                ("output_channel_block", outputChannelBlock, ChannelPanelGEMM.channelBlock),
                ("input_pixel_block", inputPixelBlock, PackedGEMM.nr), ("output_pixel_block", outputPixelBlock, PackedGEMM.nr),
            ]
        }
    }

    /// GEMM left operands packed at load: one per group (`matrix`, `taps`) or per group and
    /// transformed point (`winograd`).
    enum PreparedMatrices: Sendable {
        /// For PackedGEMM: vectors along the pixels.
        case rows([PackedGEMM.PackedA])
        /// For ChannelPanelGEMM (`matrix` only): vectors along the output channels.
        case channels([ChannelPanelGEMM.PackedA])

        var count: Int {
            switch self {
            case .rows(let matrices): matrices.count
            case .channels(let matrices): matrices.count
            }
        }
    }

    enum Algorithm: Equatable {
        case depthwise, winograd, taps, matrix

        /// `NX_CONV_ALGORITHM=taps` turns Winograd off (for measuring one against the other).
        static let winogradEnabled = getenv("NX_CONV_ALGORITHM").map { String(cString: $0) } != "taps"

        init(_ g: ConvGeometry, groupChannels: Int, groupOutputs: Int) {
            if groupChannels == 1 && groupOutputs == 1 && g.rank <= 2 {
                self = .depthwise
            } else if Self.winogradEnabled && WinogradConvolution.applies(g, groupChannels: groupChannels) {
                self = .winograd
            } else if TapConvolution.applies(g, groupChannels: groupChannels) {
                self = .taps
            } else {
                self = .matrix
            }
        }

        /// The algorithm for a weight of this shape whatever the input size: its geometry
        /// from the weight and attributes alone (pads do not change the choice).
        init?(weight shape: [Int], group: Int, _ attributes: SpatialAttributes) {
            guard (3...5).contains(shape.count), shape[0] % group == 0,
                let resolved = try? attributes.resolved(rank: shape.count - 2)
            else { return nil }
            let dims = (0..<(shape.count - 2)).map { i in
                ConvDim(
                    input: 1, kernel: shape[2 + i], output: 1, stride: resolved.strides[i], dilation: resolved.dilations[i],
                    padBegin: 0, padEnd: 0)
            }
            guard let geometry = try? ConvGeometry(dims) else { return nil }
            self.init(geometry, groupChannels: shape[1], groupOutputs: shape[0] / group)
        }

        /// The GEMM left operands: per group, the weight as a [M/group, C/group * taps] matrix
        /// (`matrix`, `taps`), or one matrix per transformed point (`winograd`).
        /// `scale`: one factor per output channel, folded in while packing.
        func prepare(_ weight: Tensor, outputs: Int, groupChannels: Int, taps: Int, group: Int, scale: [Float]?) -> [PackedGEMM.PackedA] {
            let groupOutputs = outputs / group
            let (layout, count): ([Float], Int)
            switch self {
            case .depthwise:
                return []
            case .matrix, .taps:
                let w = LinearSupport.unalignedFloats(weight)
                return withOptionalFloats(scale) { scale in
                    (0..<group).map { gi in
                        PackedGEMM.PackedA(
                            w + gi * groupOutputs * groupChannels * taps, lda: groupChannels * taps, m: groupOutputs,
                            k: groupChannels * taps, rowScale: scale.map { $0 + gi * groupOutputs })
                    }
                }
            case .winograd:
                layout = LinearSupport.withFloats(scale.map { ConvKernel.scaled(weight, by: $0) } ?? weight) {
                    WinogradConvolution.transformWeights($0, outputs: outputs, groupChannels: groupChannels, group: group)
                }
                count = 16
            }
            return layout.withUnsafeBufferPointer { values in
                (0..<(group * count)).map { index in
                    PackedGEMM.PackedA(values.baseAddress! + index * groupOutputs * groupChannels, lda: groupChannels, m: groupOutputs, k: groupChannels)
                }
            }
        }
    }

    /// `weightScale`: a factor per output channel to multiply the constant weight by, folded
    /// into the packed weight (the optimizer's scale folding, FusedConv input 6).
    /// `weightTransposed`: the constant weight is stored [C_in, C_out] for a 1x1 convolution
    /// (FusedConv's `weight_transposed`) and is packed from that layout.
    init(_ context: KernelBuildContext, weightScale: [Float]? = nil, weightTransposed: Bool = false) throws {
        let attributes = try SpatialAttributes(context)
        self.attributes = attributes
        let group = try context.int("group", default: 1)
        self.group = group
        guard group >= 1 else { throw KernelError("group \(group) must be at least 1") }
        var prepared: (Algorithm, PreparedMatrices)?
        var depthwise: PackedFloats?
        // A transposed weight is W [C_in, C_out] of a 1x1 convolution, seen as [C_out, C_in, 1, 1].
        var constantShape = context.constantInput(1)?.shape
        if weightTransposed {
            guard let shape = constantShape, shape.count == 2, group == 1 else {
                throw KernelError("a transposed weight must be a constant [C_in, C_out] matrix of an ungrouped 1x1 convolution")
            }
            constantShape = [shape[1], shape[0], 1, 1]
        }
        constantWeightShape = constantShape
        self.weightTransposed = weightTransposed
        if let weight = context.constantInput(1), let weightShape = constantShape,
            let algorithm = Algorithm(weight: weightShape, group: group, attributes)
        {
            try LinearSupport.requireFloat32(weight, "weight")
            if let weightScale, weightScale.count != weightShape[0] {
                throw KernelError("weight scale has \(weightScale.count) factors, the weight \(weightShape[0]) output channels")
            }
            if weightTransposed && algorithm != .matrix {
                throw KernelError("a transposed weight needs a 1x1 convolution with unit strides and no padding")
            }
            if algorithm == .depthwise {
                depthwise = PackedFloats(weightScale.map { Self.scaled(weight, by: $0) } ?? weight)
            } else {
                let (outputs, groupChannels) = (weightShape[0], weightShape[1])
                let taps = weight.elementCount / max(1, outputs * groupChannels)
                // Row `m` of the GEMM's A is output channel m: a row of W, or a column of Wᵀ.
                let (lda, transposed) = weightTransposed ? (outputs, true) : (groupChannels * taps, false)
                let pixels = context.staticShape(0).flatMap { x -> Int? in
                    guard x.count == weightShape.count, x.count >= 3 else { return nil }
                    let kernel = try? attributes.kernel(weightSpatial: Array(weightShape[2...]), rank: x.count - 2)
                    return kernel.flatMap { try? ConvGeometry.convolution(attributes, input: Array(x[2...]), kernel: $0).outputSize }
                }
                if algorithm == .matrix, let pixels, ChannelPanelGEMM.suits(pixels: pixels) {
                    let w = LinearSupport.unalignedFloats(weight)
                    let groupOutputs = outputs / group, depth = groupChannels * taps
                    prepared = (algorithm, .channels(withOptionalFloats(weightScale) { scale in
                        (0..<group).map { gi in
                            ChannelPanelGEMM.PackedA(
                                w + gi * groupOutputs * depth, lda: lda, m: groupOutputs, k: depth, transposed: transposed,
                                rowScale: scale.map { $0 + gi * groupOutputs })
                        }
                    }))
                } else if transposed {
                    let w = LinearSupport.unalignedFloats(weight)
                    prepared = (algorithm, .rows(withOptionalFloats(weightScale) { scale in
                        [PackedGEMM.PackedA(w, lda: lda, m: outputs, k: groupChannels, transposed: true, rowScale: scale)]
                    }))
                } else {
                    prepared = (algorithm, .rows(algorithm.prepare(
                        weight, outputs: outputs, groupChannels: groupChannels, taps: taps, group: group, scale: weightScale)))
                }
            }
        }
        if weightScale != nil && prepared == nil && depthwise == nil {
            throw KernelError("a weight scale needs a constant float32 weight of a supported shape")
        }
        foldsWeightScale = weightScale != nil
        preparedWeights = prepared
        depthwiseWeight = depthwise
        packedBias = try context.constantInput(2).map { try ConvKernel.pack($0, "bias") }
    }

    /// Whether input 6, the weight scale, was folded into the weights at load.
    let foldsWeightScale: Bool
    /// Whether input 1 is stored [C_in, C_out] (then only its packed form is ever used).
    let weightTransposed: Bool

    var packedConstantInputs: Set<Int> {
        Set(preparedWeights == nil && blockedDepthwiseWeight == nil ? [] : [1]).union(foldsWeightScale ? [6] : [])
    }

    /// The weight with output channel m's block multiplied by `scale[m]`.
    static func scaled(_ weight: Tensor, by scale: [Float]) -> Tensor {
        let values = LinearSupport.unalignedFloats(weight)
        let block = weight.elementCount / max(scale.count, 1)
        var result = [Float](repeating: 0, count: weight.elementCount)
        for m in scale.indices {
            for i in 0..<block { result[m * block + i] = values[m * block + i] * scale[m] }
        }
        return Tensor(shape: weight.shape, scalars: result)
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

    func plan(_ x: Tensor, _ w: Tensor?, _ b: Tensor?) throws -> Plan {
        try LinearSupport.requireFloat32(x, "input X")
        if let w { try LinearSupport.requireFloat32(w, "weight W") }
        guard let weightShape = weightTransposed ? constantWeightShape : w?.shape ?? constantWeightShape else {
            throw KernelError("needs input W")
        }
        guard x.rank >= 3 else { throw KernelError("input X must be [N, C, spatial...], is \(x.shape)") }
        guard weightShape.count == x.rank else {
            throw KernelError("weight W \(weightShape) must have the input's rank \(x.rank) (input \(x.shape))")
        }
        let channels = x.shape[1], outputChannels = weightShape[0]
        guard channels == weightShape[1] * group else {
            throw KernelError("input has \(channels) channels, weight expects \(weightShape[1] * group) (group \(group))")
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
        let kernel = try attributes.kernel(weightSpatial: Array(weightShape[2...]), rank: rank)
        let geometry = try ConvGeometry.convolution(attributes, input: Array(x.shape[2...]), kernel: kernel)
        return Plan(batch: x.shape[0], channels: channels, outputChannels: outputChannels, geometry: geometry)
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        guard inputs.count >= 2, let x = inputs[0] else { throw KernelError("needs inputs X and W") }
        let w = inputs[1]
        let b = inputs.count > 2 ? inputs[2] : nil
        let plan = try plan(x, w, b)
        let residual = addsResidual && inputs.count > 5 ? inputs[5] : nil
        if let residual {
            try LinearSupport.requireFloat32(residual, "residual Z")
            guard residual.shape == plan.outputShape else {
                throw KernelError("residual Z is \(residual.shape), expected the output's shape \(plan.outputShape)")
            }
        } else if addsResidual {
            throw KernelError("needs the residual input Z")
        }
        let (y, yData) = context.allocateFloats(plan.outputShape)
        if y.elementCount == 0 { return [y] }
        let groupChannels = plan.channels / group, groupOutputs = plan.outputChannels / group
        let algorithm = Algorithm(plan.geometry, groupChannels: groupChannels, groupOutputs: groupOutputs)
        let packedForBlocks = algorithm == .depthwise && blockedDepthwiseWeight != nil
        if w == nil && preparedWeights?.algorithm != algorithm && !packedForBlocks {
            throw KernelError("weight W is missing (the session dropped it as packed for another algorithm)")
        }
        // Winograd and taps apply the pre-activation while padding; the others read X itself.
        let readsInPlace = algorithm == .depthwise || algorithm == .matrix
        let input = readsInPlace ? inputActivation.map { activated(x, $0, context: context) } ?? x : x
        // The one-GEMM path adds a residual in its epilogue; the others run without their
        // activation, then add the residual and activate in one pass.
        let innerActivation = residual == nil || algorithm == .matrix ? activation : nil
        LinearSupport.withFloats(input) { xData in
            LinearSupport.withFloats(packedBias, b) { bData in
                defer {
                    if let residual, algorithm != .matrix {
                        LinearSupport.withFloats(residual) { addResidual($0, to: yData, count: y.elementCount, context: context) }
                    }
                }
                if algorithm == .depthwise, let blockedDepthwiseWeight {
                    blockedDepthwiseWeight.withPointer { wData in
                        BlockedDepthwiseConv2D.run(
                            x: xData, packedWeights: wData, bias: bData, y: yData, batch: plan.batch, channels: plan.channels,
                            geometry: plan.geometry, context: context)
                    }
                    if let innerActivation { applyActivation(innerActivation, to: yData, count: y.elementCount, context: context) }
                    return
                }
                if algorithm == .depthwise, let w {
                    LinearSupport.withFloats(depthwiseWeight, w) { wData in
                        runDepthwise(x: xData, w: wData, bias: bData, y: yData, plan: plan, activation: innerActivation, context: context)
                    }
                    return
                }
                // A dropped weight was packed for exactly this algorithm (it depends on the
                // weight's shape and the attributes only).
                let prepared = preparedWeights.flatMap { $0.algorithm == algorithm ? $0.matrices : nil } ?? w.map { w in
                    PreparedMatrices.rows(
                        algorithm.prepare(w, outputs: plan.outputChannels, groupChannels: groupChannels, taps: plan.geometry.kernelSize, group: group, scale: nil))
                } ?? .rows([])
                if algorithm == .matrix {
                    LinearSupport.withFloats(nil, residual) { zData in
                        runMatrix(x: xData, weights: prepared, bias: bData, residual: zData, y: yData, plan: plan, context: context)
                    }
                    return
                }
                guard case .rows(let matrices) = prepared else { return }
                switch algorithm {
                case .winograd:
                    WinogradConvolution.run(
                        x: xData, weights: matrices, bias: bData, y: yData, batch: plan.batch, channels: plan.channels,
                        outputChannels: plan.outputChannels, group: group, geometry: plan.geometry, activation: innerActivation,
                        inputActivation: inputActivation, context: context)
                case .taps:
                    TapConvolution.run(
                        x: xData, weights: matrices, bias: bData, y: yData, batch: plan.batch, channels: plan.channels,
                        outputChannels: plan.outputChannels, group: group, geometry: plan.geometry, activation: innerActivation,
                        inputActivation: inputActivation, context: context)
                case .matrix, .depthwise:
                    break
                }
            }
        }
        return [y]
    }

    /// X with the pre-activation applied, for the algorithms that read X in place.
    private func activated(_ x: Tensor, _ transform: InputActivation, context: ExecutionContext) -> Tensor {
        let (result, data) = context.allocateFloats(x.shape)
        LinearSupport.withFloats(x) { source in
            transform.apply(source, into: data, batch: x.shape[0], channels: x.shape[1], planeSize: x.elementCount / max(1, x.shape[0] * x.shape[1]), context: context)
        }
        return result
    }

    private func runDepthwise(
        x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
        plan: Plan, activation: UnaryFunction?, context: ExecutionContext
    ) {
        DepthwiseConv2D.run(
            x: x, weights: w, bias: bias, y: y, planes: plan.batch * plan.channels, channels: plan.channels,
            geometry: plan.geometry, context: context)
        if let activation {
            applyActivation(activation, to: y, count: plan.batch * plan.outputChannels * plan.geometry.outputSize, context: context)
        }
    }

    /// Y = activation(Y), element by element (so in any layout).
    private func applyActivation(_ activation: UnaryFunction, to y: UnsafeMutablePointer<Float>, count: Int, context: ExecutionContext) {
        context.parallelFor(count, grain: 16384) { range in
            activation.map(y + range.lowerBound, y + range.lowerBound, count: range.count)
        }
    }

    /// Y = activation(Y + Z) for the algorithms whose epilogue has no residual (run without
    /// their activation).
    private func addResidual(_ z: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>, count: Int, context: ExecutionContext) {
        context.parallelFor(count, grain: 16384) { range in
            for index in range { y[index] += z[index] }
            activation?.map(y + range.lowerBound, y + range.lowerBound, count: range.count)
        }
    }

    /// One GEMM per image and group: on the image itself for a 1x1 stride-1 unpadded conv,
    /// else on its im2col matrix; the residual, when given, added in the epilogue.
    private func runMatrix(
        x: UnsafePointer<Float>, weights: PreparedMatrices, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, plan: Plan, context: ExecutionContext
    ) {
        let g = plan.geometry
        let groupChannels = plan.channels / group, groupOutputs = plan.outputChannels / group
        let outputSize = g.outputSize
        let pointwise = g.dims.allSatisfy { $0.kernel == 1 && $0.stride == 1 && $0.padBegin == 0 && $0.padEnd == 0 }
        // One column buffer reused for every image and group (pooled across runs).
        let column = pointwise ? nil : context.allocateFloats([groupChannels * g.kernelSize * outputSize])
        withExtendedLifetime(column?.tensor) {
            for n in 0..<plan.batch {
                for gi in 0..<group {
                    let xg = x + (n * plan.channels + gi * groupChannels) * g.inputSize
                    let yg = y + (n * plan.outputChannels + gi * groupOutputs) * outputSize
                    let matrix: UnsafePointer<Float>
                    if let column {
                        Im2col.pack(xg, channels: groupChannels, geometry: g, into: column.data, context: context)
                        matrix = UnsafePointer(column.data)
                    } else {
                        matrix = xg
                    }
                    let epilogue = GEMMEpilogue(
                        bias: bias.map { .perRow($0 + gi * groupOutputs) } ?? .none, activation: activation,
                        residual: residual.map { $0 + (n * plan.outputChannels + gi * groupOutputs) * outputSize })
                    switch weights {
                    case .rows(let matrices):
                        PackedGEMM.multiply(
                            matrices[gi], b: matrix, ldb: outputSize, n: outputSize, c: yg, ldc: outputSize, epilogue: epilogue,
                            paneledB: paneledInput, paneledC: paneledOutput, context: context)
                    case .channels(let matrices):
                        ChannelPanelGEMM.multiply(
                            matrices[gi], b: matrix, ldb: outputSize, n: outputSize, c: yg, ldc: outputSize, epilogue: epilogue,
                            blockedB: blockedInput, blockedC: blockedOutput, context: context)
                    }
                }
            }
        }
    }

    /// 2 x (multiply-adds): every output element sums C/group x kernel products.
    func flops(inputs: [Tensor?], outputs: [Tensor]) -> Int {
        guard let y = outputs.first, let shape = inputs.dropFirst().first??.shape ?? constantWeightShape, let first = shape.first, first > 0
        else { return 0 }
        return 2 * y.elementCount * (shape.reduce(1, *) / first) + y.elementCount * (activation?.flopsPerElement ?? 0)
    }
}

/// `body` with a pointer to `values`' floats, or nil.
private func withOptionalFloats<R>(_ values: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let values else { return body(nil) }
    return values.withUnsafeBufferPointer { body($0.baseAddress!) }
}
