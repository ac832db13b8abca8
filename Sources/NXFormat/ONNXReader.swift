import Foundation
import NXIR
import SwiftProtobuf

/// Reads `.onnx` files into the IR.
///
/// The reader is strict about structure (a file that is not an ONNX model, an unknown data
/// type, external data that is missing, too short or outside the model's folder) and lenient
/// about sizes: a tensor whose bytes disagree with its dims is kept as read, so `validate()`
/// can report it beside every other problem of the file.
public enum ONNXReader {
    /// Initializers stored in `raw_data` stay in the mapped file (see `InitializerPayloads`):
    /// the model keeps the mapping alive, and loading copies no weights.
    public static func read(path: String) throws -> Model {
        let mapped = try MappedFile.opening(path)
        guard mapped.count > 0 else { throw FormatError.file(path, "empty file, not an ONNX model") }
        let directory = (path as NSString).deletingLastPathComponent
        let context = Context(source: path, baseDirectory: directory.isEmpty ? "." : directory)
        if let payloads = InitializerPayloads(mapped.bytes) {
            context.payloads = (mapped, payloads.ranges)
            return try decode(payloads.stripped, context: context)
        }
        // Not what the scan expects (malformed, most likely): the full decode reports it.
        let data = Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: mapped.bytes.baseAddress!),
                        count: mapped.count, deallocator: .none)
        return try withExtendedLifetime(mapped) { try decode(data, context: context) }
    }

    /// Decodes a serialized model. `source` names it in errors; external data is looked up
    /// relative to `baseDirectory` (none allowed when it is nil).
    public static func read(data: Data, source: String = "<memory>", baseDirectory: String? = nil) throws -> Model {
        try decode(data, context: Context(source: source, baseDirectory: baseDirectory))
    }

    private static func decode(_ data: Data, context: Context) throws -> Model {
        let source = context.source
        let proto: Onnx_ModelProto
        do {
            var options = BinaryDecodingOptions()
            options.messageDepthLimit = 64
            proto = try Onnx_ModelProto(serializedBytes: data, options: options)
        } catch {
            throw FormatError.file(source, "not a valid ONNX protobuf (\(error))")
        }
        guard proto.irVersion > 0 else { throw FormatError.file(source, "no ir_version: not an ONNX model") }
        guard proto.hasGraph else { throw FormatError.file(source, "no graph: not an ONNX model") }
        return Model(
            graph: try context.graph(proto.graph),
            irVersion: Int(proto.irVersion),
            opsetImports: proto.opsetImport.map { OperatorSetID(domain: $0.domain, version: Int($0.version)) },
            producerName: proto.producerName,
            producerVersion: proto.producerVersion,
            domain: proto.domain,
            modelVersion: Int(proto.modelVersion),
            docString: proto.docString,
            metadata: Dictionary(proto.metadataProps.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
        )
    }

    /// Per-file state: where errors point, which external files are already mapped, and
    /// where the main graph's cut-out `raw_data` payloads are.
    final class Context {
        let source: String
        let baseDirectory: String?
        private var externalFiles: [String: MappedFile] = [:]
        var payloads: (file: MappedFile, ranges: [Int: Range<Int>])?

        init(source: String, baseDirectory: String?) {
            self.source = source
            self.baseDirectory = baseDirectory
        }

        /// The model's graph (the only one: graph-valued attributes are outside our subset,
        /// so `payloads` always refers to this graph's initializers).
        func graph(_ proto: Onnx_GraphProto) throws -> Graph {
            var initializers: [String: Tensor] = [:]
            for (index, tensorProto) in proto.initializer.enumerated() {
                let payload = payloads.flatMap { file, ranges in ranges[index].map { (file, $0) } }
                initializers[tensorProto.name] = try tensor(tensorProto, payload: payload)
            }
            return Graph(
                name: proto.name,
                nodes: try proto.node.map(node),
                inputs: try proto.input.map(valueInfo),
                outputs: try proto.output.map(valueInfo),
                initializers: initializers,
                valueInfo: try proto.valueInfo.map(valueInfo),
                docString: proto.docString
            )
        }

        func node(_ proto: Onnx_NodeProto) throws -> Node {
            var attributes: [String: Attribute] = [:]
            let label = proto.name.isEmpty ? "\(proto.opType)->\(proto.output.first ?? "?")" : proto.name
            for attributeProto in proto.attribute {
                attributes[attributeProto.name] = try attribute(attributeProto, node: label)
            }
            return Node(
                name: proto.name, opType: proto.opType, domain: proto.domain, inputs: proto.input,
                outputs: proto.output, attributes: attributes, docString: proto.docString)
        }

        func attribute(_ proto: Onnx_AttributeProto, node: String) throws -> Attribute {
            func fail(_ message: String) -> FormatError {
                FormatError.node(file: source, name: node, message: "attribute '\(proto.name)': \(message)")
            }
            func text(_ bytes: Data) throws -> String {
                guard let string = String(data: bytes, encoding: .utf8) else { throw fail("string is not UTF-8") }
                return string
            }
            switch proto.type {
            case .float: return .float(proto.f)
            case .int: return .int(Int(proto.i))
            case .string: return .string(try text(proto.s))
            case .tensor: return .tensor(try tensor(proto.t))
            case .floats: return .floats(proto.floats)
            case .ints: return .ints(proto.ints.map { Int($0) })
            case .strings: return .strings(try proto.strings.map(text))
            case .undefined:
                // IR version 1 models may leave the type out; infer it from the field that is set.
                if !proto.floats.isEmpty { return .floats(proto.floats) }
                if !proto.ints.isEmpty { return .ints(proto.ints.map { Int($0) }) }
                if !proto.strings.isEmpty { return .strings(try proto.strings.map(text)) }
                if proto.hasT { return .tensor(try tensor(proto.t)) }
                if !proto.s.isEmpty { return .string(try text(proto.s)) }
                if proto.i != 0 { return .int(Int(proto.i)) }
                if proto.f != 0 { return .float(proto.f) }
                throw fail("has no type and no value")
            default:
                throw fail("kind \(proto.type) is not supported (graphs, sparse tensors and type protos are outside our subset)")
            }
        }

        func valueInfo(_ proto: Onnx_ValueInfoProto) throws -> ValueInfo {
            guard proto.hasType, case .tensorType(let tensorType)? = proto.type.value else {
                // Sequence, map and optional types are fields our proto subset skips, so they
                // arrive as unknown fields of the TypeProto.
                if proto.hasType, !proto.type.unknownFields.data.isEmpty {
                    throw FormatError.tensor(file: source, name: proto.name, message: "only tensor types are supported (sequence, map and optional values are outside our subset)")
                }
                return ValueInfo(name: proto.name, docString: proto.docString)
            }
            var elementType: DataType?
            if tensorType.elemType != 0 {
                elementType = try dataType(tensorType.elemType, tensor: proto.name)
            }
            var shape: Shape?
            if tensorType.hasShape {
                shape = Shape(tensorType.shape.dim.map { dim in
                    switch dim.value {
                    case .dimValue(let v)?: .fixed(Int(v))
                    case .dimParam(let p)?: p.isEmpty ? .unknown : .symbolic(p)
                    case nil: .unknown
                    }
                })
            }
            return ValueInfo(name: proto.name, elementType: elementType, shape: shape, docString: proto.docString)
        }

        func dataType(_ code: Int32, tensor: String) throws -> DataType {
            guard let type = DataType(rawValue: code) else {
                throw FormatError.tensor(file: source, name: tensor, message: "unknown or unsupported data type code \(code)")
            }
            return type
        }

        /// `payload`: the tensor's `raw_data`, cut from the message and left in a mapped file.
        func tensor(_ proto: Onnx_TensorProto, payload: (file: MappedFile, range: Range<Int>)? = nil) throws -> Tensor {
            let name = proto.name
            func fail(_ message: String) -> FormatError { FormatError.tensor(file: source, name: name, message: message) }
            let type = try dataType(proto.dataType, tensor: name)
            if type == .string { throw fail("string tensors are not supported") }
            if proto.hasSegment { throw fail("segmented tensors are not supported") }
            guard proto.dims.allSatisfy({ $0 >= 0 }) else { throw fail("negative dimension in \(proto.dims)") }
            let shape = proto.dims.map { Int($0) }
            var total = type.byteSize ?? 1
            for size in shape {
                let (product, overflow) = total.multipliedReportingOverflow(by: size)
                guard !overflow, product <= 1 << 48 else { throw fail("dims \(proto.dims) describe more bytes than any file can hold") }
                total = product
            }

            if proto.dataLocation == .external {
                return Tensor(dataType: type, shape: shape, storage: try externalStorage(proto, tensorName: name))
            }
            if let (file, range) = payload {
                return Tensor(dataType: type, shape: shape, storage: TensorStorage(mapping: file, offset: range.lowerBound, count: range.count))
            }
            if !proto.rawData.isEmpty {
                return Tensor(dataType: type, shape: shape, storage: proto.rawData.withUnsafeBytes(TensorStorage.init(copying:)))
            }
            return Tensor(dataType: type, shape: shape, storage: try typedFieldStorage(proto, type: type))
        }

        /// ONNX's typed fields: each type lives in the field the spec assigns it, narrow types
        /// widened to int32 (float16 and bfloat16 as their bit patterns).
        private func typedFieldStorage(_ proto: Onnx_TensorProto, type: DataType) throws -> TensorStorage {
            func pack<T>(_ values: [T]) -> TensorStorage { values.withUnsafeBytes(TensorStorage.init(copying:)) }
            switch type {
            case .float32: return pack(proto.floatData)
            case .float64: return pack(proto.doubleData)
            case .int64: return pack(proto.int64Data)
            case .int32: return pack(proto.int32Data)
            case .int16: return pack(proto.int32Data.map { Int16(truncatingIfNeeded: $0) })
            case .int8: return pack(proto.int32Data.map { Int8(truncatingIfNeeded: $0) })
            case .uint16, .float16, .bfloat16: return pack(proto.int32Data.map { UInt16(truncatingIfNeeded: $0) })
            case .uint8: return pack(proto.int32Data.map { UInt8(truncatingIfNeeded: $0) })
            case .bool: return pack(proto.int32Data.map { UInt8($0 != 0 ? 1 : 0) })
            case .uint32: return pack(proto.uint64Data.map { UInt32(truncatingIfNeeded: $0) })
            case .uint64: return pack(proto.uint64Data)
            case .string: throw FormatError.tensor(file: source, name: proto.name, message: "string tensors are not supported")
            }
        }

        private func externalStorage(_ proto: Onnx_TensorProto, tensorName: String) throws -> TensorStorage {
            func fail(_ message: String) -> FormatError {
                FormatError.tensor(file: source, name: tensorName, message: "external data: \(message)")
            }
            var fields: [String: String] = [:]
            for entry in proto.externalData { fields[entry.key] = entry.value }
            guard let location = fields["location"], !location.isEmpty else { throw fail("no location") }
            guard let baseDirectory else { throw fail("'\(location)' cannot be resolved: the model was not read from a file") }
            let path = try ExternalDataPath.resolve(location, in: baseDirectory, describe: fail)
            let file: MappedFile
            if let cached = externalFiles[path] {
                file = cached
            } else {
                do { file = try MappedFile(path: path) } catch { throw fail("cannot read '\(location)': \(error.description)") }
                externalFiles[path] = file
            }
            func number(_ key: String) throws -> Int? {
                guard let text = fields[key] else { return nil }
                guard let value = Int(text), value >= 0 else { throw fail("\(key) '\(text)' is not a non-negative integer") }
                return value
            }
            let offset = try number("offset") ?? 0
            let expected = (DataType(rawValue: proto.dataType)?.byteSize ?? 1) * proto.dims.reduce(1) { $0 * Int($1) }
            let length = try number("length") ?? expected
            guard offset <= file.count, length <= file.count - offset else {
                throw fail("'\(location)' has \(file.count) bytes, but the tensor needs bytes \(offset)..<\(offset + length)")
            }
            return TensorStorage(mapping: file, offset: offset, count: length)
        }
    }
}

extension ONNXReader {
    /// Reads one serialized `TensorProto`, as the ONNX backend tests store their inputs and
    /// expected outputs (`input_0.pb`, `output_0.pb`).
    public static func readTensor(path: String) throws -> (name: String, tensor: Tensor) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw FormatError.file(path, "cannot read: \(error.localizedDescription)")
        }
        let proto: Onnx_TensorProto
        do { proto = try Onnx_TensorProto(serializedBytes: data) } catch {
            throw FormatError.file(path, "not a serialized ONNX tensor (\(error))")
        }
        let directory = (path as NSString).deletingLastPathComponent
        let context = Context(source: path, baseDirectory: directory.isEmpty ? "." : directory)
        return (proto.name, try context.tensor(proto))
    }
}
