import NXIR

/// ONNX BatchNormalization in inference mode (opsets 7, 9, 14, 15), float32: X [N, C, D...],
/// y = (x - mean[c]) / sqrt(var[c] + epsilon) * scale[c] + B[c], computed as (x - mean[c]) * a[c] + B[c]
/// with a = scale / sqrt(var + epsilon) packed at load when the parameters are initializers
/// (not folded further into x * a + b, which loses digits when the mean is large). Opset 7's `spatial = 0` takes
/// parameters of shape [C, D...], one per element of a sample. Training (training_mode = 1,
/// or the running-statistics outputs before opset 14) is rejected at load.
struct BatchNormalizationKernel: Kernel {
    let epsilon: Float
    let perElement: Bool
    /// (mean, a, B) when every parameter is a constant.
    let packed: Folded?

    /// Per channel (or per element): y = (x - center) * scale + shift.
    struct Folded: Sendable {
        let center: [Float]
        let scale: [Float]
        let shift: [Float]
    }

    init(_ context: KernelBuildContext) throws {
        epsilon = try context.float("epsilon", default: 1e-5)
        let spatial = try context.int("spatial", default: 1)
        perElement = context.opset < 9 && spatial == 0
        if context.opset >= 14 {
            let training = try context.int("training_mode", default: 0)
            guard training == 0 else {
                throw KernelError("training_mode = 1 is not supported: this runtime runs BatchNormalization in inference mode only")
            }
        }
        if context.node.outputs.dropFirst().contains(where: { !$0.isEmpty }) {
            throw KernelError("the running mean/variance outputs are training-mode only; this runtime runs BatchNormalization in inference mode only")
        }
        for index in 1...4 where !context.hasInput(index) {
            throw KernelError("BatchNormalization needs 5 inputs (X, scale, B, input_mean, input_var); input \(index) is missing")
        }
        let constants = (1...4).map { context.constantInput($0) }
        if constants.allSatisfy({ $0 != nil }) {
            packed = try Self.fold(constants.map { $0! }, epsilon: epsilon)
        } else {
            packed = nil
        }
    }

    private static let names = ["scale", "B", "input_mean", "input_var"]

    /// a = scale / sqrt(var + epsilon), after checking the four parameters have one size.
    static func fold(_ tensors: [Tensor], epsilon: Float, expected: Int? = nil, xShape: [Int]? = nil) throws -> Folded {
        let parameters = try zip(tensors, names).map { try FloatParameter($0, name: $1) }
        let count = expected ?? parameters[0].values.count
        for (parameter, name) in zip(parameters, names) where parameter.values.count != count {
            let context = xShape.map { " (from X \($0))" } ?? ""
            throw KernelError("\(name) has shape \(parameter.shape), expected \(count) values\(context) like scale")
        }
        let a = (0..<count).map { i in parameters[0].values[i] / (parameters[3].values[i] + epsilon).squareRoot() }
        return Folded(center: parameters[2].values, scale: a, shift: parameters[1].values)
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        guard let x = inputs.first ?? nil else { throw KernelError("input X is missing") }
        guard x.dataType == .float32 else { throw KernelError("X must be float32, is \(x.dataType)") }
        guard x.rank >= 2 else { throw KernelError("X must have rank >= 2 [N, C, ...], has shape \(x.shape)") }
        let (n, c) = (x.shape[0], x.shape[1])
        let inner = normProduct(x.shape[2...])
        let expected = perElement ? c * inner : c
        let folded: Folded
        if let packed {
            guard packed.scale.count == expected else {
                throw KernelError("scale has \(packed.scale.count) values, expected \(expected) for X \(x.shape)")
            }
            folded = packed
        } else {
            let tensors = try (1...4).map { index in
                guard index < inputs.count, let tensor = inputs[index] else { throw KernelError("input \(Self.names[index - 1]) is missing") }
                return tensor
            }
            folded = try Self.fold(tensors, epsilon: epsilon, expected: expected, xShape: x.shape)
        }
        let (y, yData) = context.allocateFloats(x.shape)
        guard x.elementCount > 0 else { return [y] }
        let xData = x.storage.bytes.baseAddress!
        folded.center.withUnsafeBufferPointer { mBuffer in
            folded.scale.withUnsafeBufferPointer { aBuffer in
                folded.shift.withUnsafeBufferPointer { bBuffer in
                    let (m, a, b) = (mBuffer.baseAddress!, aBuffer.baseAddress!, bBuffer.baseAddress!)
                    if perElement || inner == 1 {
                        // One (mean, a, B) per element of a sample: rows of length C * inner.
                        let length = c * inner
                        context.parallelFor(n, grain: max(1, 32_768 / length)) { range in
                            for row in range {
                                Self.affineRow(xData + row * length * 4, UnsafeMutableRawPointer(yData + row * length), count: length, center: m, scale: a, shift: b)
                            }
                        }
                    } else {
                        context.parallelFor(n * c, grain: max(1, 32_768 / inner)) { range in
                            for plane in range {
                                let channel = plane % c
                                NormSIMD.affine(
                                    xData + plane * inner * 4, UnsafeMutableRawPointer(yData + plane * inner), count: inner,
                                    center: m[channel], scale: a[channel], shift: b[channel])
                            }
                        }
                    }
                }
            }
        }
        return [y]
    }

    /// y[i] = (x[i] - center[i]) * scale[i] + shift[i].
    @inline(__always)
    static func affineRow(
        _ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, count: Int,
        center: UnsafePointer<Float>, scale: UnsafePointer<Float>, shift: UnsafePointer<Float>
    ) {
        let (c, a, b) = (UnsafeRawPointer(center), UnsafeRawPointer(scale), UnsafeRawPointer(shift))
        var i = 0
        while i + 16 <= count {
            NormSIMD.store((NormSIMD.load(x, i) - NormSIMD.load(c, i)) * NormSIMD.load(a, i) + NormSIMD.load(b, i), y, i)
            i += 16
        }
        let typed = y.assumingMemoryBound(to: Float.self)
        while i < count {
            typed[i] = (NormSIMD.scalar(x, i) - center[i]) * scale[i] + shift[i]
            i += 1
        }
    }

    func flops(inputs: [Tensor?], outputs: [Tensor]) -> Int { 2 * (inputs.first??.elementCount ?? 0) }
}
