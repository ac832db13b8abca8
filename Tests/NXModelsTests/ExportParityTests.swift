import Foundation
import Testing
import NXFormat
import NXIR
import NXModels
import NXRuntime
import NXTestSupport

/// What `nx export` writes for the sizes users ship (ConvNeXt-T; HistoNeXt-T and -B, seeded
/// weights with perturbed layer scales so every block matters) is valid ONNX for the official
/// checker and computes in ONNX Runtime what our runtime computes, within 1e-4 relative.
/// Large and XLarge are checked by Benchmarks/check_exports.py (minutes, GBs of weights).
@Suite(.enabled(if: PythonTool.shouldRun, "no Python with onnx and onnxruntime: set NX_PYTHON or create .venv"))
struct ExportParityTests {
    /// timm's gamma of 1e-6 would hide every block's MLP: start the layer scales at 0.5.
    private struct VisibleBlocks: ParameterSource {
        var seeded = SeededParameters(seed: 7)
        mutating func parameter(_ name: String, shape: [Int], initializer: ParameterInit) throws -> Tensor {
            let adjusted = name.hasSuffix(".gamma") ? ParameterInit.constant(0.5) : initializer
            return try seeded.parameter(name, shape: shape, initializer: adjusted)
        }
    }

    private func seededInput(_ shape: [Int]) -> Tensor {
        var random = SeededRandom(seed: 11)
        return Tensor(shape: shape, scalars: (0..<elementCount(shape)).map { _ in Float.random(in: 0..<1, using: &random) })
    }

    private func check(_ model: Model, name: String, input: Tensor) throws {
        let scratch = try TemporaryDirectory()
        let path = scratch.file("\(name).onnx")
        try ONNXWriter.write(model, to: path)
        #expect(try PythonTool.run([PythonTool.converterScript("check_onnx_model.py"), path]).contains("ok"))
        try Npy.write(input, to: scratch.file("input.npy"))
        _ = try PythonTool.run([PythonTool.converterScript("run_onnxruntime.py"), path, "input=\(scratch.file("input.npy"))", "--out", scratch.path])
        let ours = try Session(model: model, options: SessionOptions(threads: 2)).run(["input": input])
        for output in model.graph.outputs {
            let reference = try Npy.read(path: scratch.file("\(output.name).npy")).floatValues()
            let got = try #require(ours[output.name]).floatValues()
            let scale = max(reference.map(abs).max() ?? 0, .leastNormalMagnitude)
            let difference = zip(got, reference).map { abs($0 - $1) }.max()! / scale
            #expect(difference < 1e-4, "\(name) \(output.name): relative difference \(difference)")
            #expect(Set(reference.prefix(1000)).count > 10, "\(name) \(output.name): a constant output would prove nothing")
        }
    }

    @Test func convNeXtTiny() throws {
        var parameters = VisibleBlocks()
        let model = try ConvNeXt.model(try ConvNeXtConfig.named("tiny"), parameters: &parameters)
        try check(model, name: "convnext_tiny", input: seededInput([1, 3, 224, 224]))
    }

    @Test(arguments: ["tiny", "base"])
    func histoNeXt(_ variant: String) throws {
        var parameters = VisibleBlocks()
        let model = try HistoNeXt.model(try HistoNeXtConfig.named(variant), parameters: &parameters)
        try check(model, name: "histonext_\(variant)", input: seededInput([1, 3, 270, 270]))
    }
}
