import Foundation
import NXTestSupport
import Testing
import NXIR
@testable import NXFormat

/// A model touching every part of the IR the format models: every attribute kind, every
/// dtype, symbolic and unknown dims, value_info, metadata, several opsets.
func everyFeatureModel() -> Model {
    func bytes(_ count: Int, seed: UInt8) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) } }
    var initializers: [String: Tensor] = [:]
    for type in DataType.allCases where type != .string {
        // Large enough that some go to external data (>= 1 KiB), small enough to stay quick.
        let shape = type.byteSize! >= 4 ? [2, 300] : [3, 5]
        initializers["w_\(type)"] = Tensor(dataType: type, shape: shape, bytes: bytes(elementCount(shape) * type.byteSize!, seed: UInt8(type.rawValue)))
    }
    initializers["bool_mask"] = Tensor(shape: [4], scalars: [true, false, true, true])
    initializers["scalar"] = Tensor(scalar: Float(3.5))
    initializers["empty"] = Tensor(shape: [0, 3], scalars: [Float]())
    let node = Node(
        name: "custom", opType: "Everything", domain: "com.example", inputs: ["x", "", "w_float32"], outputs: ["y", "z"],
        attributes: [
            "f": .float(0.25), "i": .int(-7), "s": .string("héllo"), "t": .tensor(Tensor(shape: [2], scalars: [Int64(1), -1])),
            "fs": .floats([1, 2.5, -0]), "is": .ints([1, 2, 3]), "ss": .strings(["a", "", "ü"]), "empty_ints": .ints([]),
        ],
        docString: "a node with every attribute kind")
    let graph = Graph(
        name: "every_feature",
        nodes: [node, Node(opType: "Relu", inputs: ["y"], outputs: ["r"])],
        inputs: [ValueInfo(name: "x", elementType: .float32, shape: ["batch", 3, .unknown, 7], docString: "input")],
        outputs: [ValueInfo(name: "r", elementType: .float32, shape: nil), ValueInfo(name: "z", elementType: .int64, shape: [])],
        initializers: initializers,
        valueInfo: [ValueInfo(name: "y", elementType: .float32, shape: ["batch", 3, 5, 7])],
        docString: "graph doc")
    return Model(
        graph: graph, irVersion: 9,
        opsetImports: [OperatorSetID(version: 18), OperatorSetID(domain: "com.example", version: 1)],
        producerName: "tests", producerVersion: "1.2", domain: "org.test", modelVersion: 3, docString: "model doc",
        metadata: ["family": "test", "class_names": "a,b"])
}

@Suite struct ONNXRoundTripTests {
    @Test func inlineRoundTripPreservesEveryField() throws {
        let model = everyFeatureModel()
        let scratch = try TemporaryDirectory()
        let directory = scratch.path
        let path = scratch.file("m.onnx")
        try ONNXWriter.write(model, to: path, externalData: .inline)
        #expect(!FileManager.default.fileExists(atPath: path + ".data"))
        let read = try ONNXReader.read(path: path)
        #expect(read == model)
        #expect(try ONNXReader.read(data: ONNXWriter.serialize(model)) == model)
    }

    @Test func externalRoundTripMapsAlignedTensors() throws {
        let model = everyFeatureModel()
        let scratch = try TemporaryDirectory()
        let directory = scratch.path
        let path = scratch.file("m.onnx")
        try ONNXWriter.write(model, to: path, externalData: .external)
        #expect(FileManager.default.fileExists(atPath: path + ".data"))
        let read = try ONNXReader.read(path: path)
        #expect(read == model)
        let large = read.graph.initializers.filter { $0.value.byteCount >= ONNXWriter.inlineLimit }
        #expect(!large.isEmpty)
        // Large tensors view the data file, small ones the model file's raw_data (all mapped).
        for (name, tensor) in read.graph.initializers {
            #expect(tensor.storage.isMapped == (tensor.byteCount > 0), "\(name)")
        }
        // Offsets recorded in the file are page-aligned.
        let proto = try Onnx_ModelProto(serializedBytes: Data(contentsOf: URL(fileURLWithPath: path)) as Data)
        for tensor in proto.graph.initializer where tensor.dataLocation == .external {
            let offset = Int(tensor.externalData.first { $0.key == "offset" }!.value)!
            #expect(offset % ONNXWriter.alignment == 0)
        }
        // Rewriting inline gives back a self-contained file with the same content.
        try ONNXWriter.write(read, to: directory + "/inline.onnx", externalData: .inline)
        #expect(try ONNXReader.read(path: directory + "/inline.onnx") == model)
    }

    @Test func automaticPolicyStaysInlineForSmallModels() throws {
        let scratch = try TemporaryDirectory()
        let directory = scratch.path
        try ONNXWriter.write(everyFeatureModel(), to: directory + "/m.onnx")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["m.onnx"])
    }

    @Test func typedFieldsAreDecoded() throws {
        // Writers such as onnx.helper.make_tensor use the typed fields instead of raw_data.
        var proto = Onnx_ModelProto()
        proto.irVersion = 8
        var opset = Onnx_OperatorSetIdProto()
        opset.version = 17
        proto.opsetImport = [opset]
        func tensor(_ name: String, _ type: DataType, _ dims: [Int64], _ fill: (inout Onnx_TensorProto) -> Void) -> Onnx_TensorProto {
            var t = Onnx_TensorProto()
            t.name = name
            t.dataType = type.rawValue
            t.dims = dims
            fill(&t)
            return t
        }
        proto.graph.initializer = [
            tensor("f", .float32, [2]) { $0.floatData = [1.5, -2] },
            tensor("d", .float64, [1]) { $0.doubleData = [0.125] },
            tensor("i64", .int64, [2]) { $0.int64Data = [Int64.max, -3] },
            tensor("i8", .int8, [2]) { $0.int32Data = [-128, 127] },
            tensor("h", .float16, [1]) { $0.int32Data = [Int32(Float16(0.5).bitPattern)] },
            tensor("b", .bool, [2]) { $0.int32Data = [1, 0] },
            tensor("u64", .uint64, [1]) { $0.uint64Data = [UInt64.max] },
        ]
        let graph = try ONNXReader.read(data: proto.serializedBytes() as Data).graph
        #expect(try graph.initializers["f"]!.scalars(as: Float.self) == [1.5, -2])
        #expect(try graph.initializers["d"]!.scalars(as: Double.self) == [0.125])
        #expect(try graph.initializers["i64"]!.scalars(as: Int64.self) == [Int64.max, -3])
        #expect(try graph.initializers["i8"]!.scalars(as: Int8.self) == [-128, 127])
        #expect(try graph.initializers["h"]!.floatValues() == [0.5])
        #expect(try graph.initializers["b"]!.scalars(as: Bool.self) == [true, false])
        #expect(try graph.initializers["u64"]!.scalars(as: UInt64.self) == [UInt64.max])
    }

    @Test func committedPyTorchExportMatchesTimmParameterCount() throws {
        let model = try ONNXReader.read(path: Fixtures.path("mini_convnext/mini_convnext.onnx"))
        let facts = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("mini_convnext/mini_convnext.json")))) as! [String: Any]
        #expect(model.validate().isEmpty)
        #expect(model.graph.parameterCount == facts["parameters"] as! Int)
        let opTypes = facts["op_types"] as! [String: Int]
        #expect(Dictionary(uniqueKeysWithValues: model.graph.opTypeHistogram.map { ($0.opType, $0.count) }) == opTypes)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: Fixtures.path("generated/convnext_atto.onnx")),
                   "generated fixture absent: run Converters/python/make_format_fixtures.py --large"))
    func generatedConvNeXtAttoMatchesTimmParameterCount() throws {
        let model = try ONNXReader.read(path: Fixtures.path("generated/convnext_atto.onnx"))
        let facts = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("generated/convnext_atto.json")))) as! [String: Any]
        #expect(model.validate().isEmpty)
        #expect(model.graph.parameterCount == facts["parameters"] as! Int)
    }
}
