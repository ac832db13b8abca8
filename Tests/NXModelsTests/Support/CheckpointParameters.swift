import NXFormat
import NXIR
import NXModels

/// A parameter source over a safetensors state dict whose keys are the builder's own names
/// (the reference's torch names). timm keeps MLP Linear weights as [out, in] and gammas as [C]
/// where the graph wants [out, in, 1, 1] and [C, 1, 1]: the same elements, so a stored tensor
/// is reshaped when it differs only by unit dimensions. Anything else is an error naming the key.
struct CheckpointParameters: ParameterSource {
    let path: String
    let checkpoint: SafeTensorsFile
    private(set) var used: [String] = []

    init(path: String) throws {
        self.path = path
        checkpoint = try SafeTensorsFile.read(path: path)
    }

    mutating func parameter(_ name: String, shape: [Int], initializer: ParameterInit) throws -> Tensor {
        guard let tensor = checkpoint.tensors[name] else { throw ModelError.parameter(name, "not in \(path)") }
        guard tensor.dataType == .float32 else { throw ModelError.parameter(name, "is \(tensor.dataType) in \(path), expected float32") }
        used.append(name)
        if tensor.shape == shape { return tensor }
        guard tensor.shape.filter({ $0 != 1 }) == shape.filter({ $0 != 1 }) else {
            throw ModelError.parameter(name, "has shape \(tensor.shape) in \(path), the graph needs \(shape)")
        }
        return tensor.reshaped(shape)
    }
}
