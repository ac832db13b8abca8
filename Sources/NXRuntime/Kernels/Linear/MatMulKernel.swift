import NXIR

/// ONNX MatMul (numpy matmul), float32: A [..., M, K] x B [..., K, N] -> [..., M, N] with
/// the batch dimensions broadcast; a 1-D A is a row [1, K] and a 1-D B a column [K, 1],
/// whose added dimension is dropped from the result. When B is one matrix (the weights of a
/// linear layer) and A's batch is not broadcast, A's batch folds into M: one GEMM in all.
struct MatMulKernel: Kernel {
    /// A constant B, copied at load.
    let packedB: PackedFloats?
    /// Set when the optimizer fused a Linear layer's bias (along the last axis) and an
    /// activation in: applied to each output block in cache.
    var columnBias: PackedFloats?
    var activation: UnaryFunction?

    init(_ context: KernelBuildContext) throws {
        packedB = try context.constantInput(1).map { try ConvKernel.pack($0, "B") }
    }

    /// Shapes of one product: batch shape and strides (in matrices; 0 = broadcast), sizes.
    struct Plan {
        let outputShape: [Int]
        let batchShape: [Int]
        let aBatchStrides: [Int]
        let bBatchStrides: [Int]
        /// Matrices A holds: equal to the batch's count when A is not broadcast.
        let aCount: Int
        let m: Int, k: Int, n: Int
    }

    static func plan(_ aShape: [Int], _ bShape: [Int]) throws -> Plan {
        guard !aShape.isEmpty, !bShape.isEmpty else {
            throw KernelError("operands must have rank >= 1, are A \(aShape) and B \(bShape)")
        }
        let a = aShape.count == 1 ? [1] + aShape : aShape
        let b = bShape.count == 1 ? bShape + [1] : bShape
        let (m, k) = (a[a.count - 2], a[a.count - 1])
        let (kb, n) = (b[b.count - 2], b[b.count - 1])
        guard k == kb else {
            throw KernelError("inner dimensions differ: A \(aShape) has K = \(k), B \(bShape) has K = \(kb)")
        }
        let aBatch = Array(a.dropLast(2)), bBatch = Array(b.dropLast(2))
        guard let batch = Broadcasting.shape([aBatch, bBatch]) else {
            throw KernelError("batch dimensions \(aBatch) of A \(aShape) and \(bBatch) of B \(bShape) do not broadcast")
        }
        var output = batch
        if aShape.count > 1 { output.append(m) }
        if bShape.count > 1 { output.append(n) }
        return Plan(
            outputShape: output, batchShape: batch,
            aBatchStrides: Broadcasting.broadcastStrides(aBatch, to: batch),
            bBatchStrides: Broadcasting.broadcastStrides(bBatch, to: batch), aCount: aBatch.reduce(1, *), m: m, k: k, n: n)
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        guard inputs.count >= 2, let a = inputs[0], let b = inputs[1] else { throw KernelError("needs inputs A and B") }
        try LinearSupport.requireFloat32(a, "A")
        try LinearSupport.requireFloat32(b, "B")
        let plan = try Self.plan(a.shape, b.shape)
        if let columnBias, columnBias.count != plan.n {
            throw KernelError("bias has \(columnBias.count) values, the result's last axis is \(plan.n)")
        }
        let (y, yData) = context.allocateFloats(plan.outputShape)
        if y.elementCount == 0 { return [y] }
        LinearSupport.withFloats(a) { aData in
            LinearSupport.withFloats(packedB, b) { bData in
                LinearSupport.withFloats(columnBias, nil) { biasData in
                    let epilogue = GEMMEpilogue(bias: biasData.map { .perColumn($0) } ?? .none, activation: activation)
                    Self.multiply(aData, bData, yData, plan, context: context, epilogue: epilogue)
                }
            }
        }
        return [y]
    }

    static func multiply(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ plan: Plan,
        context: ExecutionContext, epilogue: GEMMEpilogue
    ) {
        let (m, k, n) = (plan.m, plan.k, plan.n)
        let count = plan.batchShape.reduce(1, *)
        let bIsOneMatrix = plan.bBatchStrides.allSatisfy { $0 == 0 }
        if bIsOneMatrix && plan.aCount == count {
            SGEMM.multiply(
                m: count * m, n: n, k: k, a: a, lda: k, b: b, ldb: n, beta: 0, c: y, ldc: n, context: context, epilogue: epilogue)
            return
        }
        // Walk the broadcast batch with an odometer, one GEMM per matrix.
        let rank = plan.batchShape.count
        var index = [Int](repeating: 0, count: rank)
        var aOffset = 0, bOffset = 0
        for item in 0..<count {
            SGEMM.multiply(
                m: m, n: n, k: k, a: a + aOffset * m * k, lda: k, b: b + bOffset * k * n, ldb: n, beta: 0,
                c: y + item * m * n, ldc: n, context: context, epilogue: epilogue)
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                aOffset += plan.aBatchStrides[axis]
                bOffset += plan.bBatchStrides[axis]
                if index[axis] < plan.batchShape[axis] { break }
                aOffset -= plan.aBatchStrides[axis] * index[axis]
                bOffset -= plan.bBatchStrides[axis] * index[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }

    /// 2 x M x N x K per matrix: output elements times K.
    func flops(inputs: [Tensor?], outputs: [Tensor]) -> Int {
        guard let a = inputs.first ?? nil, let k = a.shape.last, let y = outputs.first else { return 0 }
        return 2 * y.elementCount * k + y.elementCount * ((columnBias == nil ? 0 : 1) + (activation?.flopsPerElement ?? 0))
    }
}
