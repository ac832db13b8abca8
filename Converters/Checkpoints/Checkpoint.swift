import NXFormat
import NXIR

/// A model checkpoint as a state dict, whichever format holds it: `torch.save` zips (see
/// TorchCheckpoint) and safetensors, told apart by their first bytes, not their extension.
/// Names are as stored, less a leading "module."; floating tensors come back as float32
/// (float32 ones without copying, as views of the mapped file).
public enum Checkpoint {
    public static func read(path: String) throws -> [String: Tensor] {
        let magic = try leadingBytes(path: path)
        // "PK": a zip from torch.save; 0x80 0x02: a legacy (pre-1.6) torch.save pickle, which
        // TorchCheckpoint names in its error.
        if magic[0...1] == [0x50, 0x4B] || magic[0...1] == [0x80, 0x02] {
            return try TorchCheckpoint.read(path: path)
        }
        return try safeTensors(path: path)
    }

    /// A safetensors file's tensors, floating ones widened to float32.
    public static func safeTensors(path: String) throws -> [String: Tensor] {
        let file = try SafeTensorsFile.read(path: path)
        var tensors: [(String, Tensor)] = []
        for name in file.order {
            let tensor = file.tensors[name]!
            guard tensor.dataType.isFloatingPoint, tensor.dataType != .float32 else {
                tensors.append((name, tensor))
                continue
            }
            do {
                tensors.append((name, Tensor(shape: tensor.shape, scalars: try tensor.floatValues())))
            } catch {
                throw CheckpointError.tensor(file: path, name: name, message: "cannot convert \(tensor.dataType) to float32: \(error)")
            }
        }
        return try removingDataParallelPrefix(tensors, source: path)
    }

    /// Drops the "module." that `nn.DataParallel` and DistributedDataParallel put before every
    /// name, as torch's `consume_prefix_in_state_dict_if_present` does.
    static func removingDataParallelPrefix(_ tensors: [(String, Tensor)], source: String) throws(CheckpointError) -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for (name, tensor) in tensors {
            let key = name.hasPrefix("module.") ? String(name.dropFirst("module.".count)) : name
            guard result.updateValue(tensor, forKey: key) == nil else {
                throw .tensor(file: source, name: key, message: "appears twice once the DataParallel prefix 'module.' is removed")
            }
        }
        return result
    }

    private static func leadingBytes(path: String) throws(CheckpointError) -> [UInt8] {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch {
            if case .file(_, let message) = error { throw .file(path, message) }
            throw .file(path, error.description)
        }
        return Array(file.bytes.prefix(4)) + [UInt8](repeating: 0, count: max(0, 4 - file.count))
    }
}
