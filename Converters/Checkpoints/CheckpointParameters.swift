import NXIR
import NXModels

/// Serves a model builder's parameter requests from a checkpoint whose tensors are already
/// named as the model names them (see `ConvNeXtImport.Naming`), and records what happened in
/// a `LoadReport`.
///
/// With a `prefix` (HistoNeXt's encoder asks for "encoder.stem.0.weight" and so on), only
/// requests under the prefix are looked up, with the prefix removed; the others are outside
/// the checkpoint and come from the seeded initialiser. A tensor whose shape differs from
/// the request only by trailing 1s (Linear [out, in] for a 1x1 conv [out, in, 1, 1]) is
/// reshaped. Problems do not stop the build: a placeholder keeps it going so `finish()` can
/// list them all. Strict: `finish()` throws on any missing, unexpected or mis-shaped entry.
/// Non-strict: missing parameters keep their seeded values and unused entries are only
/// listed. Shape mismatches throw in both modes, as in PyTorch's `load_state_dict`: a
/// wrongly shaped tensor means the wrong model configuration, not a part to re-initialise.
public struct CheckpointParameters: ParameterSource {
    public let source: String
    public let prefix: String
    public let strict: Bool
    private let tensors: [String: Tensor]
    private let checkpointKeys: [String: String]
    private var fallback: SeededParameters
    private var requested: Set<String> = []
    private var report = LoadReport()

    /// - Parameters:
    ///   - tensors: the checkpoint's tensors by model name (without `prefix`).
    ///   - source: the checkpoint's path, for messages.
    ///   - checkpointKeys: model name -> key in the file, where they differ.
    ///   - seed: seed of the initialiser for parameters the checkpoint does not provide.
    public init(
        tensors: [String: Tensor], source: String, prefix: String = "", strict: Bool = true,
        checkpointKeys: [String: String] = [:], seed: UInt64 = 0
    ) {
        self.tensors = tensors
        self.source = source
        self.prefix = prefix
        self.strict = strict
        self.checkpointKeys = checkpointKeys
        fallback = SeededParameters(seed: seed)
    }

    public mutating func parameter(_ name: String, shape: [Int], initializer: ParameterInit) throws -> Tensor {
        guard name.hasPrefix(prefix) else {
            report.initializedFromSeed.append(name)
            return try fallback.parameter(name, shape: shape, initializer: initializer)
        }
        let key = String(name.dropFirst(prefix.count))
        requested.insert(key)
        guard let tensor = tensors[key] else {
            report.missing.append(name)
            if !strict { report.initializedFromSeed.append(name) }
            return try fallback.parameter(name, shape: shape, initializer: initializer)
        }
        let served: Tensor
        if tensor.shape == shape {
            served = tensor
        } else if Self.droppingTrailingOnes(tensor.shape) == Self.droppingTrailingOnes(shape) {
            served = tensor.reshaped(shape)
            report.reshaped.append(name)
        } else {
            report.shapeMismatches.append(.init(name: name, checkpointKey: checkpointKeys[key] ?? key, expected: shape, found: tensor.shape))
            return try fallback.parameter(name, shape: shape, initializer: initializer)
        }
        report.loaded.append(name)
        guard served.dataType == .float32 else {
            do { return Tensor(shape: shape, scalars: try served.floatValues()) } catch {
                throw CheckpointError.tensor(file: source, name: checkpointKeys[key] ?? key, message: "cannot read as float32: \(error)")
            }
        }
        return served
    }

    /// The report of everything asked so far, with the checkpoint entries nobody asked for.
    /// Throws `.incompatible` for shape mismatches, and in strict mode for any problem.
    public func finish() throws(CheckpointError) -> LoadReport {
        var report = report
        report.unexpected = tensors.keys.filter { !requested.contains($0) }.map { checkpointKeys[$0] ?? $0 }.sorted()
        if !report.shapeMismatches.isEmpty || (strict && !report.isExact) {
            throw .incompatible(file: source, report: report)
        }
        return report
    }

    private static func droppingTrailingOnes(_ shape: [Int]) -> ArraySlice<Int> {
        var trimmed = shape[...]
        while trimmed.last == 1 { trimmed = trimmed.dropLast() }
        return trimmed
    }
}
