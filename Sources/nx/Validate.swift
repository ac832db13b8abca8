import ArgumentParser
import NXFormat
import NXIR

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a model; print each problem on its own line (exit 1), or 'valid' (exit 0).")

    @Argument(help: "An .onnx file.")
    var model: String

    func run() throws {
        try reportingErrors {
            let loaded = try ONNXReader.read(path: model)
            let issues = loaded.validate()
            guard !issues.isEmpty else {
                print("\(model): valid (\(loaded.graph.nodes.count) nodes, \(loaded.graph.initializers.count) initializers)")
                return
            }
            for issue in issues { print("\(model): \(issue.message)") }
            throw ExitCode.failure
        }
    }
}
