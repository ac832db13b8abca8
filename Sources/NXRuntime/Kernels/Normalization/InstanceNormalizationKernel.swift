import NXIR

/// ONNX InstanceNormalization (opsets 6, 22), float32: X [N, C, D...], each (n, c) plane
/// normalized over its D... elements, y = (x - mean) / sqrt(var + epsilon) * scale[c] + B[c],
/// with scale and B of shape [C].
struct InstanceNormalizationKernel: Kernel {
    let epsilon: Float
    let constantScale: FloatParameter?
    let constantBias: FloatParameter?

    init(_ context: KernelBuildContext) throws {
        epsilon = try context.float("epsilon", default: 1e-5)
        guard context.hasInput(1), context.hasInput(2) else {
            throw KernelError("InstanceNormalization needs 3 inputs (input, scale, B)")
        }
        constantScale = try context.constantInput(1).map { try FloatParameter($0, name: "scale") }
        constantBias = try context.constantInput(2).map { try FloatParameter($0, name: "B") }
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        guard let x = inputs.first ?? nil else { throw KernelError("input is missing") }
        guard x.dataType == .float32 else { throw KernelError("input must be float32, is \(x.dataType)") }
        guard x.rank >= 2 else { throw KernelError("input must have rank >= 2 [N, C, ...], has shape \(x.shape)") }
        let (n, c) = (x.shape[0], x.shape[1])
        let inner = normProduct(x.shape[2...])
        func parameter(_ index: Int, _ constant: FloatParameter?, _ name: String) throws -> [Float] {
            guard let value = try constant ?? (index < inputs.count ? inputs[index] : nil).map({ try FloatParameter($0, name: name) }) else {
                throw KernelError("input \(name) is missing")
            }
            guard value.values.count == c, value.shape.filter({ $0 != 1 }).count <= 1 else {
                throw KernelError("\(name) has shape \(value.shape), expected [\(c)] (the channels of input \(x.shape))")
            }
            return value.values
        }
        let scale = try parameter(1, constantScale, "scale")
        let bias = try parameter(2, constantBias, "B")
        let (y, yData) = context.allocateFloats(x.shape)
        guard x.elementCount > 0 else { return [y] }
        let xData = x.storage.bytes.baseAddress!
        let epsilon = epsilon
        scale.withUnsafeBufferPointer { scaleBuffer in
            bias.withUnsafeBufferPointer { biasBuffer in
                let scalePointer = scaleBuffer.baseAddress!, biasPointer = biasBuffer.baseAddress!
                context.parallelFor(n * c, grain: max(1, 16_384 / inner)) { range in
                    for plane in range {
                        let channel = plane % c
                        let source = xData + plane * inner * 4
                        let statistics = NormSIMD.statistics(source, count: inner, epsilon: epsilon)
                        let a = statistics.inverseDeviation * scalePointer[channel]
                        NormSIMD.affine(
                            source, UnsafeMutableRawPointer(yData + plane * inner), count: inner,
                            center: statistics.rough, centerCorrection: statistics.correction, scale: a, shift: biasPointer[channel])
                    }
                }
            }
        }
        return [y]
    }

    func flops(inputs: [Tensor?], outputs: [Tensor]) -> Int { 7 * (inputs.first??.elementCount ?? 0) }
}
