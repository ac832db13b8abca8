import NXIR

/// A GEMM-like op (Conv, Gemm, MatMul) followed by an epilogue applied to its result while
/// the result is still in cache: an optional bias along the last axis (MatMul's Linear bias)
/// and an optional activation. The optimizer writes these as ai.nx FusedConv, FusedGemm and
/// FusedMatMul; inputs are the inner op's, then the bias for FusedMatMul.
struct EpilogueKernel: Kernel {
    let inner: any Kernel
    let innerInputCount: Int
    let activation: UnaryFunction?
    /// Constant bias of FusedMatMul, added along the last axis.
    let bias: PackedFloats?

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

    init(_ context: KernelBuildContext, innerOp: String, make: (KernelBuildContext) throws -> any Kernel) throws {
        var innerNode = context.node
        innerNode.opType = innerOp
        innerNode.domain = ""
        innerNode.attributes = context.node.attributes.filter { !$0.key.hasPrefix("activation") }
        innerInputCount = innerOp == "MatMul" ? 2 : innerNode.inputs.count
        innerNode.inputs = Array(innerNode.inputs.prefix(innerInputCount))
        inner = try make(KernelBuildContext(node: innerNode, opset: 17, constants: context.constants))
        activation = try Self.activation(context)
        if innerOp == "MatMul" {
            guard let biasTensor = context.constantInput(2) else { throw KernelError("FusedMatMul needs a constant bias input") }
            try LinearSupport.requireFloat32(biasTensor, "bias")
            bias = PackedFloats(biasTensor)
        } else {
            bias = nil
        }
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let results = try inner.run(Array(inputs.prefix(innerInputCount)), context: context)
        guard let output = results.first, output.dataType == .float32, let data = output.storage.mutableBaseAddress else {
            throw KernelError("fused op expects a float32 result")
        }
        let values = data.assumingMemoryBound(to: Float.self)
        let count = output.elementCount
        if let bias {
            let width = bias.count
            guard let last = output.shape.last, last == width, count % width == 0 else {
                throw KernelError("bias has \(width) values, the result's last axis is \(output.shape.last ?? 0)")
            }
            bias.withPointer { b in
                context.parallelFor(count / width, grain: max(1, 16384 / width)) { rows in
                    for row in rows {
                        let line = values + row * width
                        for column in 0..<width { line[column] += b[column] }
                        activation?.map(line, line, count: width)
                    }
                }
            }
        } else if let activation {
            context.parallelFor(count, grain: 16384) { range in
                activation.map(values + range.lowerBound, values + range.lowerBound, count: range.count)
            }
        }
        return results
    }

    func flops(inputs: [Tensor?], outputs: [Tensor]) -> Int {
        let extra = outputs.first.map { $0.elementCount * ((bias == nil ? 0 : 1) + (activation?.flopsPerElement ?? 0)) } ?? 0
        return inner.flops(inputs: Array(inputs.prefix(innerInputCount)), outputs: outputs) + extra
    }
}
