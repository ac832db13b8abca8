import ArgumentParser
import Foundation
import NXFormat
import NXIR
import NXRuntime

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a model on .npy inputs and write each output as <output name>.npy.")

    @Argument(help: "An .onnx file.") var model: String
    @Option(name: .customLong("input"), help: "NAME=FILE.npy, once per model input.") var inputs: [String] = []
    @Option(help: "Folder for the outputs (created if needed).") var outputDir: String
    @Option(help: "Threads for kernels and OpenBLAS (default: all cores).") var threads: Int?
    @Flag(help: "Skip the optimizer passes.") var noOptimize = false

    func run() throws {
        try reportingErrors {
            let feeds = try npyFeeds(inputs)
            let session = try Session(
                model: try ONNXReader.read(path: model), options: SessionOptions(threads: threads, optimize: !noOptimize))
            let outputs = try session.run(feeds)
            try FileManager.default.createDirectory(atPath: outputDir, withIntermediateDirectories: true)
            for info in session.outputs {
                let path = (outputDir as NSString).appendingPathComponent(outputFileName(info.name))
                try Npy.write(outputs[info.name]!, to: path)
                print("\(info.name): \(outputs[info.name]!.dataType)\(outputs[info.name]!.shape) -> \(path)")
            }
        }
    }
}

/// Tensors from `--input NAME=FILE.npy` options, by input name.
func npyFeeds(_ items: [String]) throws -> [String: Tensor] {
    var feeds: [String: Tensor] = [:]
    for item in items {
        guard let equals = item.firstIndex(of: "=") else { throw ValidationError("--input takes NAME=FILE.npy, got '\(item)'") }
        let name = String(item[..<equals]), path = String(item[item.index(after: equals)...])
        feeds[name] = try Npy.read(path: path)
    }
    return feeds
}

/// Output names may contain "/" (PyTorch writes "/stem/Conv_output_0"); keep files flat.
func outputFileName(_ name: String) -> String {
    name.replacingOccurrences(of: "/", with: "_") + ".npy"
}
