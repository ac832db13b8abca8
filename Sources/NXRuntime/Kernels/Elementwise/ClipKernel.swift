import NXIR

/// Clip: y = min(max(x, min), max), so min > max gives max everywhere (as numpy's clip and
/// the ONNX reference do). Opsets 6-10 take float attributes `min`/`max` (defaults: the
/// float32 range); from 11 they are optional scalar inputs 1 and 2 of x's type (absent: no
/// bound). float32 (vectorized), int32, int64.
struct ClipKernel: Kernel {
    /// Bounds from attributes (opsets before 11); `nil` when they come from inputs.
    let attributeBounds: (min: Float, max: Float)?

    init(_ context: KernelBuildContext) throws {
        if context.opset < 11 {
            attributeBounds = (
                try context.float("min", default: -Float.greatestFiniteMagnitude),
                try context.float("max", default: Float.greatestFiniteMagnitude)
            )
        } else {
            attributeBounds = nil
        }
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let input = try ElementwiseSupport.input(inputs, 0, "Clip")
        switch input.dataType {
        case .float32:
            if let attributeBounds {
                return [ElementwiseSupport.mapFloats(input, context, ClipFloat(lower: attributeBounds.min, upper: attributeBounds.max))]
            }
            let lower = try bound(inputs, 1, Float.self, input) ?? -.infinity
            let upper = try bound(inputs, 2, Float.self, input) ?? .infinity
            return [ElementwiseSupport.mapFloats(input, context, ClipFloat(lower: lower, upper: upper))]
        case .int32 where attributeBounds == nil: return [try clipIntegers(Int32.self, inputs, input, context)]
        case .int64 where attributeBounds == nil: return [try clipIntegers(Int64.self, inputs, input, context)]
        default:
            let types = attributeBounds == nil ? "float32, int32, int64" : "float32"
            throw KernelError("Clip does not support \(input.dataType) at opset \(attributeBounds == nil ? "11+" : "6-10"); supported: \(types)")
        }
    }

    /// The scalar bound in input `index`, when given; it must have x's type.
    private func bound<T>(_ inputs: [Tensor?], _ index: Int, _: T.Type, _ input: Tensor) throws -> T? {
        guard index < inputs.count, let tensor = inputs[index] else { return nil }
        let name = index == 1 ? "min" : "max"
        guard tensor.dataType == input.dataType else {
            throw KernelError("Clip \(name) is \(tensor.dataType), input is \(input.dataType)")
        }
        return try ElementwiseSupport.scalar(tensor, as: T.self, "Clip", name: name)
    }

    private func clipIntegers<T: FixedWidthInteger>(_: T.Type, _ inputs: [Tensor?], _ input: Tensor, _ context: ExecutionContext) throws -> Tensor {
        let lower = try bound(inputs, 1, T.self, input) ?? T.min
        let upper = try bound(inputs, 2, T.self, input) ?? T.max
        return ElementwiseSupport.mapIntegers(input, T.self, context: context) { Swift.min(Swift.max($0, lower), upper) }
    }

    func flops(inputs: [Tensor?], outputs: [Tensor]) -> Int {
        guard let output = outputs.first, output.dataType == .float32 else { return 0 }
        return output.elementCount * 2
    }
}

/// min(max(x, lower), upper), keeping NaN.
private struct ClipFloat: FloatVectorFunction {
    let lower: Float
    let upper: Float
    @inline(__always) func callAsFunction(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let raised = x.replacing(with: lower, where: x .< SIMD16(repeating: lower))
        return raised.replacing(with: upper, where: raised .> SIMD16(repeating: upper))
    }
}
