import NXIR

/// ONNX GlobalAveragePool / GlobalMaxPool, float32: X [N, C, spatial...] -> [N, C, 1, ...],
/// the mean or maximum of each channel's plane.
struct GlobalPoolKernel: Kernel {
    enum Reduction: Sendable { case average, maximum }
    let reduction: Reduction

    init(_ reduction: Reduction) { self.reduction = reduction }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        guard let x = inputs.first ?? nil else { throw KernelError("needs input X") }
        try LinearSupport.requireFloat32(x, "input X")
        guard x.rank >= 3 else { throw KernelError("input X must be [N, C, spatial...], is \(x.shape)") }
        let planes = x.shape[0] * x.shape[1]
        let size = x.shape[2...].reduce(1, *)
        let (y, yData) = context.allocateFloats(Array(x.shape[0..<2]) + [Int](repeating: 1, count: x.rank - 2))
        if planes == 0 { return [y] }
        guard size > 0 else { throw KernelError("input X \(x.shape) has an empty spatial extent") }
        let reduction = reduction
        LinearSupport.withFloats(x) { xData in
            context.parallelFor(planes, grain: max(1, 65536 / size)) { range in
                for plane in range {
                    let source = xData + plane * size
                    switch reduction {
                    case .average: yData[plane] = Self.sum(source, size) / Float(size)
                    case .maximum: yData[plane] = Self.maximum(source, size)
                    }
                }
            }
        }
        return [y]
    }

    typealias Vector = SIMD16<Float>

    /// Sum with 16 lane accumulators: faster and more accurate than one running sum.
    static func sum(_ p: UnsafePointer<Float>, _ count: Int) -> Float {
        var lanes = Vector(repeating: 0)
        var i = 0
        while i + 16 <= count {
            lanes += UnsafeRawPointer(p + i).loadUnaligned(as: Vector.self)
            i += 16
        }
        var total = lanes.sum()
        while i < count {
            total += p[i]
            i += 1
        }
        return total
    }

    /// Maximum of `count` (>= 1) floats; a NaN anywhere gives NaN, as numpy's max does.
    static func maximum(_ p: UnsafePointer<Float>, _ count: Int) -> Float {
        var best = p[0]
        for i in 1..<count {
            if p[i].isNaN { return p[i] }
            if p[i] > best { best = p[i] }
        }
        return best
    }
}
