import Foundation
import NXTestSupport
import Testing
import NXIR
@testable import NXFormat

/// Reading a file leaves the main graph's `raw_data` payloads in the mapped file
/// (`InitializerPayloads`); these tests hold that path to the same results as swift-protobuf
/// decoding the whole message (`read(data:)`, which copies).
@Suite struct ONNXMappedReadTests {
    /// Reads `bytes` both ways from a file; the two must agree on the model or on the error.
    private func readBothWays(_ bytes: [UInt8], in scratch: TemporaryDirectory) throws -> (mapped: Result<Model, Error>, decoded: Result<Model, Error>) {
        let path = scratch.file("m.onnx")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let mapped = Result { try ONNXReader.read(path: path) }
        let decoded = Result { try ONNXReader.read(data: Data(bytes), source: path, baseDirectory: scratch.path) }
        return (mapped, decoded)
    }

    private func expectAgreement(_ results: (mapped: Result<Model, Error>, decoded: Result<Model, Error>), _ label: String) {
        switch (results.mapped, results.decoded) {
        case (.success(let a), .success(let b)): #expect(a == b, "\(label)")
        case (.failure(let a), .failure(let b)): #expect("\(a)" == "\(b)", "\(label)")
        case (.success, .failure(let error)): Issue.record("\(label): mapped read succeeded, decoding failed: \(error)")
        case (.failure(let error), .success): Issue.record("\(label): decoding succeeded, mapped read failed: \(error)")
        }
    }

    @Test func inlineInitializersViewTheMappedFile() throws {
        let model = everyFeatureModel()
        let scratch = try TemporaryDirectory()
        let path = scratch.file("m.onnx")
        try ONNXWriter.write(model, to: path, externalData: .inline)
        let read = try ONNXReader.read(path: path)
        #expect(read == model)
        for (name, tensor) in read.graph.initializers {
            #expect(tensor.storage.isMapped == (tensor.byteCount > 0), "\(name)")
        }
        // Tensors in attributes keep the copying path.
        guard case .tensor(let attribute)? = read.graph.nodes[0].attributes["t"] else {
            Issue.record("attribute t missing")
            return
        }
        #expect(!attribute.storage.isMapped)
        #expect(try attribute.scalars(as: Int64.self) == [1, -1])
    }

    @Test func mutatedFilesReadAsProtobufDecodesThem() throws {
        let valid = [UInt8](try ONNXWriter.serialize(everyFeatureModel()))
        let scratch = try TemporaryDirectory()
        var generator = SeededRandom(seed: 6)
        var outcomes = (decoded: 0, rejected: 0)
        for round in 0..<600 {
            var bytes = valid
            Mutation.apply(to: &bytes, using: &generator)
            let results = try readBothWays(bytes, in: scratch)
            expectAgreement(results, "mutation \(round)")
            if case .success = results.mapped { outcomes.decoded += 1 } else { outcomes.rejected += 1 }
        }
        #expect(outcomes.decoded > 50 && outcomes.rejected > 50, "\(outcomes)")
    }

    /// Wire-format corners the scan must resolve as protobuf does: a field given twice
    /// (the last wins), messages given twice (they merge), empty and absent payloads.
    /// Written by hand, since swift-protobuf would collapse the repetitions.
    @Test func repeatedFieldsAndMergedMessagesFollowProtobuf() throws {
        func field(_ number: Int, _ body: [UInt8]) -> [UInt8] {
            var out: [UInt8] = [UInt8(number << 3 | 2)]
            var length = body.count
            while length >= 0x80 {
                out.append(UInt8(length & 0x7F) | 0x80)
                length >>= 7
            }
            return out + [UInt8(length)] + body
        }
        func tensor(_ name: String, raw: [UInt8]?, floats: [Float] = []) throws -> [UInt8] {
            var proto = Onnx_TensorProto()
            proto.name = name
            proto.dataType = DataType.float32.rawValue
            proto.dims = [Int64(raw.map { $0.count / 4 } ?? floats.count)]
            if let raw { proto.rawData = Data(raw) }
            proto.floatData = floats
            return [UInt8](try proto.serializedBytes() as Data)
        }
        let irVersion: [UInt8] = [0x08, 9]
        func graph(_ initializers: [[UInt8]]) -> [UInt8] { field(7, initializers.flatMap { field(5, $0) }) }
        let first: [UInt8] = [1, 0, 128, 63, 0, 0, 0, 64]
        let second: [UInt8] = [9, 9, 9, 9, 0, 0, 64, 64]

        let cases: [(String, [UInt8])] = [
            ("two graph fields merge",
             irVersion + graph([try tensor("a", raw: first)]) + graph([try tensor("b", raw: second), try tensor("typed", raw: nil, floats: [1, 2])])),
            ("raw_data twice", irVersion + graph([try tensor("twice", raw: first) + field(9, second)])),
            ("payload emptied", irVersion + graph([try tensor("emptied", raw: first) + field(9, [])])),
            ("empty payload first", irVersion + graph([try tensor("late", raw: []) + field(9, second)])),
        ]
        let scratch = try TemporaryDirectory()
        for (label, bytes) in cases {
            expectAgreement(try readBothWays(bytes, in: scratch), label)
        }
        // And the values are protobuf's, not only equal to each other.
        func mappedRead(_ bytes: [UInt8]) throws -> [String: Tensor] {
            let path = scratch.file("case.onnx")
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return try ONNXReader.read(path: path).graph.initializers
        }
        let merged = try mappedRead(cases[0].1)
        #expect(merged.keys.sorted() == ["a", "b", "typed"])
        #expect(merged["b"]!.withUnsafeBytes(Array.init) == second)
        #expect(try merged["typed"]!.scalars(as: Float.self) == [1, 2])
        let twice = try mappedRead(cases[1].1)["twice"]!
        #expect(twice.storage.isMapped)
        #expect(twice.withUnsafeBytes(Array.init) == second)
        #expect(try mappedRead(cases[2].1)["emptied"]!.byteCount == 0)
        #expect(try mappedRead(cases[3].1)["late"]!.withUnsafeBytes(Array.init) == second)
    }
}
