import Foundation
import NXFormat
import NXIR
import NXModels
import NXRuntime
import NXTestSupport
import Testing

@testable import NXConverters

/// Checkpoints that do not fit or are not checkpoints: each fails with a message naming the
/// file and the key, entry or opcode at fault, and never crashes.
@Suite struct BadCheckpointTests {
    private let miniPath = Fixtures.checkpoint("mini_timm.pth")

    private func build(_ path: String, strict: Bool = true, classes: Int = Fixtures.miniClasses) throws -> (Model, LoadReport) {
        try ConvNeXtImport.model(
            config: Fixtures.miniConfig, head: .classifier(numClasses: classes), weights: path, strict: strict,
            inputSize: Fixtures.miniInputSize)
    }

    /// The mini checkpoint as safetensors after `edit`, in `directory`.
    private func editedCheckpoint(
        _ directory: TemporaryDirectory, facebook: Bool = false, _ edit: (inout [String: Tensor]) -> Void
    ) throws -> String {
        var state = try Checkpoint.read(path: Fixtures.checkpoint(facebook ? "mini_fb_bf16.safetensors" : "mini_timm.pth"))
        edit(&state)
        let path = directory.file("edited.safetensors")
        try SafeTensorsFile.write(state, to: path)
        return path
    }

    private func readError(_ bytes: [UInt8], name: String = "bad.pth") throws -> String {
        let directory = try TemporaryDirectory()
        let path = directory.file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            _ = try Checkpoint.read(path: path)
        } catch {
            let message = "\(error)"
            #expect(message.hasPrefix(path), "error does not name the file: \(message)")
            return String(message.dropFirst(path.count))
        }
        Issue.record("\(name) was read without error")
        return ""
    }

    @Test func wrongShapeNamesTheKeyAndBothShapes() throws {
        let directory = try TemporaryDirectory()
        let path = try editedCheckpoint(directory) { state in
            state["stages.1.blocks.0.conv_dw.weight"] = Tensor(shape: [16, 1, 5, 5], scalars: [Float](repeating: 0, count: 400))
        }
        for strict in [true, false] {
            let error = #expect(throws: CheckpointError.self) { try build(path, strict: strict) }
            #expect(error?.description.contains("'stages.1.blocks.0.conv_dw.weight': checkpoint has shape [16, 1, 5, 5], model expects [16, 1, 7, 7]") == true,
                    "\(String(describing: error))")
            #expect(error?.path == path)
        }
        // A renamed checkpoint's mismatch also gives the key as the file spells it.
        let facebook = try editedCheckpoint(directory, facebook: true) { state in
            state["stages.1.0.dwconv.weight"] = Tensor(shape: [16, 1, 3, 3], scalars: [Float](repeating: 0, count: 144))
        }
        let error = #expect(throws: CheckpointError.self) { try build(facebook) }
        #expect(error?.description.contains("'stages.1.blocks.0.conv_dw.weight' (checkpoint key 'stages.1.0.dwconv.weight'): checkpoint has shape [16, 1, 3, 3], model expects [16, 1, 7, 7]") == true,
                "\(String(describing: error))")
        // The wrong number of classes is a mismatch of the head.
        let classes = #expect(throws: CheckpointError.self) { try build(miniPath, classes: 7) }
        guard case .incompatible(_, let report)? = classes else { Issue.record("\(String(describing: classes))"); return }
        #expect(report.shapeMismatches.map(\.name) == ["head.fc.weight", "head.fc.bias"])
        #expect(report.shapeMismatches.first?.found == [5, 64] && report.shapeMismatches.first?.expected == [7, 64])
    }

    @Test func missingKeyFailsStrictAndIsSeededOtherwise() throws {
        let directory = try TemporaryDirectory()
        let path = try editedCheckpoint(directory) { state in state["stages.2.blocks.0.gamma"] = nil }
        let error = #expect(throws: CheckpointError.self) { try build(path) }
        #expect(error?.description.contains("1 missing from the checkpoint: stages.2.blocks.0.gamma") == true, "\(String(describing: error))")

        let (model, report) = try build(path, strict: false)
        #expect(report.missing == ["stages.2.blocks.0.gamma"])
        #expect(report.initializedFromSeed == ["stages.2.blocks.0.gamma"])
        #expect(report.unexpected.isEmpty && report.loaded.count == 55)
        #expect(report.description.contains("1 initialised from the seed: stages.2.blocks.0.gamma"))
        #expect(try model.graph.initializers["stages.2.blocks.0.gamma"]?.floatValues() == [Float](repeating: 1e-6, count: 32))
        // The model still runs.
        let session = try Session(model: model, options: SessionOptions(threads: 1))
        let outputs = try session.run(["input": try Npy.read(path: Fixtures.checkpoint("mini_input.npy"))])
        #expect(outputs["logits"]?.shape == [1, 5])
    }

    @Test func unknownVariantIsAModelError() {
        let error = #expect(throws: ModelError.self) {
            try ConvNeXtImport.model(variant: "convnext_gigantic", weights: miniPath)
        }
        #expect(error == .unknownVariant("convnext_gigantic", known: ConvNeXtConfig.variants.map(\.variant)))
    }

    @Test func truncatedZipIsReportedNotRead() throws {
        let bytes = try Fixtures.bytes(miniPath)
        for length in [0, 10, 100, bytes.count / 2, bytes.count - 30, bytes.count - 1] {
            let message = try readError(Array(bytes.prefix(length)))
            #expect(!message.isEmpty, "length \(length)")
        }
        #expect(try readError(Array(bytes.prefix(bytes.count - 1))).contains("no zip end-of-central-directory record"))
    }

    @Test func randomBytesAreRejected() throws {
        var generator = SeededRandom(seed: 7)
        let random = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        _ = try readError(random, name: "random.bin")
        _ = try readError(Array("PK".utf8) + random, name: "random.pth")
        _ = try readError([], name: "empty.pth")
        #expect(try readError([0x80, 0x02, 0x8A, 0x0A] + random).contains("legacy torch.save format"))
    }

    @Test func zipWithoutDataPklIsNotACheckpoint() throws {
        let zip = ZipBuilder.build([.init(name: "model/constants.pkl", data: [0x80, 0x02, 0x4E, 0x2E]), .init(name: "model/code/x.py", data: [])])
        let message = try readError(zip)
        #expect(message.contains("no <archive>/data.pkl"))
        #expect(message.contains("TorchScript"))
    }

    @Test func deflatedEntryIsNamed() throws {
        var entries = try ZipBuilder.entries(of: try Fixtures.bytes(miniPath))
        let index = try #require(entries.firstIndex { $0.name.hasSuffix("data/3") })
        entries[index].method = 8
        #expect(try readError(ZipBuilder.build(entries)).contains("entry 'mini_timm/data/3' is DEFLATED"))
    }

    @Test func damagedArchivesAreNamed() throws {
        let entries = try ZipBuilder.entries(of: try Fixtures.bytes(miniPath))
        func rebuilt(_ change: (inout [ZipBuilder.Entry]) -> Void) -> [UInt8] {
            var copy = entries
            change(&copy)
            return ZipBuilder.build(copy)
        }
        // A storage entry gone or the wrong size.
        let missing = try readError(rebuilt { $0.removeAll { $0.name == "mini_timm/data/0" } })
        #expect(missing.contains("tensor 'stem.0.weight': storage '0' has no data/0 entry"), "\(missing)")
        let short = try readError(rebuilt { $0[$0.firstIndex { $0.name == "mini_timm/data/0" }!].data.removeLast(4) })
        #expect(short.contains("storage '0' declares 384 float32 elements but its entry holds 1532 bytes"), "\(short)")
        // Big-endian data, and a pickle whose bytes do not match the CRC the directory records.
        let big = try readError(rebuilt { $0[$0.firstIndex { $0.name.hasSuffix("byteorder") }!].data = Array("big".utf8) })
        #expect(big.contains("only little-endian"))
        var bytes = try Fixtures.bytes(miniPath)
        bytes[100] ^= 0x20  // inside data.pkl, which starts the archive
        #expect(try readError(bytes).contains("entry 'mini_timm/data.pkl' fails its CRC-32 check"))
    }

    @Test func checkpointsWithoutAStateDictAreExplained() throws {
        // {"epoch": 1}
        let epochOnly: [UInt8] = [0x80, 0x02, 0x7D, 0x58, 5, 0, 0, 0] + Array("epoch".utf8) + [0x4B, 1, 0x73, 0x2E]
        #expect(try readError(ZipBuilder.checkpoint(pickle: epochOnly)).contains("neither a state dict nor holds one under 'state_dict' or 'model'"))
        // {"model": {"w": 1}}
        let notTensor: [UInt8] = [0x80, 0x02, 0x7D, 0x58, 5, 0, 0, 0] + Array("model".utf8) + [0x7D, 0x58, 1, 0, 0, 0, 0x77, 0x4B, 1, 0x73, 0x73, 0x2E]
        #expect(try readError(ZipBuilder.checkpoint(pickle: notTensor)).contains("tensor 'w': checkpoint['model'] entry is a int, not a tensor"))
        // A list at the top.
        #expect(try readError(ZipBuilder.checkpoint(pickle: [0x80, 0x02, 0x5D, 0x2E])).contains("data.pkl holds a list"))
    }

    @Test func unsupportedOpcodeInAFileNamesFileAndOpcode() throws {
        var bytes = try Fixtures.bytes(miniPath)
        var entries = try ZipBuilder.entries(of: bytes)
        let pickle = entries.firstIndex { $0.name.hasSuffix("data.pkl") }!
        // Swap the first BINPUT (q) of the real pickle for NEWOBJ_EX.
        let position = try #require(entries[pickle].data.firstIndex(of: 0x71))
        entries[pickle].data[position] = 0x92
        bytes = ZipBuilder.build(entries)
        let message = try readError(bytes)
        #expect(message.contains("mini_timm/data.pkl, byte \(position): pickle opcode 0x92 (NEWOBJ_EX) is not supported"), "\(message)")
    }
}
