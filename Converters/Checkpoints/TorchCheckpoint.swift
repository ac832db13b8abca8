import NXIR

/// Reads the state dict out of a checkpoint written by `torch.save` (the zip format of
/// PyTorch 1.6 and later: `<archive>/data.pkl`, `<archive>/data/<key>` storages,
/// `<archive>/byteorder`), without Python. The state dict is the pickled dict itself, or its
/// "state_dict" or "model" entry for training checkpoints; a leading "module."
/// (DataParallel) is removed from names. Float32 contiguous tensors view the mapped file;
/// others are copied, and float16/bfloat16/float64 widened to float32.
public enum TorchCheckpoint {
    /// Maps the file; float32 contiguous tensors keep the mapping alive and copy nothing.
    public static func read(path: String) throws(CheckpointError) -> [String: Tensor] {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch {
            if case .file(_, let message) = error { throw .file(path, message) }
            throw .file(path, error.description)
        }
        return try parse(file.bytes, source: path) { offset, count in TensorStorage(mapping: file, offset: offset, count: count) }
    }

    /// Parses a whole checkpoint held in memory, copying tensor bytes out of it. `source`
    /// names the buffer in error messages.
    public static func read(bytes: [UInt8], source: String = "<memory>") throws -> [String: Tensor] {
        try bytes.withUnsafeBytes { buffer in
            try parse(buffer, source: source) { offset, count in
                TensorStorage(copying: UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + count)]))
            }
        }
    }

    static func parse(
        _ buffer: UnsafeRawBufferPointer, source: String, view: @escaping (_ offset: Int, _ count: Int) -> TensorStorage
    ) throws(CheckpointError) -> [String: Tensor] {
        // Before 1.6, torch.save wrote a bare pickle stream (protocol 2) followed by raw storages.
        if buffer.count >= 2, buffer[0] == 0x80, buffer[1] == 0x02 {
            throw .file(source, "legacy torch.save format (PyTorch before 1.6) is not supported: load and re-save it with a recent PyTorch, or convert it to safetensors")
        }
        let archive = try ZipArchive(buffer, source: source)
        let prefix = try archivePrefix(archive)
        let pickleName = prefix + "data.pkl"
        let pickleEntry = archive[pickleName]!
        let pickleBytes = UnsafeRawBufferPointer(rebasing: buffer[pickleEntry.dataOffset..<(pickleEntry.dataOffset + pickleEntry.size)])
        guard CRC32.checksum(pickleBytes) == pickleEntry.crc32 else {
            throw .file(source, "entry '\(pickleName)' fails its CRC-32 check: the file is corrupt")
        }
        if let entry = archive[prefix + "byteorder"] {
            let order = String(decoding: buffer[entry.dataOffset..<(entry.dataOffset + entry.size)], as: UTF8.self)
            guard order == "little" else {
                throw .file(source, "byteorder is '\(order)': only little-endian checkpoints are supported")
            }
        }

        let pickle: Unpickler.Result
        do throws(Unpickler.Failure) { pickle = try Unpickler.load(pickleBytes) } catch {
            throw .file(source, "\(pickleName), byte \(error.offset): \(error.message)")
        }
        let records = try stateDictRecords(pickle, source: source)
        let materializer = TorchTensorMaterializer(
            storageRange: { key in archive["\(prefix)data/\(key)"].map { ($0.dataOffset, $0.size) } },
            view: view, source: source)
        var tensors: [(String, Tensor)] = []
        for (name, record) in records {
            tensors.append((name, try materializer.tensor(record, name: name)))
        }
        return try Checkpoint.removingDataParallelPrefix(tensors, source: source)
    }

    /// "<archive>/" of the archive's single `<archive>/data.pkl`.
    private static func archivePrefix(_ archive: ZipArchive) throws(CheckpointError) -> String {
        let candidates = archive.entries.map(\.name).filter { name in
            name.hasSuffix("/data.pkl") && name.firstIndex(of: "/") == name.lastIndex(of: "/")
        }
        guard candidates.count == 1, let name = candidates.first else {
            if candidates.isEmpty {
                let names = archive.entries.map(\.name)
                let torchScript = names.contains { $0.hasSuffix("/constants.pkl") || $0.contains("/code/") }
                throw .file(archive.source, "zip archive has no <archive>/data.pkl, so it is not a torch.save checkpoint"
                    + (torchScript ? " (it looks like a TorchScript archive from torch.jit.save; save the model's state_dict() instead)" : "")
                    + " (entries: \(names.prefix(6).joined(separator: ", "))\(names.count > 6 ? ", ..." : ""))")
            }
            throw .file(archive.source, "zip archive has several data.pkl entries: \(candidates.joined(separator: ", "))")
        }
        return String(name.dropLast("data.pkl".count))
    }

    /// The (name, tensor) entries of the state dict inside the pickled object, in order.
    private static func stateDictRecords(_ pickle: Unpickler.Result, source: String) throws(CheckpointError) -> [(String, TorchTensorRecord)] {
        guard case .dict(let rootIndex) = pickle.root else {
            throw .file(source, "data.pkl holds a \(pickle.root.typeName), not a dict of tensors (state dict)")
        }
        var dict = pickle.dicts[rootIndex]
        var location = "the checkpoint"
        for wrapper in ["state_dict", "model"] {
            if case .dict(let inner)? = dict[wrapper] {
                dict = pickle.dicts[inner]
                location = "checkpoint['\(wrapper)']"
                break
            }
        }
        var records: [(String, TorchTensorRecord)] = []
        for (key, value) in dict.entries {
            guard case .string(let name) = key else {
                throw .file(source, "\(location) has a \(key.typeName) key; a state dict's keys are strings")
            }
            guard case .tensor(let record) = value else {
                if location == "the checkpoint" {
                    let keys = dict.entries.compactMap { if case .string(let key) = $0.key { key } else { nil } }
                    throw .file(source, "the checkpoint is a dict (keys: \(keys.prefix(10).joined(separator: ", "))\(keys.count > 10 ? ", ..." : "")) that is neither a state dict nor holds one under 'state_dict' or 'model' ('\(name)' is a \(value.typeName))")
                }
                throw .tensor(file: source, name: name, message: "\(location) entry is a \(value.typeName), not a tensor")
            }
            records.append((name, record))
        }
        return records
    }
}
