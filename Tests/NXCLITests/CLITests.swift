import Foundation
import Testing
import NXFormat
import NXIR

/// The `nx` binary as a user runs it: exit codes, one-line errors naming the culprit, and
/// the JSON keys scripts rely on. The binary is the one `swift build` put beside the tests.
@Suite struct CLITests {
    static let productsDirectory: URL = {
        // The test bundle lives in the products directory (…/debug/HistoNeXtPackageTests.xctest).
        var url = Bundle.main.bundleURL
        while url.pathExtension == "xctest" || url.lastPathComponent == "Contents" { url.deleteLastPathComponent() }
        return url
    }()

    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    struct Result {
        let status: Int32
        let output: String
        let errors: String
    }

    func nx(_ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = Self.productsDirectory.appendingPathComponent("nx")
        process.arguments = arguments
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nx-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("out"), err = folder.appendingPathComponent("err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: try String(contentsOf: out, encoding: .utf8), errors: try String(contentsOf: err, encoding: .utf8))
    }

    func scratch() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("nx-cli-files-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func inspectReportsCountsAsJSON() throws {
        let result = try nx(["inspect", "\(Self.repositoryRoot)/Tests/Fixtures/mini_convnext/mini_convnext.onnx", "--json"])
        #expect(result.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as! [String: Any]
        #expect(json["parameters"] as? Int == 270_298)
        #expect((json["macs"] as? Int ?? 0) > 0)
        #expect(json["macs_complete"] as? Bool == true)
    }

    @Test func validateExitCodesAndMessages() throws {
        let folder = try scratch()
        let good = "\(folder)/good.onnx"
        let b = GraphBuilder()
        b.output(b.relu(b.input("x", shape: [2])), name: "y")
        var model = b.model()
        try ONNXWriter.write(model, to: good)
        #expect(try nx(["validate", good]).status == 0)
        model.graph.nodes[0].inputs = ["missing"]
        let bad = "\(folder)/bad.onnx"
        try ONNXWriter.write(model, to: bad)
        let result = try nx(["validate", bad])
        #expect(result.status == 1)
        #expect(result.output.contains("input 'missing'"))
    }

    @Test func errorsAreOneLineWithStatusOne() throws {
        let unknown = try nx(["export", "convnext", "--variant", "gigantic", "-o", "/tmp/never.onnx"])
        #expect(unknown.status == 1)
        #expect(unknown.errors.contains("unknown variant 'gigantic'"))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/never.onnx"))
        let notModel = try nx(["inspect", "\(Self.repositoryRoot)/README.md"])
        #expect(notModel.status == 1 && notModel.errors.hasPrefix("nx: error: ") && notModel.errors.contains("README.md"))
        // `segment` checks its output folder before any work: the model named here does not
        // exist, and the error is still the folder's.
        let noParent = try nx(["segment", "\(Self.repositoryRoot)/Tests/Fixtures/he/sample.png", "--model", "/nonexistent/model.onnx",
            "--out", "/nonexistent/folder/out", "--quiet"])
        #expect(noParent.status == 1 && noParent.errors.contains("/nonexistent/folder/out") && noParent.errors.contains("parent directory"))
    }

    @Test func runWritesOutputsAndRejectsMissingInputs() throws {
        let folder = try scratch()
        let model = "\(Self.repositoryRoot)/Tests/Fixtures/mini_convnext/mini_convnext.onnx"
        let input = "\(Self.repositoryRoot)/Tests/Fixtures/mini_convnext/mini_convnext_input.npy"
        let ran = try nx(["run", model, "--input", "input=\(input)", "--output-dir", folder])
        #expect(ran.status == 0)
        let logits = try Npy.read(path: "\(folder)/logits.npy")
        let expected = try Npy.read(path: "\(Self.repositoryRoot)/Tests/Fixtures/mini_convnext/mini_convnext_ort_logits.npy")
        #expect(logits.shape == expected.shape)
        let missing = try nx(["run", model, "--output-dir", folder])
        #expect(missing.status == 1 && missing.errors.contains("input 'input': missing"))
    }

    /// `nx bench --input` times the given tensor (its shape shows in the JSON); a file that
    /// is not there is an error naming it.
    @Test func benchTimesAGivenInput() throws {
        let model = "\(Self.repositoryRoot)/Tests/Fixtures/mini_convnext/mini_convnext.onnx"
        let input = "\(Self.repositoryRoot)/Tests/Fixtures/mini_convnext/mini_convnext_input.npy"
        let shape = try Npy.read(path: input).shape
        let result = try nx(["bench", model, "--input", "input=\(input)", "--runs", "2", "--warmup", "1", "--json"])
        #expect(result.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as! [String: Any]
        #expect((json["inputs"] as? [String: [Int]])?["input"] == shape)
        #expect((json["samples_ms"] as? [Double])?.count == 2)
        let missing = try nx(["bench", model, "--input", "input=/nonexistent/x.npy"])
        #expect(missing.status == 1 && missing.errors.contains("/nonexistent/x.npy"))
    }

    @Test func evaluateScoresAndRefusesMismatchedSizes() throws {
        let folder = try scratch()
        func labels(_ name: String, _ width: Int, _ height: Int, _ fill: (Int, Int) -> Int32) throws -> String {
            var values: [Int32] = []
            for y in 0..<height { for x in 0..<width { values.append(fill(x, y)) } }
            let path = "\(folder)/\(name).npy"
            try Npy.write(Tensor(shape: [height, width], scalars: values), to: path)
            return path
        }
        let truth = try labels("truth", 20, 20) { x, y in (2..<8).contains(x) && (2..<8).contains(y) ? 1 : 0 }
        let same = try labels("same", 20, 20) { x, y in (2..<8).contains(x) && (2..<8).contains(y) ? 5 : 0 }
        let result = try nx(["evaluate", "--true", truth, "--pred", same, "--json"])
        #expect(result.status == 0)
        let report = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as! [String: Any]
        let mean = (report["segmentation"] as! [String: Any])["mean"] as! [String: Any]
        #expect(mean["dice"] as? Double == 1)
        #expect(mean["aji"] as? Double == 1)
        let small = try labels("small", 10, 20) { _, _ in 0 }
        let mismatch = try nx(["evaluate", "--true", truth, "--pred", small])
        #expect(mismatch.status == 1 && mismatch.errors.contains("20x20") && mismatch.errors.contains("10x20"))
    }
}
