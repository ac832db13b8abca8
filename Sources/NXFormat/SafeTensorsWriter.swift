import NXIR

/// Writes safetensors files that the reference readers accept: tensors laid out in name order
/// with no gaps, header keys sorted so the bytes are reproducible, header padded with spaces
/// to a multiple of 8 bytes as the Rust crate does, so 8-byte elements stay aligned in a mapping.
extension SafeTensorsFile {
    /// Writes `tensors` atomically: the file at `path` is replaced only once it is complete.
    /// `metadata` becomes `__metadata__`; `nil` leaves the key out.
    public static func write(
        _ tensors: [(name: String, tensor: Tensor)], metadata: [String: String]? = nil, to path: String
    ) throws {
        let (header, layout) = try prepare(tensors, metadata: metadata, source: path)
        try AtomicFile.write(to: path) { writer in
            try writer.write(header)
            for (_, tensor) in layout { try tensor.withUnsafeBytes { try writer.write($0) } }
        }
    }

    public static func write(_ tensors: [String: Tensor], metadata: [String: String]? = nil, to path: String) throws {
        try write(tensors.map { (name: $0.key, tensor: $0.value) }, metadata: metadata, to: path)
    }

    /// Writes this file's tensors and metadata (the metadata key only when there is some).
    public func write(to path: String) throws {
        try Self.write(tensors, metadata: metadata.isEmpty ? nil : metadata, to: path)
    }

    /// The bytes `write` would put in a file, for tests and small in-memory uses.
    public static func encode(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String]? = nil) throws -> [UInt8] {
        let (header, layout) = try prepare(tensors, metadata: metadata, source: "<memory>")
        var bytes = header
        for (_, tensor) in layout { tensor.withUnsafeBytes { bytes.append(contentsOf: $0) } }
        return bytes
    }

    /// The 8-byte length plus the padded JSON header, and the tensors in data-area order.
    /// Checks everything up front so a bad tensor never starts a write.
    private static func prepare(
        _ tensors: [(name: String, tensor: Tensor)], metadata: [String: String]?, source: String
    ) throws(FormatError) -> (header: [UInt8], layout: [(name: String, tensor: Tensor)]) {
        // Byte order of UTF-8 is code point order: the same as Python's sort_keys, so both
        // sides agree on the order whatever the names contain.
        let layout = tensors.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        for (index, (name, tensor)) in layout.enumerated() {
            func fail(_ message: String) -> FormatError { .tensor(file: source, name: name, message: message) }
            if name == "__metadata__" { throw fail("the name is reserved for file metadata") }
            if index > 0, layout[index - 1].name == name { throw fail("two tensors have this name") }
            if tensor.dataType.safeTensorsName == nil { throw fail("safetensors cannot hold \(tensor.dataType) tensors") }
            if let problem = tensor.sizeProblem { throw fail(problem) }
        }

        var entries: [(key: String, json: String)] = []
        if let metadata {
            let fields = metadata.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
                .map { JSONValue.quoted($0.key) + ":" + JSONValue.quoted($0.value) }
            entries.append(("__metadata__", "{" + fields.joined(separator: ",") + "}"))
        }
        var offset = 0
        for (name, tensor) in layout {
            let end = offset + tensor.byteCount
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            entries.append((name, "{\"data_offsets\":[\(offset),\(end)],\"dtype\":\"\(tensor.dataType.safeTensorsName!)\",\"shape\":[\(shape)]}"))
            offset = end
        }
        entries.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        var json = Array(("{" + entries.map { JSONValue.quoted($0.key) + ":" + $0.json }.joined(separator: ",") + "}").utf8)
        json.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
        guard json.count <= maximumHeaderLength else {
            throw .file(source, "header would be \(json.count) bytes, over the \(maximumHeaderLength)-byte limit readers enforce")
        }

        var header: [UInt8] = []
        header.reserveCapacity(8 + json.count)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { header.append(contentsOf: $0) }
        header.append(contentsOf: json)
        return (header, layout)
    }
}
