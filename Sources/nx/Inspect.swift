import ArgumentParser
import Foundation
import NXFormat
import NXIR

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Summarize an .onnx model or a .safetensors checkpoint.")

    @Argument(help: "An .onnx or .safetensors file.")
    var file: String

    @Flag(help: "Print machine-readable JSON (raw counts under plain keys).")
    var json = false

    func run() throws {
        try reportingErrors {
            if file.hasSuffix(".safetensors") {
                try inspectSafeTensors()
            } else {
                try inspectModel()
            }
        }
    }

    private func inspectModel() throws {
        let model = try ONNXReader.read(path: file)
        let graph = model.graph
        let opsets = model.opsetImports.map { ["domain": $0.domain.isEmpty ? "ai.onnx" : $0.domain, "version": $0.version] as [String: Any] }
        func describe(_ info: ValueInfo) -> [String: Any] {
            [
                "name": info.name, "dtype": info.elementType?.description ?? "unknown",
                "shape": info.shape.map { $0.dimensions.map { $0.value.map { $0 as Any } ?? $0.description } } ?? NSNull(),
            ]
        }
        let histogram = graph.opTypeHistogram
        let macs = Result { try graph.multiplyAccumulates() }
        if json {
            try printJSON([
                "file": file, "ir_version": model.irVersion, "opsets": opsets,
                "producer": model.producerName, "producer_version": model.producerVersion,
                "inputs": graph.runtimeInputs.map(describe), "outputs": graph.outputs.map(describe),
                "nodes": graph.nodes.count,
                "op_types": Dictionary(uniqueKeysWithValues: histogram.map { ($0.opType, $0.count) }),
                "parameters": graph.parameterCount, "parameter_bytes": graph.parameterBytes,
                "initializers": graph.initializers.count, "metadata": model.metadata,
                "macs": (try? macs.get().total) ?? NSNull(), "macs_complete": (try? macs.get().isComplete) ?? false,
                "macs_uncounted": (try? macs.get().uncounted.map(\.description)) ?? [],
            ])
            return
        }
        print("\(file)")
        print("  IR version \(model.irVersion), opsets: " + model.opsetImports.map { "\($0.domain.isEmpty ? "ai.onnx" : $0.domain) \($0.version)" }.joined(separator: ", "))
        if !model.producerName.isEmpty { print("  producer: \(model.producerName) \(model.producerVersion)") }
        print("  inputs:")
        for input in graph.runtimeInputs { print("    \(input)") }
        print("  outputs:")
        for output in graph.outputs { print("    \(output)") }
        print("  nodes: \(graph.nodes.count)")
        for (opType, count) in histogram { print("    \(opType.padding(toLength: 28, withPad: " ", startingAt: 0)) \(count)") }
        print("  parameters: \(formatCount(graph.parameterCount)) (\(graph.parameterCount)) in \(graph.initializers.count) initializers, \(formatBytes(graph.parameterBytes))")
        switch macs {
        case .success(let count):
            print("  multiply-accumulates (batch 1): \(formatCount(count.total)) (\(count.total))"
                + (count.isComplete ? "" : ", incomplete: \(count.uncounted.count) node(s) not counted"))
            for node in count.uncounted.prefix(5) { print("    not counted: \(node)") }
        case .failure(let error):
            print("  multiply-accumulates: unavailable (\(error))")
        }
        if !model.metadata.isEmpty {
            print("  metadata:")
            for key in model.metadata.keys.sorted() { print("    \(key): \(model.metadata[key]!)") }
        }
    }

    private func inspectSafeTensors() throws {
        let checkpoint = try SafeTensorsFile.read(path: file)
        let total = checkpoint.tensors.values.reduce(0) { $0 + $1.elementCount }
        let bytes = checkpoint.tensors.values.reduce(0) { $0 + $1.byteCount }
        if json {
            try printJSON([
                "file": file, "parameters": total, "parameter_bytes": bytes, "metadata": checkpoint.metadata,
                "tensors": checkpoint.order.map { name -> [String: Any] in
                    let tensor = checkpoint.tensors[name]!
                    return ["name": name, "dtype": tensor.dataType.description, "shape": tensor.shape]
                },
            ])
            return
        }
        print("\(file)")
        let width = min(60, checkpoint.order.map(\.count).max() ?? 0)
        for name in checkpoint.order {
            let tensor = checkpoint.tensors[name]!
            print("  \(name.padding(toLength: width, withPad: " ", startingAt: 0))  \(tensor.dataType) \(tensor.shape)")
        }
        print("  tensors: \(checkpoint.order.count), parameters: \(formatCount(total)) (\(total)), \(formatBytes(bytes))")
        for key in checkpoint.metadata.keys.sorted() { print("  metadata \(key): \(checkpoint.metadata[key]!)") }
    }
}

func formatCount(_ count: Int) -> String {
    switch count {
    case 1_000_000_000...: String(format: "%.2fG", Double(count) / 1e9)
    case 1_000_000...: String(format: "%.2fM", Double(count) / 1e6)
    case 1_000...: String(format: "%.1fK", Double(count) / 1e3)
    default: "\(count)"
    }
}

func formatBytes(_ bytes: Int) -> String {
    switch bytes {
    case (1 << 30)...: String(format: "%.2f GiB", Double(bytes) / Double(1 << 30))
    case (1 << 20)...: String(format: "%.1f MiB", Double(bytes) / Double(1 << 20))
    case (1 << 10)...: String(format: "%.1f KiB", Double(bytes) / Double(1 << 10))
    default: "\(bytes) B"
    }
}
