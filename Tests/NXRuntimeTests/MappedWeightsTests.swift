import Foundation
import NXTestSupport
import Testing
import NXIR
import NXFormat
@testable import NXRuntime

/// Weights read from a file stay views of the mapped file (`ONNXReader`), at whatever offset
/// the writer left them: kernels must give the same bits as with weights in memory.
@Suite struct MappedWeightsTests {
    /// A Conv and a MatMul whose weight names have lengths 1...4, which moves their
    /// `raw_data` payloads to every offset modulo 4.
    private func model(nameLength: Int) -> Model {
        var random = SeededRandom(seed: UInt64(nameLength))
        func weights(_ shape: [Int]) -> Tensor {
            Tensor(shape: shape, scalars: (0..<elementCount(shape)).map { _ in Float.random(in: -1...1, using: &random) })
        }
        let prefix = String(repeating: "w", count: nameLength)
        let b = GraphBuilder(opset: 17)
        let x = b.input("x", shape: [1, 3, 8, 8])
        let conv = b.conv(x, b.initializer(prefix, weights([6, 3, 3, 3])), bias: b.initializer(prefix + "b", weights([6])), pads: [1, 1, 1, 1])
        let flat = b.flatten(b.globalAveragePool(conv))
        b.output(b.matMul(flat, b.initializer(prefix + "m", weights([6, 4]))), name: "y")
        return b.model()
    }

    @Test func misalignedAndAlignedPayloadsGiveTheSameOutputs() throws {
        let scratch = try TemporaryDirectory()
        var random = SeededRandom(seed: 3)
        let x = Tensor(shape: [1, 3, 8, 8], scalars: (0..<192).map { _ in Float.random(in: -1...1, using: &random) })
        var alignments: Set<Int> = []
        for length in 1...4 {
            let original = model(nameLength: length)
            let path = scratch.file("m\(length).onnx")
            try ONNXWriter.write(original, to: path, externalData: .inline)
            let read = try ONNXReader.read(path: path)
            for tensor in read.graph.initializers.values {
                #expect(tensor.storage.isMapped)
                alignments.insert(Int(bitPattern: tensor.storage.bytes.baseAddress!) % 4)
            }
            let fromFile = try Session(model: read).run(["x": x])["y"]!
            let fromMemory = try Session(model: original).run(["x": x])["y"]!
            #expect(fromFile.withUnsafeBytes(Array.init) == fromMemory.withUnsafeBytes(Array.init), "name length \(length)")
        }
        // Both paths of PackedFloats ran: views of aligned payloads, copies of the others.
        #expect(alignments.contains(0) && alignments.count > 1, "\(alignments)")
    }

    @Test func packedWeightsViewAlignedStorageAndCopyTheRest() throws {
        let scratch = try TemporaryDirectory()
        for length in 1...4 {
            let path = scratch.file("m\(length).onnx")
            try ONNXWriter.write(model(nameLength: length), to: path, externalData: .inline)
            for (name, tensor) in try ONNXReader.read(path: path).graph.initializers {
                let packed = PackedFloats(tensor)
                let base = tensor.storage.bytes.baseAddress!
                let aligned = Int(bitPattern: base) % 4 == 0
                #expect(packed.withPointer { UnsafeRawPointer($0) == base } == aligned, "\(name)")
                #expect(packed.withPointer { Array(UnsafeBufferPointer(start: $0, count: packed.count)) } == (try tensor.scalars(as: Float.self)), "\(name)")
            }
        }
    }
}
