import NXIR

/// ONNX LayerNormalization (opset 17+), float32: each row X[i0..i(axis-1), :] over the axes
/// [axis, rank) is normalized to zero mean and unit variance (epsilon added to the variance),
/// then multiplied by Scale and shifted by the optional B, both broadcast onto the normalized
/// shape. Optional outputs Mean and InvStdDev have X's shape with the normalized axes set to 1.
/// Statistics are computed in float32 whatever `stash_type` says (ONNX allows only float or
/// bfloat16 for them; float32 is the more precise of the two).
struct LayerNormalizationKernel: Kernel {
    let axis: Int
    let epsilon: Float
    let wantsStatistics: Bool
    let constantScale: FloatParameter?
    let constantBias: FloatParameter?

    init(_ context: KernelBuildContext) throws {
        axis = try context.int("axis", default: -1)
        epsilon = try context.float("epsilon", default: 1e-5)
        let stash = try context.int("stash_type", default: 1)
        guard stash == 1 || stash == 16 else {
            throw KernelError("stash_type \(stash) is not supported (1 = float32 or 16 = bfloat16)")
        }
        guard context.hasInput(1) else { throw KernelError("LayerNormalization needs a Scale input") }
        wantsStatistics = context.node.outputs.dropFirst().contains { !$0.isEmpty }
        constantScale = try context.constantInput(1).map { try FloatParameter($0, name: "Scale") }
        constantBias = try context.constantInput(2).map { try FloatParameter($0, name: "B") }
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        guard let x = inputs.first ?? nil else { throw KernelError("input X is missing") }
        guard x.dataType == .float32 else { throw KernelError("X must be float32, is \(x.dataType)") }
        let a = try normalizedAxis(axis, rank: x.rank)
        let normalizedShape = Array(x.shape[a...])
        let rows = normProduct(x.shape[..<a])
        let columns = normProduct(x.shape[a...])

        guard let scaleParameter = try constantScale ?? (inputs.count > 1 ? inputs[1] : nil).map({ try FloatParameter($0, name: "Scale") }) else {
            throw KernelError("input Scale is missing")
        }
        let scale = try scaleParameter.dense(over: normalizedShape, name: "Scale", role: "normalized shape (X dims from axis \(a)) of")
        let biasInput = inputs.count > 2 ? inputs[2] : nil
        let bias = try (constantBias ?? biasInput.map { try FloatParameter($0, name: "B") })?
            .dense(over: normalizedShape, name: "B", role: "normalized shape (X dims from axis \(a)) of")

        let (y, yData) = context.allocateFloats(x.shape)
        let statisticsShape = Array(x.shape[..<a]) + [Int](repeating: 1, count: x.rank - a)
        let mean = wantsStatistics ? context.allocateFloats(statisticsShape) : nil
        let inverse = wantsStatistics ? context.allocateFloats(statisticsShape) : nil
        guard x.elementCount > 0 else {
            return wantsStatistics ? [y, mean!.tensor, inverse!.tensor] : [y]
        }
        let xData = x.storage.bytes.baseAddress!
        let epsilon = epsilon
        let meanData = mean?.data, inverseData = inverse?.data

        scale.withUnsafeBufferPointer { scaleBuffer in
            (bias ?? []).withUnsafeBufferPointer { biasBuffer in
                let scalePointer = UnsafeRawPointer(scaleBuffer.baseAddress!)
                let biasPointer = bias == nil ? nil : UnsafeRawPointer(biasBuffer.baseAddress!)
                context.parallelFor(rows, grain: max(1, 16_384 / max(columns, 1))) { range in
                    // Statistics of a block of rows first, then their outputs: the rows'
                    // sum -> mean -> variance -> sqrt chains are independent, so they overlap
                    // instead of each stalling its row's output pass (matters for C ~ 100).
                    withUnsafeTemporaryAllocation(of: NormSIMD.RowStatistics.self, capacity: 8) { block in
                        var first = range.lowerBound
                        while first < range.upperBound {
                            let count = min(8, range.upperBound - first)
                            for k in 0..<count {
                                let row = first + k
                                let statistics = NormSIMD.statistics(xData + row &* columns &* 4, count: columns, epsilon: epsilon)
                                block.initializeElement(at: k, to: statistics)
                                meanData?[row] = statistics.mean
                                inverseData?[row] = statistics.inverseDeviation
                            }
                            for k in 0..<count {
                                let row = first + k
                                let statistics = block[k]
                                LayerNormalizationKernel.normalizeRow(
                                    xData + row &* columns &* 4, UnsafeMutableRawPointer(yData + row &* columns), count: columns,
                                    mean: statistics.rough, correction: statistics.correction,
                                    inverseDeviation: statistics.inverseDeviation, scale: scalePointer, bias: biasPointer)
                            }
                            first += count
                        }
                    }
                }
            }
        }
        return wantsStatistics ? [y, mean!.tensor, inverse!.tensor] : [y]
    }

    /// y[i] = ((x[i] - mean) - correction) * inverseDeviation * scale[i] + bias[i] over one row.
    @inline(__always)
    static func normalizeRow(
        _ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, count: Int, mean: Float, correction: Float, inverseDeviation: Float,
        scale: UnsafeRawPointer, bias: UnsafeRawPointer?
    ) {
        let m = NormSIMD.Vector(repeating: mean), c = NormSIMD.Vector(repeating: correction)
        let s = NormSIMD.Vector(repeating: inverseDeviation)
        var i = 0
        if let bias {
            while i &+ 16 <= count {
                let value = (NormSIMD.load(x, i) - m - c) * s * NormSIMD.load(scale, i) + NormSIMD.load(bias, i)
                NormSIMD.store(value, y, i)
                i &+= 16
            }
        } else {
            while i &+ 16 <= count {
                NormSIMD.store((NormSIMD.load(x, i) - m - c) * s * NormSIMD.load(scale, i), y, i)
                i &+= 16
            }
        }
        if i < count && count >= 16 {
            // The last 16 again (some rewritten with the same values) rather than a scalar tail.
            let j = count &- 16
            let b = bias.map { NormSIMD.load($0, j) } ?? NormSIMD.Vector()
            NormSIMD.store((NormSIMD.load(x, j) - m - c) * s * NormSIMD.load(scale, j) + b, y, j)
            i = count
        }
        let typed = y.assumingMemoryBound(to: Float.self)
        while i < count {
            let b = bias.map { NormSIMD.scalar($0, i) } ?? 0
            typed[i] = (NormSIMD.scalar(x, i) - mean - correction) * inverseDeviation * NormSIMD.scalar(scale, i) + b
            i &+= 1
        }
    }

    func flops(inputs: [Tensor?], outputs: [Tensor]) -> Int { 8 * (inputs.first??.elementCount ?? 0) }
}
