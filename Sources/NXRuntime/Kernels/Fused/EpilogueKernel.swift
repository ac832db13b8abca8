import NXIR

/// A GEMM-based kernel that can finish each output block with an activation while the
/// block is in cache, instead of a second pass over the whole output.
protocol ActivationFusing: Kernel {
    var activation: UnaryFunction? { get set }
}

extension ConvKernel: ActivationFusing {}
extension GemmKernel: ActivationFusing {}
extension MatMulKernel: ActivationFusing {}

/// Builds the kernels of the optimizer's ai.nx FusedConv, FusedGemm and FusedMatMul: the
/// inner op's kernel with the fused activation (and, for FusedMatMul, the Linear bias along
/// the last axis, its third input) folded into its GEMM epilogue.
enum EpilogueFusion {
    /// The activation named by a fused node's attributes: `activation` is the ONNX op type,
    /// and its own attributes travel prefixed with "activation_" (e.g. activation_alpha).
    static func activation(_ context: KernelBuildContext) throws -> UnaryFunction? {
        guard let name = try? context.string("activation", default: ""), !name.isEmpty else { return nil }
        var attributes: [String: Attribute] = [:]
        for (key, value) in context.node.attributes where key.hasPrefix("activation_") {
            attributes[String(key.dropFirst("activation_".count))] = value
        }
        let activationNode = Node(name: context.node.name, opType: name, inputs: ["x"], outputs: ["y"], attributes: attributes)
        return try UnaryKernel(name, context: KernelBuildContext(node: activationNode, opset: 20)).function
    }

    /// The inner kernel, built from the fused node seen as `innerOp` with its own inputs.
    static func kernel<K: ActivationFusing>(
        _ context: KernelBuildContext, innerOp: String, make: (KernelBuildContext) throws -> K
    ) throws -> K {
        var innerNode = context.node
        innerNode.opType = innerOp
        innerNode.domain = ""
        innerNode.attributes = context.node.attributes.filter { !$0.key.hasPrefix("activation") }
        innerNode.attributes = innerNode.attributes.filter {
            $0.key != "input_activation" && $0.key != "weight_transposed" && !$0.key.hasSuffix("_channel_block")
                && !$0.key.hasSuffix("_pixel_block")
        }
        if innerOp == "MatMul" { innerNode.inputs = Array(innerNode.inputs.prefix(2)) }
        if innerOp == "Conv" { innerNode.inputs = Array(innerNode.inputs.prefix(3)) }
        var kernel = try make(KernelBuildContext(node: innerNode, opset: 17, constants: context.constants, inputShapes: context.inputShapes))
        kernel.activation = try activation(context)
        return kernel
    }

    /// FusedConv: the fused activation, the pre-activation (inputs 3 and 4, constant
    /// per-channel scale and shift, with `input_activation = "Relu"`), the residual
    /// (input 5, added before the activation) and the weight scale (input 6, constant, one
    /// factor per output channel) when present.
    static func conv(_ context: KernelBuildContext) throws -> ConvKernel {
        var weightScale: [Float]?
        if context.hasInput(6) {
            guard let scale = context.constantInput(6), scale.dataType == .float32 else {
                throw KernelError("the weight scale (input 6) must be a constant float32 tensor")
            }
            weightScale = try scale.floatValues()
        }
        let transposed = try context.int("weight_transposed", default: 0) == 1
        var kernel = try Self.kernel(context, innerOp: "Conv") { try ConvKernel($0, weightScale: weightScale, weightTransposed: transposed) }
        kernel.addsResidual = context.hasInput(5)
        let name = (try? context.string("input_activation", default: "")) ?? ""
        try kernel.setBlockedLayouts(
            ConvKernel.BlockedLayouts(
                inputChannelBlock: context.int("input_channel_block", default: 0),
                outputChannelBlock: context.int("output_channel_block", default: 0),
                inputPixelBlock: context.int("input_pixel_block", default: 0),
                outputPixelBlock: context.int("output_pixel_block", default: 0)),
            preActivated: !name.isEmpty)
        guard !name.isEmpty else { return kernel }
        guard name == "Relu" else { throw KernelError("input_activation '\(name)' is not supported (Relu is)") }
        guard let scale = try context.constantInput(3)?.floatValues(), let shift = try context.constantInput(4)?.floatValues(),
            scale.count == shift.count
        else { throw KernelError("input_activation needs constant per-channel input_scale and input_shift (inputs 3 and 4)") }
        kernel.inputActivation = InputActivation(scale: scale, shift: shift)
        return kernel
    }

    static func matMul(_ context: KernelBuildContext) throws -> MatMulKernel {
        var kernel = try Self.kernel(context, innerOp: "MatMul") { try MatMulKernel($0) }
        guard let bias = context.constantInput(2) else { throw KernelError("FusedMatMul needs a constant bias input") }
        try LinearSupport.requireFloat32(bias, "bias")
        guard bias.rank == 1 else { throw KernelError("FusedMatMul bias must be 1-D, is \(bias.shape)") }
        kernel.columnBias = PackedFloats(bias)
        return kernel
    }
}
