import Foundation
import Testing
import NXFormat
import NXIR
import NXRuntime

/// Runs every listed ONNX backend node test through our runtime, each reported on its own,
/// compared as ONNX's runner does (rtol 1e-3, atol 1e-7; integers and booleans exactly).
@Suite(.enabled(if: NodeTestSuite.shouldRun, "ONNX node tests absent: create .venv with onnx==1.22.0"))
struct NodeConformanceTests {
    @Test(arguments: NodeTestSuite.runnable)
    func nodeTest(_ name: String) throws {
        let testCase = try NodeTestSuite.load(name)
        for optimize in [false, true] {
            let session = try Session(model: testCase.model, options: SessionOptions(threads: 2, optimize: optimize))
            for (setIndex, dataSet) in testCase.dataSets.enumerated() {
                let outputs = try session.run(Dictionary(uniqueKeysWithValues: dataSet.inputs))
                for (outputName, expected) in dataSet.outputs {
                    let got = try #require(outputs[outputName], "output \(outputName) missing")
                    if let mismatch = Comparison.mismatch(got, expected, rtol: 1e-3, atol: 1e-7) {
                        Issue.record("\(name) set \(setIndex) output \(outputName) (optimize \(optimize)): \(mismatch)")
                    }
                }
            }
        }
    }

    /// The list names every case of the suite whose ops we implement, and nothing else.
    @Test func listCoversEveryCaseOfOurOperators() throws {
        let directory = try #require(NodeTestSuite.directory, "ONNX node tests not found")
        let listed = Set(NodeTestSuite.entries.map(\.name))
        let ours = Set(OperatorRegistry.standard.operators.filter { $0.domain.isEmpty }.map(\.opType))
        var missing: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() {
            guard let model = try? ONNXReader.read(path: "\(directory)/\(name)/model.onnx") else { continue }
            let opTypes = Set(model.graph.nodes.map(\.opType))
            if !opTypes.isEmpty, opTypes.isSubset(of: ours), !listed.contains(name) { missing.append(name) }
        }
        #expect(missing.isEmpty, "cases of our operators missing from cases.txt: \(missing.joined(separator: " "))")
        for entry in NodeTestSuite.entries {
            #expect(FileManager.default.fileExists(atPath: "\(directory)/\(entry.name)/model.onnx"), "listed case \(entry.name) does not exist")
        }
    }
}

/// Tensor comparison with numpy's `assert_allclose` rule: |got - expected| <= atol + rtol * |expected|.
enum Comparison {
    static func mismatch(_ got: Tensor, _ expected: Tensor, rtol: Double, atol: Double) -> String? {
        if got.dataType != expected.dataType { return "type \(got.dataType), expected \(expected.dataType)" }
        if got.shape != expected.shape { return "shape \(got.shape), expected \(expected.shape)" }
        if expected.dataType.isFloatingPoint {
            guard let a = try? got.floatValues(), let b = try? expected.floatValues() else { return "unreadable values" }
            var worst: (index: Int, got: Float, expected: Float)?
            var bad = 0
            for index in a.indices {
                let (x, y) = (Double(a[index]), Double(b[index]))
                if x.isNaN && y.isNaN { continue }
                if x == y { continue }
                if x.isNaN || y.isNaN || abs(x - y) > atol + rtol * abs(y) {
                    bad += 1
                    if worst == nil { worst = (index, a[index], b[index]) }
                }
            }
            if let worst { return "\(bad) of \(a.count) elements differ; first at \(worst.index): \(worst.got) vs \(worst.expected)" }
            return nil
        }
        return got == expected ? nil : "values differ"
    }
}
