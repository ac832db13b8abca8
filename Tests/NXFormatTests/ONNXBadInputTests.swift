import Foundation
import NXTestSupport
import Testing
import NXIR
@testable import NXFormat

/// Every malformed file must end in a `FormatError` naming the file (and the tensor or
/// node when there is one), never a crash.
@Suite struct ONNXBadInputTests {
    private let scratch: TemporaryDirectory

    init() throws { scratch = try TemporaryDirectory() }

    private func write(_ bytes: some DataProtocol, name: String = "bad.onnx") throws -> String {
        let path = scratch.file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func expectError(_ path: String, containing fragments: [String]) {
        do {
            let model = try ONNXReader.read(path: path)
            Issue.record("read succeeded with \(model.graph.nodes.count) nodes")
        } catch let error as FormatError {
            #expect(error.path == path)
            for fragment in fragments { #expect(error.description.contains(fragment), "\(error)") }
        } catch {
            Issue.record("not a FormatError: \(error)")
        }
    }

    /// A one-initializer model whose tensor proto the test then damages.
    private func modelProto(_ damage: (inout Onnx_TensorProto) -> Void) throws -> Onnx_ModelProto {
        let graph = Graph(
            nodes: [Node(name: "add", opType: "Add", inputs: ["x", "w"], outputs: ["y"])],
            inputs: [ValueInfo(name: "x", elementType: .float32, shape: [4])],
            outputs: [ValueInfo(name: "y", elementType: .float32, shape: [4])],
            initializers: ["w": Tensor(shape: [4], scalars: [Float](repeating: 1, count: 4))])
        var proto = ONNXWriter.modelProto(Model(graph: graph), layout: nil)
        damage(&proto.graph.initializer[0])
        return proto
    }

    private func externalReference(_ location: String, offset: Int = 0, length: Int = 16) -> (inout Onnx_TensorProto) -> Void {
        { tensor in
            tensor.rawData = Data()
            tensor.dataLocation = .external
            tensor.externalData = [
                ONNXWriter.entry("location", location), ONNXWriter.entry("offset", "\(offset)"),
                ONNXWriter.entry("length", "\(length)"),
            ]
        }
    }

    @Test func emptyFile() throws {
        expectError(try write(Data()), containing: ["empty file"])
    }

    @Test func randomBytes() throws {
        var generator = SeededRandom(seed: 7)
        let bytes = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        expectError(try write(bytes), containing: [])
    }

    @Test func truncatedProtobuf() throws {
        let full = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("mini_convnext/mini_convnext.onnx")))
        expectError(try write(full.prefix(full.count / 2)), containing: ["not a valid ONNX protobuf"])
    }

    @Test func textFileIsNotAModel() throws {
        expectError(try write(Data("hello, this is not a model\n".utf8)), containing: [])
    }

    @Test func rawDataLengthDisagreeingWithDims() throws {
        let proto = try modelProto { $0.rawData = Data(count: 12) }
        let path = try write(proto.serializedBytes() as Data)
        // Kept as read, so validation can list it with everything else wrong in the file.
        let model = try ONNXReader.read(path: path)
        let issue = try #require(model.validate().first { $0.kind == .initializerSize })
        #expect(issue.message.contains("'w'") && issue.message.contains("16 bytes") && issue.message.contains("12"))
    }

    @Test func unknownDataType() throws {
        let proto = try modelProto { $0.dataType = 99 }
        expectError(try write(proto.serializedBytes() as Data), containing: ["tensor 'w'", "data type code 99"])
    }

    @Test func externalDataMissing() throws {
        let proto = try modelProto(externalReference("weights.bin"))
        expectError(try write(proto.serializedBytes() as Data), containing: ["tensor 'w'", "weights.bin", "missing"])
    }

    @Test func externalDataTooShort() throws {
        let proto = try modelProto(externalReference("weights.bin", offset: 8, length: 16))
        let path = try write(proto.serializedBytes() as Data)
        try Data(count: 20).write(to: URL(fileURLWithPath: (path as NSString).deletingLastPathComponent + "/weights.bin"))
        expectError(path, containing: ["tensor 'w'", "20 bytes", "8..<24"])
    }

    @Test func externalDataOutsideTheModelFolder() throws {
        for location in ["../outside.bin", "/etc/passwd", "sub/../../outside.bin"] {
            let proto = try modelProto(externalReference(location))
            expectError(try write(proto.serializedBytes() as Data), containing: ["tensor 'w'", "model's folder", location])
        }
    }

    @Test func externalDataThroughSymlinkOutOfFolder() throws {
        let proto = try modelProto(externalReference("link.bin"))
        let path = try write(proto.serializedBytes() as Data)
        let elsewhere = try TemporaryDirectory()
        let outside = elsewhere.file("secret.bin")
        try Data(count: 16).write(to: URL(fileURLWithPath: outside))
        try FileManager.default.createSymbolicLink(atPath: (path as NSString).deletingLastPathComponent + "/link.bin", withDestinationPath: outside)
        expectError(path, containing: ["tensor 'w'", "outside"])
    }

    @Test func modelWithoutGraph() throws {
        var proto = Onnx_ModelProto()
        proto.irVersion = 8
        expectError(try write(proto.serializedBytes() as Data), containing: ["no graph"])
    }

    @Test func missingFile() {
        expectError("/nonexistent/model.onnx", containing: ["cannot open"])
    }

    @Test func failedWriteLeavesNothingBehind() throws {
        let scratch = try TemporaryDirectory()
        let directory = scratch.path
        let path = directory + "/huge.onnx"
        // A tensor whose bytes disagree with its shape still writes; a directory in the way
        // of the rename must fail without leaving temporary files.
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        #expect(throws: FormatError.self) { try ONNXWriter.write(everyFeatureModel(), to: path, externalData: .inline) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["huge.onnx"])
    }
}
