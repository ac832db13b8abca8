import Foundation
import NXIR
import SwiftProtobuf

/// Where a writer puts tensor bytes.
public enum ExternalDataPolicy: Sendable {
    /// Inline unless the weights would push the protobuf past its 2 GB limit.
    case automatic
    /// Everything in `raw_data`; fails for models over the limit.
    case inline
    /// Tensors of at least `ONNXWriter.inlineLimit` bytes in one file beside the model.
    case external
}

/// Writes the IR as `.onnx` (plus `<model>.data` for external data).
///
/// Files are written to a temporary name and renamed, the data file first, so a failed
/// write never leaves a model that is half written or points to missing data.
public enum ONNXWriter {
    /// Protobuf refuses messages of 2 GiB; keep 140 MB headroom for the graph itself.
    public static let automaticExternalThreshold = 2_000_000_000
    /// Offsets in the data file are page-aligned so any runtime can map tensors in place.
    public static let alignment = 4096
    /// In external mode, tensors smaller than this stay inline (the `onnx` package's default).
    public static let inlineLimit = 1024

    public static func write(_ model: Model, to path: String, externalData policy: ExternalDataPolicy = .automatic) throws {
        let useExternal: Bool
        switch policy {
        case .inline: useExternal = false
        case .external: useExternal = true
        case .automatic: useExternal = model.graph.parameterBytes > automaticExternalThreshold
        }
        if !useExternal {
            let data = try serialize(model, source: path)
            try AtomicFile.write(to: path) { out in try data.withUnsafeBytes { try out.write($0) } }
            return
        }
        let dataFileName = (path as NSString).lastPathComponent + ".data"
        let dataPath = ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(dataFileName)
        let layout = ExternalLayout(graph: model.graph, location: dataFileName)
        // Encode the model first: if it cannot be written (e.g. still over 2 GB), fail
        // before touching the data file.
        let data = try serialize(model, source: path, layout: layout)
        try AtomicFile.write(to: dataPath) { out in
            for (name, _) in layout.entries {
                try out.pad(toMultipleOf: alignment)
                try model.graph.initializers[name]!.withUnsafeBytes { try out.write($0) }
            }
        }
        try AtomicFile.write(to: path) { out in try data.withUnsafeBytes { try out.write($0) } }
    }

    /// The model as protobuf bytes with every tensor inline.
    public static func serialize(_ model: Model) throws -> Data { try serialize(model, source: "<memory>") }

    static func serialize(_ model: Model, source: String, layout: ExternalLayout? = nil) throws -> Data {
        let proto = modelProto(model, layout: layout)
        let data: Data
        do { data = try proto.serializedBytes() } catch {
            throw FormatError.file(source, "cannot encode the model: \(error)")
        }
        guard data.count < Int(Int32.max) else {
            throw FormatError.file(source, "the model is \(data.count) bytes, over protobuf's 2 GB limit: write it with external data")
        }
        return data
    }

    /// Which initializers go to the data file, at which aligned offsets (sorted by name).
    struct ExternalLayout {
        let location: String
        let entries: [(name: String, offset: Int)]
        let offsets: [String: Int]

        init(graph: Graph, location: String) {
            self.location = location
            var entries: [(String, Int)] = []
            var end = 0
            for name in graph.initializers.keys.sorted() where graph.initializers[name]!.byteCount >= ONNXWriter.inlineLimit {
                let offset = (end + ONNXWriter.alignment - 1) / ONNXWriter.alignment * ONNXWriter.alignment
                entries.append((name, offset))
                end = offset + graph.initializers[name]!.byteCount
            }
            self.entries = entries
            self.offsets = Dictionary(uniqueKeysWithValues: entries)
        }
    }

    static func modelProto(_ model: Model, layout: ExternalLayout?) -> Onnx_ModelProto {
        var proto = Onnx_ModelProto()
        proto.irVersion = Int64(model.irVersion)
        proto.opsetImport = model.opsetImports.map { opset in
            var entry = Onnx_OperatorSetIdProto()
            entry.domain = opset.domain
            entry.version = Int64(opset.version)
            return entry
        }
        proto.producerName = model.producerName
        proto.producerVersion = model.producerVersion
        proto.domain = model.domain
        proto.modelVersion = Int64(model.modelVersion)
        proto.docString = model.docString
        proto.metadataProps = model.metadata.keys.sorted().map { entry($0, model.metadata[$0]!) }
        proto.graph = graphProto(model.graph, layout: layout)
        return proto
    }

    static func graphProto(_ graph: Graph, layout: ExternalLayout?) -> Onnx_GraphProto {
        var proto = Onnx_GraphProto()
        proto.name = graph.name
        proto.docString = graph.docString
        proto.node = graph.nodes.map(nodeProto)
        proto.input = graph.inputs.map(valueInfoProto)
        proto.output = graph.outputs.map(valueInfoProto)
        proto.valueInfo = graph.valueInfo.map(valueInfoProto)
        proto.initializer = graph.initializers.keys.sorted().map { name in
            let tensor = graph.initializers[name]!
            if let layout, let offset = layout.offsets[name] {
                return externalTensorProto(name: name, tensor, location: layout.location, offset: offset)
            }
            return tensorProto(name: name, tensor)
        }
        return proto
    }

    static func nodeProto(_ node: Node) -> Onnx_NodeProto {
        var proto = Onnx_NodeProto()
        proto.name = node.name
        proto.opType = node.opType
        proto.domain = node.domain
        proto.input = node.inputs
        proto.output = node.outputs
        proto.docString = node.docString
        proto.attribute = node.attributes.keys.sorted().map { attributeProto(name: $0, node.attributes[$0]!) }
        return proto
    }

    static func attributeProto(name: String, _ attribute: Attribute) -> Onnx_AttributeProto {
        var proto = Onnx_AttributeProto()
        proto.name = name
        switch attribute {
        case .float(let v): proto.type = .float; proto.f = v
        case .int(let v): proto.type = .int; proto.i = Int64(v)
        case .string(let v): proto.type = .string; proto.s = Data(v.utf8)
        case .tensor(let v): proto.type = .tensor; proto.t = tensorProto(name: "", v)
        case .floats(let v): proto.type = .floats; proto.floats = v
        case .ints(let v): proto.type = .ints; proto.ints = v.map(Int64.init)
        case .strings(let v): proto.type = .strings; proto.strings = v.map { Data($0.utf8) }
        }
        return proto
    }

    static func valueInfoProto(_ info: ValueInfo) -> Onnx_ValueInfoProto {
        var proto = Onnx_ValueInfoProto()
        proto.name = info.name
        proto.docString = info.docString
        guard info.elementType != nil || info.shape != nil else { return proto }
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = info.elementType?.rawValue ?? 0
        if let shape = info.shape {
            var shapeProto = Onnx_TensorShapeProto()
            shapeProto.dim = shape.dimensions.map { dimension in
                var dim = Onnx_TensorShapeProto.Dimension()
                switch dimension {
                case .fixed(let v): dim.dimValue = Int64(v)
                case .symbolic(let name): dim.dimParam = name
                case .unknown: break
                }
                return dim
            }
            tensorType.shape = shapeProto
        }
        proto.type.tensorType = tensorType
        return proto
    }

    static func tensorProto(name: String, _ tensor: Tensor) -> Onnx_TensorProto {
        var proto = Onnx_TensorProto()
        proto.name = name
        proto.dims = tensor.shape.map(Int64.init)
        proto.dataType = tensor.dataType.rawValue
        proto.rawData = tensor.withUnsafeBytes { Data($0) }
        return proto
    }

    static func externalTensorProto(name: String, _ tensor: Tensor, location: String, offset: Int) -> Onnx_TensorProto {
        var proto = Onnx_TensorProto()
        proto.name = name
        proto.dims = tensor.shape.map(Int64.init)
        proto.dataType = tensor.dataType.rawValue
        proto.dataLocation = .external
        proto.externalData = [
            entry("location", location), entry("offset", String(offset)), entry("length", String(tensor.byteCount)),
        ]
        return proto
    }

    static func entry(_ key: String, _ value: String) -> Onnx_StringStringEntryProto {
        var entry = Onnx_StringStringEntryProto()
        entry.key = key
        entry.value = value
        return entry
    }
}
