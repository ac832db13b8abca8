import Foundation
import NXFormat
import NXIR
import NXModels
import NXRuntime
import NXTestSupport
import Testing

@testable import NXConverters

/// Each committed checkpoint form, imported into our ConvNeXt graph and run by our runtime
/// (optimizer on and off), reproduces timm's logits within 1e-4 relative. The float16 and
/// bfloat16 files are compared with timm run on the same rounded weights, so the tolerance
/// is the same: the importer widens them exactly.
@Suite struct ConvNeXtImportTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let file: String
        let naming: ConvNeXtImport.Naming
        let logits: String
        /// Parameters served through a Linear -> 1x1 conv reshape (the eight MLP weights).
        let reshaped: Int
        var testDescription: String { file }
    }

    static let cases: [Case] = [
        Case(file: "mini_timm.pth", naming: .timm, logits: "mini_logits.npy", reshaped: 8),
        Case(file: "mini_timm_convmlp.safetensors", naming: .timm, logits: "mini_logits.npy", reshaped: 0),
        Case(file: "mini_fb_fp16.pth", naming: .facebook, logits: "mini_fp16_logits.npy", reshaped: 8),
        Case(file: "mini_fb_bf16.safetensors", naming: .facebook, logits: "mini_bf16_logits.npy", reshaped: 8),
    ]

    @Test(arguments: cases) func reproducesTimmLogits(_ testCase: Case) throws {
        let path = Fixtures.checkpoint(testCase.file)
        #expect(try ConvNeXtImport.load(path: path).naming == testCase.naming)
        let (model, report) = try ConvNeXtImport.model(
            config: Fixtures.miniConfig, head: .classifier(numClasses: Fixtures.miniClasses), weights: path,
            inputSize: Fixtures.miniInputSize)
        #expect(report.isExact, "\(report)")
        #expect(report.loaded.count == 56 && report.initializedFromSeed.isEmpty)
        #expect(report.reshaped.count == testCase.reshaped, "\(report.reshaped)")

        let input = try Npy.read(path: Fixtures.checkpoint("mini_input.npy"))
        let expected = try Npy.read(path: Fixtures.checkpoint(testCase.logits)).floatValues()
        for optimize in [false, true] {
            let session = try Session(model: model, options: SessionOptions(threads: 2, optimize: optimize))
            let logits = try #require(try session.run(["input": input])["logits"])
            #expect(logits.shape == [1, Fixtures.miniClasses])
            let difference = relativeDifference(try logits.floatValues(), expected)
            #expect(difference < 1e-4, "\(testCase.file) optimize=\(optimize): relative difference \(difference)")
        }
    }

    /// The half-precision references really differ from the float32 one, so the comparisons
    /// above would catch an importer that read the wrong file or skipped the rounding.
    @Test func roundedReferencesDifferFromFloat32() throws {
        let float32 = try Npy.read(path: Fixtures.checkpoint("mini_logits.npy")).floatValues()
        for name in ["mini_fp16_logits.npy", "mini_bf16_logits.npy"] {
            let rounded = try Npy.read(path: Fixtures.checkpoint(name)).floatValues()
            #expect(relativeDifference(rounded, float32) > 1e-4, "\(name)")
        }
    }

    @Test(arguments: ["mini_timm.pth", "mini_timm_convmlp.safetensors"])
    func featuresMatchTimmStageOutputs(_ file: String) throws {
        let (model, report) = try ConvNeXtImport.model(
            config: Fixtures.miniConfig, head: .features, weights: Fixtures.checkpoint(file), strict: false,
            inputSize: Fixtures.miniInputSize)
        // A classification checkpoint into an encoder: the head's entries are left unused.
        #expect(report.missing.isEmpty && report.initializedFromSeed.isEmpty)
        #expect(report.unexpected == ["head.fc.bias", "head.fc.weight", "head.norm.bias", "head.norm.weight"])

        let input = try Npy.read(path: Fixtures.checkpoint("mini_input.npy"))
        for optimize in [false, true] {
            let session = try Session(model: model, options: SessionOptions(threads: 2, optimize: optimize))
            let outputs = try session.run(["input": input])
            for index in 0..<4 {
                let expected = try Npy.read(path: Fixtures.checkpoint("mini_feature\(index).npy"))
                let feature = try #require(outputs["feature\(index)"])
                #expect(feature.shape == expected.shape)
                let difference = relativeDifference(try feature.floatValues(), try expected.floatValues())
                #expect(difference < 1e-4, "\(file) feature\(index) optimize=\(optimize): \(difference)")
            }
        }
    }

    @Test func strictRejectsAnEncoderLoadWithUnusedHead() throws {
        let error = #expect(throws: CheckpointError.self) {
            try ConvNeXtImport.model(
                config: Fixtures.miniConfig, head: .features, weights: Fixtures.checkpoint("mini_timm.pth"), inputSize: Fixtures.miniInputSize)
        }
        guard case .incompatible(_, let report)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(report.unexpected == ["head.fc.bias", "head.fc.weight", "head.norm.bias", "head.norm.weight"])
        #expect(error?.description.contains("4 unexpected (unused) in the checkpoint: head.fc.bias") == true)
    }

    @Test func prefixServesAnEncoderInsideALargerModel() throws {
        // HistoNeXt's encoder asks for "encoder." + timm names; other parameters are outside
        // the checkpoint and seeded.
        let state = try ConvNeXtImport.load(path: Fixtures.checkpoint("mini_timm.pth")).state
        var parameters = CheckpointParameters(tensors: state, source: "mini_timm.pth", prefix: "encoder.", strict: false)
        let stem = try parameters.parameter("encoder.stem.0.weight", shape: [8, 3, 4, 4], initializer: .zeros)
        #expect(stem == state["stem.0.weight"])
        let fc1 = try parameters.parameter("encoder.stages.0.blocks.0.mlp.fc1.weight", shape: [32, 8, 1, 1], initializer: .zeros)
        #expect(fc1.shape == [32, 8, 1, 1])
        #expect(try fc1.scalars(as: Float.self) == state["stages.0.blocks.0.mlp.fc1.weight"]!.scalars(as: Float.self))
        let decoder = try parameters.parameter("decoder.conv.weight", shape: [2, 2], initializer: .ones)
        #expect(try decoder.scalars(as: Float.self) == [1, 1, 1, 1])
        let report = try parameters.finish()
        #expect(report.loaded == ["encoder.stem.0.weight", "encoder.stages.0.blocks.0.mlp.fc1.weight"])
        #expect(report.reshaped == ["encoder.stages.0.blocks.0.mlp.fc1.weight"])
        #expect(report.initializedFromSeed == ["decoder.conv.weight"])
        #expect(report.missing.isEmpty && report.unexpected.count == 54)
    }

    @Test func namingIsDetectedAndMapped() throws {
        typealias Naming = ConvNeXtImport.Naming
        #expect(try Naming.detect(["stem.0.weight", "stages.0.blocks.0.gamma"], source: "a") == .timm)
        #expect(try Naming.detect(["downsample_layers.0.0.weight", "stages.0.0.gamma", "norm.weight"], source: "a") == .facebook)
        let mixed = #expect(throws: CheckpointError.self) { try Naming.detect(["stem.0.weight", "stages.0.0.dwconv.weight"], source: "m.pth") }
        #expect(mixed?.description.contains("mixes timm names") == true)
        let neither = #expect(throws: CheckpointError.self) { try Naming.detect(["conv1.weight", "fc.bias"], source: "r.pth") }
        #expect(neither?.description.contains("r.pth: not a ConvNeXt checkpoint") == true)

        let mapping = [
            "downsample_layers.0.0.weight": "stem.0.weight", "downsample_layers.0.1.bias": "stem.1.bias",
            "downsample_layers.2.0.weight": "stages.2.downsample.0.weight", "downsample_layers.3.1.bias": "stages.3.downsample.1.bias",
            "stages.1.4.dwconv.weight": "stages.1.blocks.4.conv_dw.weight", "stages.0.0.norm.bias": "stages.0.blocks.0.norm.bias",
            "stages.2.10.pwconv1.weight": "stages.2.blocks.10.mlp.fc1.weight", "stages.3.2.pwconv2.bias": "stages.3.blocks.2.mlp.fc2.bias",
            "stages.3.2.gamma": "stages.3.blocks.2.gamma", "norm.weight": "head.norm.weight", "head.bias": "head.fc.bias",
            "something.else": "something.else",
        ]
        for (facebook, timm) in mapping { #expect(Naming.facebook.timmName(facebook) == timm, "\(facebook)") }
        #expect(Naming.timm.timmName("downsample_layers.0.0.weight") == "downsample_layers.0.0.weight")
    }
}
