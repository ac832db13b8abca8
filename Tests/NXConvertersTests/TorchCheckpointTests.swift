import Foundation
import NXFormat
import NXIR
import NXTestSupport
import Testing

@testable import NXConverters

/// Reading torch.save zips and safetensors checkpoints: every committed form yields the same
/// weights (bit for bit in float32, exactly rounded for float16/bfloat16), float32 contiguous
/// tensors view the mapped file, strided ones are gathered.
@Suite struct TorchCheckpointTests {
    /// The float32 reference: the conv_mlp safetensors as Python's safetensors wrote it, with
    /// the MLP weights in Linear layout so it compares with every other form.
    private func reference() throws -> [String: Tensor] {
        let file = try SafeTensorsFile.read(path: Fixtures.checkpoint("mini_timm_convmlp.safetensors"))
        return file.tensors.mapValues { $0.shape.count == 4 && $0.shape.suffix(2) == [1, 1] && $0.shape[1] != 1 ? $0.reshaped(Array($0.shape.prefix(2))) : $0 }
    }

    @Test func float32PthMatchesSafetensorsAndViewsTheMapping() throws {
        let state = try TorchCheckpoint.read(path: Fixtures.checkpoint("mini_timm.pth"))
        let expected = try reference()
        #expect(state.count == 56)
        #expect(Set(state.keys) == Set(expected.keys))
        for (name, tensor) in expected {
            let read = try #require(state[name], "\(name)")
            #expect(read.dataType == .float32 && read.shape == tensor.shape, "\(name): \(read) vs \(tensor)")
            #expect(try read.scalars(as: Float.self) == tensor.scalars(as: Float.self), "\(name)")
        }
        // The fixture saves head.fc.weight as a transposed view (copied) and stem.1.bias at an
        // offset into stem.1.weight's storage (still contiguous: a view).
        #expect(!state["head.fc.weight"]!.storage.isMapped)
        #expect(state["stem.1.bias"]!.storage.isMapped)
        let mapped = state.filter { $0.value.storage.isMapped }.count
        #expect(mapped == 55, "every tensor but the transposed one views the file")
    }

    @Test func inMemoryReadEqualsMappedRead() throws {
        let path = Fixtures.checkpoint("mini_timm.pth")
        let mapped = try TorchCheckpoint.read(path: path)
        let copied = try TorchCheckpoint.read(bytes: try Fixtures.bytes(path), source: path)
        #expect(mapped.count == copied.count)
        for (name, tensor) in mapped {
            #expect(copied[name] == tensor, "\(name)")
            #expect(copied[name]?.storage.isMapped == false)
        }
    }

    @Test func float16TrainingCheckpointIsUnwrappedAndWidenedExactly() throws {
        let (state, naming) = try ConvNeXtImport.load(path: Fixtures.checkpoint("mini_fb_fp16.pth"))
        #expect(naming == .facebook)
        let expected = try reference()
        #expect(Set(state.keys) == Set(expected.keys))
        for (name, tensor) in expected {
            let read = try #require(state[name], "\(name)")
            #expect(read.dataType == .float32 && read.shape == tensor.shape, "\(name)")
            let rounded = try tensor.scalars(as: Float.self).map { Float(Float16($0)) }
            #expect(try read.scalars(as: Float.self) == rounded, "\(name)")
        }
    }

    @Test func bfloat16SafetensorsAreWidenedExactly() throws {
        let (state, naming) = try ConvNeXtImport.load(path: Fixtures.checkpoint("mini_fb_bf16.safetensors"))
        #expect(naming == .facebook)
        let expected = try reference()
        #expect(Set(state.keys) == Set(expected.keys))
        for (name, tensor) in expected {
            let read = try #require(state[name], "\(name)")
            #expect(read.dataType == .float32 && read.shape == tensor.shape, "\(name)")
            #expect(try read.scalars(as: Float.self) == tensor.scalars(as: Float.self).map(roundedToBFloat16), "\(name)")
        }
    }

    @Test func zip64RecordsAreRead() throws {
        let original = try Fixtures.bytes(Fixtures.checkpoint("mini_timm.pth"))
        let rebuilt = ZipBuilder.build(try ZipBuilder.entries(of: original), zip64: true)
        #expect(rebuilt != original)
        let directory = try TemporaryDirectory()
        let path = directory.file("zip64.pth")
        try Data(rebuilt).write(to: URL(fileURLWithPath: path))
        let state = try Checkpoint.read(path: path)
        let expected = try TorchCheckpoint.read(path: Fixtures.checkpoint("mini_timm.pth"))
        #expect(state.count == expected.count)
        for (name, tensor) in expected { #expect(state[name] == tensor, "\(name)") }
        #expect(state["stem.0.weight"]!.storage.isMapped)
    }

    @Test func formatIsDetectedByContentNotExtension() throws {
        let directory = try TemporaryDirectory()
        let pth = directory.file("weights.safetensors"), safetensors = directory.file("weights.pth")
        try FileManager.default.copyItem(atPath: Fixtures.checkpoint("mini_timm.pth"), toPath: pth)
        try FileManager.default.copyItem(atPath: Fixtures.checkpoint("mini_fb_bf16.safetensors"), toPath: safetensors)
        #expect(try Checkpoint.read(path: pth).count == 56)
        #expect(try Checkpoint.read(path: safetensors).keys.contains("downsample_layers.0.0.weight"))
    }

    @Test func dataParallelPrefixIsRemoved() throws {
        let tensor = Tensor(shape: [2], scalars: [Float(1), 2])
        let state = try Checkpoint.removingDataParallelPrefix([("module.stem.0.weight", tensor), ("head.fc.bias", tensor)], source: "x.pth")
        #expect(Set(state.keys) == ["stem.0.weight", "head.fc.bias"])
        let error = #expect(throws: CheckpointError.self) {
            try Checkpoint.removingDataParallelPrefix([("module.a", tensor), ("a", tensor)], source: "x.pth")
        }
        #expect(error?.description.contains("'a'") == true)
    }

    @Test func stridedViewsAreGatheredRowMajor() throws {
        // A [2, 3, 4] float16 tensor stored as a permuted view of a [4, 2, 3] storage at offset 2.
        let storageValues = (0..<(2 + 24)).map { Float16(Float($0)) }
        let bytes = storageValues.withUnsafeBytes { Array($0) }
        let record = TorchTensorRecord(
            storage: TorchStorageReference(key: "0", dataType: .float16, count: storageValues.count),
            offset: 2, shape: [2, 3, 4], strides: [3, 1, 6])
        let materializer = TorchTensorMaterializer(
            storageRange: { $0 == "0" ? (0, bytes.count) : nil },
            view: { offset, count in bytes.withUnsafeBytes { TensorStorage(copying: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + count)])) } },
            source: "crafted")
        let tensor = try materializer.tensor(record, name: "t")
        #expect(tensor.dataType == .float32 && tensor.shape == [2, 3, 4])
        var expected: [Float] = []
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { expected.append(Float(2 + 3 * i + j + 6 * k)) } } }
        #expect(try tensor.scalars(as: Float.self) == expected)

        // Views that reach past their storage, or repeat elements, are refused by name.
        for (shape, strides) in [([2, 3, 5], [3, 1, 6]), ([100], [0])] {
            let bad = TorchTensorRecord(storage: record.storage, offset: 2, shape: shape, strides: strides)
            let error = #expect(throws: CheckpointError.self) { try materializer.tensor(bad, name: "bad") }
            #expect(error?.description.contains("tensor 'bad'") == true, "\(String(describing: error))")
        }
    }
}

/// torch's float32 -> bfloat16 conversion (round to nearest, ties to even), widened back.
func roundedToBFloat16(_ value: Float) -> Float {
    let bits = value.bitPattern
    let rounded = (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000
    return Float(bitPattern: rounded)
}
