import Foundation
import NXTestSupport
import Testing
import NXFormat
import NXIR
@testable import NXRuntime

/// Real PyTorch-exported models: our outputs against ONNX Runtime's on the same file,
/// within 1e-4 relative (max abs diff over max abs value), with and without the optimizer.
@Suite struct RealModelTests {
    private func check(model modelPath: String, inputName: String, input inputPath: String, expected expectedPath: String) throws {
        let model = try ONNXReader.read(path: modelPath)
        let input = try Npy.read(path: inputPath)
        let expected = try Npy.read(path: expectedPath).floatValues()
        var results: [[Float]] = []
        for optimize in [false, true] {
            let session = try Session(model: model, options: SessionOptions(threads: 2, optimize: optimize))
            let outputs = try session.run([inputName: input])
            let output = try #require(outputs[session.outputs[0].name])
            results.append(try output.floatValues())
            let difference = relativeDifference(results.last!, expected)
            #expect(difference < 1e-4, "\(modelPath) optimize=\(optimize): relative difference \(difference)")
        }
        // The passes together keep outputs within 1e-5 of the graph as written.
        let passes = relativeDifference(results[1], results[0])
        #expect(passes < 1e-5, "\(modelPath): optimized vs unoptimized relative difference \(passes)")
    }

    @Test func miniConvNeXtMatchesOnnxRuntime() throws {
        try check(
            model: Fixtures.path("mini_convnext/mini_convnext.onnx"), inputName: "input",
            input: Fixtures.path("mini_convnext/mini_convnext_input.npy"),
            expected: Fixtures.path("mini_convnext/mini_convnext_ort_logits.npy"))
    }

    @Test func optimizerFusesTheMiniConvNeXt() throws {
        let model = try ONNXReader.read(path: Fixtures.path("mini_convnext/mini_convnext.onnx"))
        let session = try Session(model: model, options: SessionOptions(threads: 1))
        let opTypes = Set(session.model.graph.nodes.map(\.opType))
        #expect(!opTypes.contains("Erf") && !opTypes.contains("Constant"), "\(opTypes.sorted())")
        // Linear + bias + exact GELU: one fused op carrying the activation; the
        // channels-last MLP between two Transposes runs as 1x1 convs in NCHW, layer scale
        // folded in.
        #expect(!opTypes.contains("MatMul") && !opTypes.contains("Gelu"))
        #expect(!opTypes.contains("Transpose") && !opTypes.contains("Mul"), "\(opTypes.sorted())")
        #expect(session.model.graph.nodes.contains { $0.opType == "FusedConv" && $0.attributes["activation"] == .string("Gelu") })
    }

    /// Models made by Converters/python/make_runtime_fixtures.py (not committed).
    @Test(.enabled(if: Fixtures.exists("generated/runtime/manifest.json"),
                   "generated fixtures absent: run Converters/python/make_runtime_fixtures.py"))
    func generatedModelsMatchOnnxRuntime() throws {
        let manifestPath = Fixtures.path("generated/runtime/manifest.json")
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: manifestPath)))
        let entries = try #require(manifest as? [[String: Any]] ?? (manifest as? [String: Any])?["models"] as? [[String: Any]])
        #expect(!entries.isEmpty)
        let folder = Fixtures.path("generated/runtime")
        for entry in entries {
            func file(_ key: String) -> String {
                let name = entry[key] as? String ?? ""
                return name.hasPrefix("/") ? name : "\(folder)/\(name)"
            }
            try check(model: file("model"), inputName: entry["input_name"] as? String ?? "input", input: file("input"), expected: file("ort_output"))
        }
    }
}
