import Foundation
import NXIR

/// How a model's fresh parameters are initialised when no checkpoint provides them
/// (timm's choices: truncated normal std 0.02 for conv and linear weights, zeros for biases,
/// ones and zeros for norms, a small constant for layer scales; PyTorch's own default for the
/// layers timm does not re-initialise: uniform in +-1/sqrt(fan_in)).
public enum ParameterInit: Sendable, Equatable {
    case truncatedNormal(std: Float)
    /// U(-bound, bound), e.g. torch's default Conv2d/ConvTranspose2d weight and bias init.
    case uniform(bound: Float)
    case zeros
    case ones
    case constant(Float)
}

/// Supplies every parameter a builder asks for, by the model's own (timm) name. A converter
/// implements it over a checkpoint; `SeededParameters` initialises from a seed.
public protocol ParameterSource {
    mutating func parameter(_ name: String, shape: [Int], initializer: ParameterInit) throws -> Tensor
}

/// Deterministic initialisation: the same seed and model give the same bytes on any machine.
/// Records which names it made, so exports can say what was initialised.
public struct SeededParameters: ParameterSource {
    private var generator: SplitMix64
    public private(set) var initialized: [String] = []

    public init(seed: UInt64 = 0) { generator = SplitMix64(seed: seed) }

    public mutating func parameter(_ name: String, shape: [Int], initializer: ParameterInit) throws -> Tensor {
        initialized.append(name)
        let count = elementCount(shape)
        let values: [Float]
        switch initializer {
        case .zeros: values = [Float](repeating: 0, count: count)
        case .ones: values = [Float](repeating: 1, count: count)
        case .constant(let value): values = [Float](repeating: value, count: count)
        case .uniform(let bound): values = (0..<count).map { _ in (2 * generator.nextUniform() - 1) * bound }
        case .truncatedNormal(let std):
            // timm's trunc_normal_ cuts at absolute +-2; with std 0.02 that never bites, but
            // keep the rule so larger stds behave the same.
            values = (0..<count).map { _ in
                while true {
                    let sample = generator.nextGaussian() * std
                    if abs(sample) <= 2 { return sample }
                }
            }
        }
        return Tensor(shape: shape, scalars: values)
    }
}

/// SplitMix64 with a Box-Muller Gaussian: small, fast and identical everywhere.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    private var spare: Float?

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 24 random bits: every value is exactly a Float.
    mutating func nextUniform() -> Float { Float(next() >> 40) / Float(1 << 24) }

    mutating func nextGaussian() -> Float {
        if let spare {
            self.spare = nil
            return spare
        }
        // Uniforms in (0, 1]: log never sees zero.
        let u1 = Double((next() >> 11) + 1) / Double(1 << 53)
        let u2 = Double(next() >> 11) / Double(1 << 53)
        let radius = (-2 * log(u1)).squareRoot()
        spare = Float(radius * sin(2 * Double.pi * u2))
        return Float(radius * cos(2 * Double.pi * u2))
    }
}
