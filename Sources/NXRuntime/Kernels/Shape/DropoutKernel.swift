import NXIR

/// Dropout. At inference (always before opset 12; from 12 unless the `training_mode` input
/// is true, or when the ratio is 0) it is the identity: the input itself, and an optional
/// mask that is all true (bool from opset 10; ones of the input type before).
///
/// Training mode (float32 only) drops each element with probability `ratio` and scales the
/// rest by 1/(1-ratio). With a `seed` the draws are numpy's `RandomState(seed).uniform`
/// (MT19937), so results are reproducible and match ONNX's reference; without one, a fresh
/// random seed is used each run.
struct DropoutKernel: Kernel {
    let opset: Int
    let ratioAttribute: Double
    let seed: Int?
    let wantsMask: Bool

    init(_ context: KernelBuildContext) throws {
        opset = context.opset
        wantsMask = context.node.outputs.count > 1 && !context.node.outputs[1].isEmpty
        ratioAttribute = opset < 12 ? Double(try context.float("ratio", default: 0.5)) : 0.5
        seed = opset >= 12 ? try context.int("seed") : nil
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let data = try ShapeSupport.input(inputs, 0, "data")
        let elementSize = try ShapeSupport.elementSize(data, "data")
        var ratio = ratioAttribute
        var training = false
        if opset >= 12 {
            if let ratioTensor = ShapeSupport.optionalInput(inputs, 1) {
                guard ratioTensor.elementCount == 1 else { throw KernelError("'ratio' must be a scalar, has shape \(ratioTensor.shape)") }
                ratio = try ShapeSupport.doubles(ratioTensor, "ratio")[0]
            }
            if let trainingTensor = ShapeSupport.optionalInput(inputs, 2) {
                guard trainingTensor.dataType == .bool, trainingTensor.elementCount == 1 else {
                    throw KernelError("'training_mode' must be a bool scalar, is \(trainingTensor.dataType)\(trainingTensor.shape)")
                }
                training = trainingTensor.storage.bytes[0] != 0
            }
        }
        guard !training || ratio == 0 else { return try train(data, ratio: ratio, context: context) }

        // Identity, plus a mask of all true when asked for.
        guard wantsMask else { return [data] }
        let maskType: DataType = opset >= 10 ? .bool : data.dataType
        let (mask, pointer) = context.allocate(maskType, data.shape)
        let one = try ShapeSupport.encode(1, as: maskType)
        ShapeSupport.fill(pointer, count: data.elementCount, elementSize: maskType == .bool ? 1 : elementSize, pattern: one)
        return [data, mask]
    }

    private func train(_ data: Tensor, ratio: Double, context: ExecutionContext) throws -> [Tensor] {
        guard data.dataType == .float32 else { throw KernelError("training-mode Dropout supports float32 only, data is \(data.dataType)") }
        guard ratio >= 0 && ratio < 1 else { throw KernelError("ratio \(ratio) is outside [0, 1)") }
        let ratio32 = Float(ratio)
        let scale = 1 / (1 - ratio32)
        var generator = MersenneTwister(seed: UInt32(truncatingIfNeeded: seed ?? Int(UInt32.random(in: .min ... .max))))
        let (output, values) = context.allocateFloats(data.shape)
        let (mask, flags) = context.allocate(.bool, data.shape)
        let source = data.storage.bytes
        for index in 0..<data.elementCount {
            let keep = generator.nextDouble() >= Double(ratio32)
            let x = source.loadUnaligned(fromByteOffset: index * 4, as: Float.self)
            values[index] = keep ? x * scale : 0
            flags.storeBytes(of: keep ? 1 : 0, toByteOffset: index, as: UInt8.self)
        }
        return [output, mask]
    }
}

/// MT19937 seeded as numpy's legacy `RandomState(seed)` (init_genrand), giving its 53-bit
/// doubles in [0, 1): the generator behind ONNX's reference Dropout.
struct MersenneTwister {
    private var state = [UInt32](repeating: 0, count: 624)
    private var position = 624

    init(seed: UInt32) {
        state[0] = seed
        for i in 1..<624 {
            let previous = state[i - 1]
            state[i] = 1_812_433_253 &* (previous ^ (previous >> 30)) &+ UInt32(i)
        }
    }

    mutating func next() -> UInt32 {
        if position == 624 { twist() }
        var y = state[position]
        position += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }

    /// numpy's `random_sample`: 27 + 26 random bits.
    mutating func nextDouble() -> Double {
        let a = Double(next() >> 5), b = Double(next() >> 6)
        return (a * 67_108_864 + b) / 9_007_199_254_740_992
    }

    private mutating func twist() {
        for i in 0..<624 {
            let y = (state[i] & 0x8000_0000) | (state[(i + 1) % 624] & 0x7FFF_FFFF)
            state[i] = state[(i + 397) % 624] ^ (y >> 1) ^ ((y & 1) != 0 ? 0x9908_B0DF : 0)
        }
        position = 0
    }
}
