import NXIR

/// ONNX Gemm, float32: Y = alpha * op(A) * op(B) + beta * C with op = transpose when
/// transA / transB is set, A and B 2-D, C optional and broadcast to [M, N] (a scalar, a row
/// [N], a column [M, 1] or the full matrix). C is written into Y first, scaled by beta, and
/// the GEMM accumulates onto it.
struct GemmKernel: Kernel {
    let alpha: Float
    let beta: Float
    let transA: Bool
    let transB: Bool
    let packedB: PackedFloats?
    /// Applied to each output block in cache (set when the optimizer fused one in).
    var activation: UnaryFunction?

    init(_ context: KernelBuildContext) throws {
        alpha = try context.float("alpha", default: 1)
        beta = try context.float("beta", default: 1)
        transA = try context.int("transA", default: 0) != 0
        transB = try context.int("transB", default: 0) != 0
        packedB = try context.constantInput(1).map { try ConvKernel.pack($0, "B") }
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        guard inputs.count >= 2, let a = inputs[0], let b = inputs[1] else { throw KernelError("needs inputs A and B") }
        try LinearSupport.requireFloat32(a, "A")
        try LinearSupport.requireFloat32(b, "B")
        guard a.rank == 2 else { throw KernelError("A must be 2-D, is \(a.shape)") }
        guard b.rank == 2 else { throw KernelError("B must be 2-D, is \(b.shape)") }
        let (m, k) = transA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (kb, n) = transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        guard k == kb else {
            throw KernelError("inner dimensions differ: op(A) is [\(m), \(k)] (A \(a.shape), transA \(transA ? 1 : 0)), op(B) is [\(kb), \(n)] (B \(b.shape), transB \(transB ? 1 : 0))")
        }
        let c = inputs.count > 2 && beta != 0 ? inputs[2] : nil
        var cStrides = [0, 0]
        if let c {
            try LinearSupport.requireFloat32(c, "C")
            let fits = c.rank <= 2 && zip(c.shape.reversed(), [n, m]).allSatisfy { $0 == $1 || $0 == 1 }
            guard fits else { throw KernelError("C \(c.shape) does not broadcast to [\(m), \(n)]") }
            cStrides = Broadcasting.broadcastStrides(c.shape, to: [m, n])
        }
        let (y, yData) = context.allocateFloats([m, n])
        if y.elementCount == 0 { return [y] }
        if let c {
            LinearSupport.withFloats(c) { cData in
                for row in 0..<m {
                    let line = yData + row * n
                    let source = cData + row * cStrides[0]
                    for column in 0..<n { line[column] = beta * source[column * cStrides[1]] }
                }
            }
        }
        LinearSupport.withFloats(a) { aData in
            LinearSupport.withFloats(packedB, b) { bData in
                SGEMM.multiply(
                    transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: aData, lda: a.shape[1],
                    b: bData, ldb: b.shape[1], beta: c == nil ? 0 : 1, c: yData, ldc: n, context: context,
                    epilogue: GEMMEpilogue(activation: activation))
            }
        }
        return [y]
    }

    /// 2 x M x N x K.
    func flops(inputs: [Tensor?], outputs: [Tensor]) -> Int {
        guard let a = inputs.first ?? nil, a.rank == 2, let y = outputs.first else { return 0 }
        return 2 * y.elementCount * (transA ? a.shape[0] : a.shape[1]) + y.elementCount * (activation?.flopsPerElement ?? 0)
    }
}
