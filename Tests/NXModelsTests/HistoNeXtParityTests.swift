import Foundation
import NXFormat
import NXIR
import NXModels
import NXRuntime
import NXTestSupport
import Testing

/// The Swift HistoNeXt graph, loaded with the reference's own state dict, computes what the
/// PyTorch reference computes: np, hv and tp within 1e-4 relative (max |diff| / max |ref|), in
/// our runtime with and without the optimizer, and in ONNX Runtime after an ONNXWriter export.
///
/// Fixtures: Converters/python/make_histonext_fixtures.py (torch.manual_seed(0), weights
/// perturbed by fixture_utils.perturb_for_fixtures, pixels from numpy default_rng(0)).
/// micro is committed (Tests/Fixtures/histonext_micro); mini (7 MB of weights) is generated on
/// demand into Tests/Fixtures/generated/histonext_mini (atto, the CPU deployment variant, into
/// generated/histonext_atto) and its test is skipped without it.
@Suite struct HistoNeXtParityTests {
    static let tolerance: Float = 1e-4

    /// Builds `variant` from the fixture's weights, checking that the state dict and the
    /// graph's parameters are the same set of names.
    private func model(_ variant: HistoNeXtConfig, folder: String) throws -> Model {
        var parameters = try CheckpointParameters(path: Fixtures.path("\(folder)/weights.safetensors"))
        let model = try HistoNeXt.model(variant, numTypes: 6, parameters: &parameters)
        #expect(model.validate().isEmpty, "\(model.validate().prefix(3))")
        let stored = Set(parameters.checkpoint.tensors.keys)
        #expect(parameters.used.count == Set(parameters.used).count, "a key was asked for twice")
        #expect(Set(parameters.used) == stored, "unused: \(stored.subtracting(parameters.used).sorted().prefix(5))")
        // Each key is an initializer of the same name; the rest are the builder's constants.
        let initializers = Set(model.graph.initializers.keys)
        #expect(stored.isSubset(of: initializers))
        #expect(initializers.subtracting(stored).allSatisfy { $0.contains("/const") })
        return model
    }

    private func expected(_ folder: String) throws -> [String: [Float]] {
        var outputs: [String: [Float]] = [:]
        for name in HistoNeXt.outputNames {
            outputs[name] = try Npy.read(path: Fixtures.path("\(folder)/\(name).npy")).floatValues()
        }
        return outputs
    }

    private func checkRuntime(_ variant: HistoNeXtConfig, folder: String) throws {
        let model = try model(variant, folder: folder)
        let input = try Fixtures.histoNeXtInput(folder)
        let reference = try expected(folder)
        for optimize in [false, true] {
            let session = try Session(model: model, options: SessionOptions(threads: 2, optimize: optimize))
            let outputs = try session.run(["input": input])
            #expect(session.outputs.map(\.name) == HistoNeXt.outputNames)
            for name in HistoNeXt.outputNames {
                let output = try #require(outputs[name], "\(name) missing")
                #expect(output.shape == [1, name == "tp" ? 6 : 2, 80, 80])
                let difference = relativeDifference(try output.floatValues(), try #require(reference[name]))
                #expect(difference < Self.tolerance, "\(variant.variant) \(name) optimize=\(optimize): relative difference \(difference)")
            }
        }
    }

    @Test func microMatchesTheReference() throws {
        try checkRuntime(.micro, folder: "histonext_micro")
    }

    @Test(.enabled(
        if: Fixtures.exists("generated/histonext_mini/weights.safetensors"),
        "generated fixture absent: run Converters/python/make_histonext_fixtures.py --variant mini"))
    func miniMatchesTheReference() throws {
        try checkRuntime(.mini, folder: "generated/histonext_mini")
    }

    @Test(.enabled(
        if: Fixtures.exists("generated/histonext_atto/weights.safetensors"),
        "generated fixture absent: run Converters/python/make_histonext_fixtures.py --variant atto"))
    func attoMatchesTheReference() throws {
        try checkRuntime(.atto, folder: "generated/histonext_atto")
    }

    /// The exported file is valid ONNX (the official checker with full_check, i.e. strict shape
    /// inference) and ONNX Runtime computes the reference's outputs from it.
    @Test(.enabled(if: PythonTool.shouldRun, "no Python with onnx and onnxruntime: set NX_PYTHON or create .venv"))
    func microExportRunsInOnnxRuntime() throws {
        let folder = "histonext_micro"
        let model = try model(.micro, folder: folder)
        let scratch = try TemporaryDirectory()
        let path = scratch.file("histonext_micro.onnx")
        try ONNXWriter.write(model, to: path)
        #expect(try PythonTool.run([PythonTool.converterScript("check_onnx_model.py"), path]).contains("ok"))

        try Npy.write(try Fixtures.histoNeXtInput(folder), to: scratch.file("input.npy"))
        _ = try PythonTool.run([
            PythonTool.converterScript("run_onnxruntime.py"), path, "input=\(scratch.file("input.npy"))", "--out", scratch.file("ort"),
        ])
        let reference = try expected(folder)
        for name in HistoNeXt.outputNames {
            let output = try Npy.read(path: scratch.file("ort/\(name).npy"))
            let difference = relativeDifference(try output.floatValues(), try #require(reference[name]))
            #expect(difference < Self.tolerance, "onnxruntime \(name): relative difference \(difference)")
        }
    }

    /// Our static shapes agree with the official ONNX shape inference on every value.
    @Test(.enabled(if: PythonTool.shouldRun, "no Python with onnx: set NX_PYTHON or create .venv"))
    func shapesAgreeWithOnnxShapeInference() throws {
        var parameters = ShapeOnlyParameters()
        let model = try HistoNeXt.model(.micro, parameters: &parameters)
        let scratch = try TemporaryDirectory()
        let path = scratch.file("micro.onnx")
        try ONNXWriter.write(model, to: path)
        let script = """
            import json, sys, onnx
            m = onnx.shape_inference.infer_shapes(onnx.load(sys.argv[1]), strict_mode=True)
            print(json.dumps({v.name: [d.dim_value if d.HasField("dim_value") else d.dim_param
                              for d in v.type.tensor_type.shape.dim]
                              for v in list(m.graph.value_info) + list(m.graph.output)}))
            """
        let onnxShapes = try #require(try PythonTool.json(try PythonTool.run(script: script, arguments: [path])) as? [String: [Any]])
        let ours = try model.graph.inferShapes(inputs: ["input": [1, 3, 270, 270]])
        #expect(ours.isComplete)
        var compared = 0
        for node in model.graph.nodes {
            for output in node.outputs {
                let theirs = try #require(onnxShapes[output], "onnx inferred no shape for \(output)")
                // ONNX keeps the symbolic batch; ours is 1.
                let dims = theirs.enumerated().map { $0.element as? Int ?? ($0.offset == 0 ? 1 : -1) }
                #expect(ours[output] == dims, "\(node.label) \(output): ours \(ours[output] ?? []), onnx \(theirs)")
                compared += 1
            }
        }
        #expect(compared == model.graph.nodes.count)
    }
}
