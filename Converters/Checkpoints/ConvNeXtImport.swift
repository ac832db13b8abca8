import NXIR
import NXModels

/// Imports ConvNeXt weights from timm or facebookresearch/ConvNeXt checkpoints (`torch.save`
/// files or safetensors, any float type, Linear or conv MLP layout) into our ConvNeXt graph.
public enum ConvNeXtImport {
    /// The checkpoint's tensors under our (timm) names, and the naming the file used.
    public static func load(path: String) throws -> (state: [String: Tensor], naming: Naming) {
        let loaded = try loadWithKeys(path: path)
        return (loaded.state, loaded.naming)
    }

    /// Builds `ConvNeXt.model` with the checkpoint's weights and reports how they fitted
    /// (see `CheckpointParameters` for strict and non-strict).
    public static func model(
        config: ConvNeXtConfig, head: ConvNeXt.Head = .classifier(numClasses: 1000), weights path: String,
        strict: Bool = true, inputSize: Int? = 224, seed: UInt64 = 0
    ) throws -> (Model, LoadReport) {
        let loaded = try loadWithKeys(path: path)
        var parameters = CheckpointParameters(
            tensors: loaded.state, source: path, strict: strict, checkpointKeys: loaded.keys, seed: seed)
        let model = try ConvNeXt.model(config, head: head, inputSize: inputSize, parameters: &parameters)
        return (model, try parameters.finish())
    }

    /// As above, for a timm variant name ("convnext_tiny" or "tiny"); an unknown name throws
    /// `ModelError.unknownVariant` before the file is read.
    public static func model(
        variant: String, head: ConvNeXt.Head = .classifier(numClasses: 1000), weights path: String,
        strict: Bool = true, inputSize: Int? = 224, seed: UInt64 = 0
    ) throws -> (Model, LoadReport) {
        try model(config: try ConvNeXtConfig.named(variant), head: head, weights: path, strict: strict, inputSize: inputSize, seed: seed)
    }

    /// Tensors by timm name, the naming, and timm name -> file key where they differ.
    static func loadWithKeys(path: String) throws -> (state: [String: Tensor], naming: Naming, keys: [String: String]) {
        let raw = try Checkpoint.read(path: path)
        let naming = try Naming.detect(raw.keys, source: path)
        var state: [String: Tensor] = [:]
        var keys: [String: String] = [:]
        for key in raw.keys.sorted() {
            let name = naming.timmName(key)
            if let previous = keys[name] ?? (state[name] != nil ? name : nil) {
                throw CheckpointError.tensor(file: path, name: key, message: "maps to '\(name)', as '\(previous)' does")
            }
            state[name] = raw[key]
            if name != key { keys[name] = key }
        }
        return (state, naming, keys)
    }
}
