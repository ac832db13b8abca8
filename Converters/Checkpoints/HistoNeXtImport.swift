import NXIR
import NXModels

/// Builds HistoNeXt with weights from checkpoints: a whole trained model saved from the
/// PyTorch reference (Converters/python/histonext_reference.py; keys encoder.*, decoder.*,
/// tp.*), or only the encoder from a ConvNeXt classification checkpoint (timm or
/// facebookresearch naming), whose classifier head is then reported as unused. Whatever no
/// checkpoint provides is initialised from the seed and listed in the report.
public enum HistoNeXtImport {
    public static func model(
        config: HistoNeXtConfig, numTypes: Int = 6, classNames: [String]? = nil, weights: String? = nil,
        encoderWeights: String? = nil, strict: Bool = true, seed: UInt64 = 0
    ) throws -> (Model, LoadReport) {
        if let weights {
            // BatchNorm's step counter is training state, not a graph parameter.
            let state = try Checkpoint.read(path: weights).filter { !$0.key.hasSuffix(".num_batches_tracked") }
            var parameters = CheckpointParameters(tensors: state, source: weights, strict: strict, seed: seed)
            let model = try HistoNeXt.model(config, numTypes: numTypes, classNames: classNames, parameters: &parameters)
            return (model, try parameters.finish())
        }
        if let encoderWeights {
            let loaded = try ConvNeXtImport.loadWithKeys(path: encoderWeights)
            // Non-strict: a classification checkpoint's head has no place in HistoNeXt.
            var parameters = CheckpointParameters(
                tensors: loaded.state, source: encoderWeights, prefix: "encoder.", strict: false, checkpointKeys: loaded.keys, seed: seed)
            let model = try HistoNeXt.model(config, numTypes: numTypes, classNames: classNames, parameters: &parameters)
            let report = try parameters.finish()
            if strict, !report.missing.isEmpty {
                throw CheckpointError.incompatible(file: encoderWeights, report: report)
            }
            return (model, report)
        }
        var parameters = SeededParameters(seed: seed)
        let model = try HistoNeXt.model(config, numTypes: numTypes, classNames: classNames, parameters: &parameters)
        var report = LoadReport()
        report.initializedFromSeed = parameters.initialized
        return (model, report)
    }
}
