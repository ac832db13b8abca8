import NXIR

/// Reads safetensors files, accepting exactly what the reference Rust crate accepts (plus a
/// check for duplicate names), and rejecting everything else with an error naming the file
/// and tensor.
extension SafeTensorsFile {
    /// Maps the file and returns tensors that view it without copying; the mapping lives as
    /// long as any of the tensors.
    public static func read(path: String) throws -> SafeTensorsFile {
        let file = try MappedFile.opening(path)
        return try parse(file.bytes, source: path) { offset, count in
            TensorStorage(mapping: file, offset: offset, count: count)
        }
    }

    /// Parses a whole file held in memory, copying each tensor's bytes out of `bytes`.
    /// `source` names the buffer in error messages.
    public static func read(bytes: UnsafeRawBufferPointer, source: String = "<memory>") throws -> SafeTensorsFile {
        try parse(bytes, source: source) { offset, count in
            TensorStorage(copying: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)]))
        }
    }

    public static func read(bytes: [UInt8], source: String = "<memory>") throws -> SafeTensorsFile {
        try bytes.withUnsafeBytes { try read(bytes: $0, source: source) }
    }

    /// One header entry, validated on its own; the layout checks need all of them.
    private struct Entry {
        let name: String
        let dataType: DataType
        let shape: [Int]
        let begin: Int
        let end: Int
    }

    private static func parse(
        _ buffer: UnsafeRawBufferPointer, source: String, storage: (_ offset: Int, _ count: Int) -> TensorStorage
    ) throws(FormatError) -> SafeTensorsFile {
        func fail(_ message: String) -> FormatError { .file(source, message) }
        guard buffer.count >= 8 else {
            throw fail("file is \(buffer.count) bytes, too short for the 8-byte header length of a safetensors file")
        }
        let headerLength = buffer.loadUnaligned(as: UInt64.self).littleEndian
        guard headerLength <= UInt64(maximumHeaderLength) else {
            throw fail("header length \(headerLength) exceeds the \(maximumHeaderLength)-byte limit; not a safetensors file or corrupt")
        }
        let dataStart = 8 + Int(headerLength)
        guard dataStart <= buffer.count else {
            throw fail("header length \(headerLength) runs past the end of the file (\(buffer.count) bytes)")
        }
        let dataSize = buffer.count - dataStart

        let json: JSONValue
        do {
            json = try JSONValue.parse(UnsafeRawBufferPointer(rebasing: buffer[8..<dataStart]))
        } catch {
            throw fail("header is not valid JSON: \(error.message)")
        }
        guard case .object(let members) = json else { throw fail("header is \(json.typeName), expected a JSON object") }

        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (name, value) in members {
            if name == "__metadata__" {
                metadata = try parseMetadata(value, fail: fail)
            } else {
                entries.append(try parseEntry(name: name, value, dataSize: dataSize, source: source))
            }
        }

        // The Rust crate (safetensors/src/tensor.rs, `Metadata::validate` and `read_metadata`)
        // sorts entries by data_offsets and requires each to begin where the previous ended,
        // starting at 0, and the last to end at the end of the file: no overlaps, no holes, no
        // trailing bytes. Files it rejects are rejected here too, so what we read, Python reads.
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var covered = 0
        var previous: String?
        for entry in entries {
            if entry.begin < covered, let previous {
                throw FormatError.tensor(
                    file: source, name: entry.name,
                    message: "data_offsets [\(entry.begin), \(entry.end)] overlap tensor '\(previous)', which ends at \(covered)")
            }
            if entry.begin > covered {
                throw FormatError.tensor(
                    file: source, name: entry.name,
                    message: "data_offsets [\(entry.begin), \(entry.end)] leave bytes \(covered)..<\(entry.begin) of the data area unused; safetensors requires tensors to cover it contiguously")
            }
            covered = entry.end
            previous = entry.name
        }
        if covered != dataSize {
            throw fail("\(dataSize - covered) bytes at the end of the data area belong to no tensor (data area is \(dataSize) bytes, tensors end at \(covered))")
        }

        var tensors: [String: Tensor] = [:]
        for entry in entries {
            tensors[entry.name] = Tensor(
                dataType: entry.dataType, shape: entry.shape,
                storage: storage(dataStart + entry.begin, entry.end - entry.begin))
        }
        return SafeTensorsFile(tensors: tensors, order: entries.map(\.name), metadata: metadata)
    }

    private static func parseMetadata(_ value: JSONValue, fail: (String) -> FormatError) throws(FormatError) -> [String: String] {
        guard case .object(let members) = value else {
            throw fail("__metadata__ is \(value.typeName), expected an object of strings")
        }
        var metadata: [String: String] = [:]
        for (key, item) in members {
            guard case .string(let text) = item else {
                throw fail("__metadata__ entry '\(key)' is \(item.typeName), expected a string")
            }
            metadata[key] = text
        }
        return metadata
    }

    private static func parseEntry(name: String, _ value: JSONValue, dataSize: Int, source: String) throws(FormatError) -> Entry {
        func fail(_ message: String) -> FormatError { .tensor(file: source, name: name, message: message) }
        guard case .object(let fields) = value else { throw fail("header entry is \(value.typeName), expected an object") }
        func field(_ key: String) throws(FormatError) -> JSONValue {
            guard let found = fields.first(where: { $0.key == key }) else { throw fail("header entry has no '\(key)'") }
            return found.value
        }

        let dtypeValue = try field("dtype")
        guard case .string(let dtypeName) = dtypeValue else { throw fail("dtype is \(dtypeValue.typeName), expected a string") }
        guard let dataType = DataType(safeTensorsName: dtypeName) else {
            throw fail("unsupported dtype '\(dtypeName)'")
        }

        let shapeValue = try field("shape")
        guard case .array(let dims) = shapeValue else { throw fail("shape is \(shapeValue.typeName), expected an array") }
        var shape: [Int] = []
        for dim in dims {
            guard let size = dim.integer else { throw fail("shape contains \(dim.typeName) that is not an integer: \(describe(dim))") }
            guard size >= 0 else { throw fail("shape \(describe(shapeValue)) has a negative dimension") }
            shape.append(size)
        }

        let offsetsValue = try field("data_offsets")
        guard case .array(let offsets) = offsetsValue, offsets.count == 2,
            let begin = offsets[0].integer, let end = offsets[1].integer, begin >= 0, end >= 0
        else {
            throw fail("data_offsets \(describe(offsetsValue)) must be [begin, end], two non-negative integers")
        }
        guard begin <= end else { throw fail("data_offsets [\(begin), \(end)] end before they begin") }
        guard end <= dataSize else {
            throw fail("data_offsets [\(begin), \(end)] run past the end of the data area (\(dataSize) bytes)")
        }

        var byteCount = dataType.byteSize!
        for size in shape {
            let (product, overflow) = byteCount.multipliedReportingOverflow(by: size)
            guard !overflow else { throw fail("shape \(shape) is too large") }
            byteCount = product
        }
        guard byteCount == end - begin else {
            throw fail("shape \(shape) of \(dtypeName) needs \(byteCount) bytes but data_offsets [\(begin), \(end)] hold \(end - begin)")
        }
        return Entry(name: name, dataType: dataType, shape: shape, begin: begin, end: end)
    }

    /// A short rendering of a header value for messages.
    private static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let flag): flag ? "true" : "false"
        case .number(let text): text
        case .string(let text): JSONValue.quoted(text)
        case .array(let items): "[" + items.prefix(8).map(describe).joined(separator: ", ") + (items.count > 8 ? ", ..." : "") + "]"
        case .object: "{...}"
        }
    }
}
