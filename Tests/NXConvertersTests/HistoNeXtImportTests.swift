import Foundation
import NXFormat
import NXIR
import NXModels
import NXRuntime
import NXTestSupport
import Testing

@testable import NXConverters

/// The path a PyTorch user takes: train the reference (Converters/python/histonext_reference.py),
/// `torch.save(model.state_dict())`, then `nx export histonext --weights trained.pth`. The .pth
/// imported through `HistoNeXtImport` (strict) must load every tensor, ignore only BatchNorm's
/// num_batches_tracked, and the graph must reproduce the reference's np/hv/tp within 1e-4
/// relative in our runtime, optimizer on and off. And a ConvNeXt classification checkpoint
/// must load as HistoNeXt's encoder with its head reported unused.
///
/// Fixtures: Converters/python/make_histonext_fixtures.py (micro committed under
/// Tests/Fixtures/histonext_micro; `--variant tiny` writes Tests/Fixtures/generated/histonext_tiny,
/// ~650 MB, and `--variant atto` generated/histonext_atto, 30 MB, whose tests are skipped without them) and make_checkpoint_fixtures.py (the mini ConvNeXt
/// checkpoints, whose encoder is exactly HistoNeXt micro's: depths 1,1,1,1, dims 8,16,32,64).
@Suite struct HistoNeXtImportTests {
    static let tolerance: Float = 1e-4

    static func fixture(_ relative: String) -> String { Fixtures.path(relative) }

    /// The network input of a fixture folder: its uint8 pixels / 255 in float32, exactly as
    /// make_histonext_fixtures.py computes it for the reference.
    static func input(_ folder: String) throws -> Tensor {
        let pixels = try Npy.read(path: fixture("\(folder)/input_pixels.npy"))
        return Tensor(shape: pixels.shape, scalars: try pixels.scalars(as: UInt8.self).map { Float($0) / 255 })
    }

    /// Imports `folder`/weights.pth strictly and checks the report accounts for every entry of
    /// the file: each float tensor loaded once, only the BatchNorm step counters left out.
    private func importWholeModel(_ config: HistoNeXtConfig, folder: String) throws -> Model {
        let path = Self.fixture("\(folder)/weights.pth")
        let (model, report) = try HistoNeXtImport.model(config: config, numTypes: 6, weights: path, strict: true)
        #expect(report.isExact, "\(report)")
        #expect(report.initializedFromSeed.isEmpty, "seeded: \(report.initializedFromSeed.prefix(5))")

        let stored = try Checkpoint.read(path: path)
        let counters = stored.keys.filter { $0.hasSuffix(".num_batches_tracked") }
        // torch.save keeps the counters; a fixture without them would not test ignoring them.
        #expect(!counters.isEmpty)
        #expect(Set(report.loaded) == Set(stored.keys).subtracting(counters))
        #expect(report.loaded.count == Set(report.loaded).count, "a parameter was loaded twice")
        // The encoder's MLP weights are timm Linears [out, in], served as 1x1 convs, except in
        // timm's atto..nano (conv_mlp), which store them as 1x1 convs already.
        let linears = stored.filter { $0.key.contains(".mlp.fc") && $0.key.hasSuffix(".weight") && $0.value.shape.count == 2 }
        let blocks = config.encoder.depths.reduce(0, +)
        #expect(linears.isEmpty || linears.count == 2 * blocks)
        #expect(Set(report.reshaped) == Set(linears.keys))
        #expect(model.validate().isEmpty, "\(model.validate().prefix(3))")
        return model
    }

    private func checkAgainstReference(_ config: HistoNeXtConfig, folder: String) throws {
        let model = try importWholeModel(config, folder: folder)
        let input = try Self.input(folder)
        for optimize in [false, true] {
            let session = try Session(model: model, options: SessionOptions(threads: 2, optimize: optimize))
            let outputs = try session.run(["input": input])
            #expect(session.outputs.map(\.name) == HistoNeXt.outputNames)
            for name in HistoNeXt.outputNames {
                let expected = try Npy.read(path: Self.fixture("\(folder)/\(name).npy"))
                let output = try #require(outputs[name], "\(name) missing")
                #expect(output.shape == expected.shape)
                let difference = relativeDifference(try output.floatValues(), try expected.floatValues())
                #expect(difference <= Self.tolerance, "\(config.variant) \(name) optimize=\(optimize): relative difference \(difference)")
            }
        }
    }

    @Test func microPthMatchesTheReference() throws {
        try checkAgainstReference(.micro, folder: "histonext_micro")
    }

    @Test(.enabled(
        if: Fixtures.fileExists(fixture("generated/histonext_tiny/weights.pth")),
        "generated fixture absent: run Converters/python/make_histonext_fixtures.py --variant tiny"))
    func tinyPthMatchesTheReference() throws {
        try checkAgainstReference(.tiny, folder: "generated/histonext_tiny")
    }

    /// The CPU deployment variant, through the same path `nx export --variant atto --weights`
    /// takes: the reference's torch.save state dict, imported exactly (no key left over).
    @Test(.enabled(
        if: Fixtures.fileExists(fixture("generated/histonext_atto/weights.pth")),
        "generated fixture absent: run Converters/python/make_histonext_fixtures.py --variant atto"))
    func attoPthMatchesTheReference() throws {
        try checkAgainstReference(.atto, folder: "generated/histonext_atto")
    }

    /// The .pth (read by our zip + pickle reader) and the safetensors file the fixture script
    /// wrote from the same state dict give bit-identical graphs.
    @Test func pthAndSafeTensorsGiveTheSameWeights() throws {
        let (fromPth, _) = try HistoNeXtImport.model(config: .micro, weights: Self.fixture("histonext_micro/weights.pth"))
        let (fromSafeTensors, _) = try HistoNeXtImport.model(
            config: .micro, weights: Self.fixture("histonext_micro/weights.safetensors"))
        let pth = fromPth.graph.initializers, safeTensors = fromSafeTensors.graph.initializers
        #expect(pth.keys.sorted() == safeTensors.keys.sorted())
        for (name, tensor) in pth {
            #expect(try tensor.floatValues() == (try #require(safeTensors[name])).floatValues(), "\(name)")
        }
    }

    /// A whole model saved for another variant is refused, naming the mis-shaped tensors,
    /// even when missing entries would be accepted.
    @Test func wholeModelOfAnotherVariantIsRejected() throws {
        let path = Self.fixture("histonext_micro/weights.pth")
        let error = #expect(throws: CheckpointError.self) {
            try HistoNeXtImport.model(config: .mini, weights: path, strict: false)
        }
        guard case .incompatible(let file, let report)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(file == path)
        #expect(report.shapeMismatches.contains {
            $0.name == "encoder.stem.0.weight" && $0.found == [8, 3, 4, 4] && $0.expected == [16, 3, 4, 4]
        })
    }

    struct EncoderCase: CustomTestStringConvertible, Sendable {
        let file: String
        /// The classifier head's keys as the file names them (timm or facebookresearch).
        let head: [String]
        var testDescription: String { file }
    }

    static let timmHead = ["head.fc.bias", "head.fc.weight", "head.norm.bias", "head.norm.weight"]
    static let facebookHead = ["head.bias", "head.weight", "norm.bias", "norm.weight"]
    static let encoderCases: [EncoderCase] = [
        EncoderCase(file: "mini_timm.pth", head: timmHead),
        EncoderCase(file: "mini_timm_convmlp.safetensors", head: timmHead),
        EncoderCase(file: "mini_fb_fp16.pth", head: facebookHead),
        EncoderCase(file: "mini_fb_bf16.safetensors", head: facebookHead),
    ]

    /// The mini ConvNeXt classification checkpoints fill HistoNeXt micro's encoder (same depths
    /// and dims) in non-strict mode: every encoder parameter comes from the file with the file's
    /// values, the head is reported unused, the decoders are seeded, and the graph runs.
    @Test(arguments: encoderCases) func convNeXtCheckpointLoadsAsTheEncoder(_ testCase: EncoderCase) throws {
        #expect(HistoNeXtConfig.micro.encoder.depths == Fixtures.miniConfig.depths)
        #expect(HistoNeXtConfig.micro.encoder.dims == Fixtures.miniConfig.dims)
        let path = Fixtures.checkpoint(testCase.file)
        let (model, report) = try HistoNeXtImport.model(config: .micro, encoderWeights: path, strict: false)
        #expect(report.unexpected == testCase.head, "\(report)")
        #expect(report.missing.isEmpty && report.shapeMismatches.isEmpty, "\(report)")

        // Every encoder parameter loaded, every other one seeded; together, all of them.
        let checkpoint = try ConvNeXtImport.loadWithKeys(path: path).state
        #expect(Set(report.loaded) == Set(checkpoint.keys.filter { !$0.hasPrefix("head.") }.map { "encoder." + $0 }))
        #expect(!report.initializedFromSeed.isEmpty)
        #expect(report.initializedFromSeed.allSatisfy { $0.hasPrefix("decoder.") || $0.hasPrefix("tp.") })
        let parameters = Set(model.graph.initializers.keys.filter { !$0.contains("/const") })
        #expect(Set(report.loaded + report.initializedFromSeed) == parameters)

        // The values in the graph are the file's (reshaped Linears included).
        for name in report.loaded {
            let stored = try #require(checkpoint[String(name.dropFirst("encoder.".count))], "\(name)")
            let served = try #require(model.graph.initializers[name], "\(name) not an initializer")
            #expect(served.elementCount == stored.elementCount)
            #expect(try served.floatValues() == stored.floatValues(), "\(name)")
        }

        let session = try Session(model: model, options: SessionOptions(threads: 2))
        let outputs = try session.run(["input": try Self.input("histonext_micro")])
        for name in HistoNeXt.outputNames {
            let output = try #require(outputs[name], "\(name) missing")
            #expect(output.shape == [1, name == "tp" ? 6 : 2, 80, 80])
            #expect(try output.floatValues().allSatisfy(\.isFinite), "\(name) has non-finite values")
        }
    }

    /// An encoder checkpoint of the wrong width is an error in either mode: the shapes say it
    /// belongs to another configuration, not that a part needs re-initialising.
    @Test func convNeXtCheckpointOfAnotherWidthIsRejected() throws {
        let path = Fixtures.checkpoint("mini_timm.pth")
        let error = #expect(throws: CheckpointError.self) {
            try HistoNeXtImport.model(config: .mini, encoderWeights: path, strict: false)
        }
        guard case .incompatible(_, let report)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(report.shapeMismatches.contains { $0.name == "encoder.stem.0.weight" && $0.checkpointKey == "stem.0.weight" })
    }
}
