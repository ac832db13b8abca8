import ArgumentParser
import Foundation
import NXFormat
import NXIR
import NXModels

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a model family as a standard .onnx file.",
        subcommands: [ExportConvNeXt.self, ExportHistoNeXt.self])
}

struct ExportConvNeXt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convnext",
        abstract: "ConvNeXt (timm's atto ... xlarge) with seeded initial weights.")

    @Option(help: "atto, femto, pico, nano, tiny, small, base, large or xlarge.") var variant: String
    @Option(help: "Classifier outputs.") var numClasses = 1000
    @Flag(help: "Output the four stage features instead of logits.") var features = false
    @Option(help: "Input height and width (0: free).") var inputSize = 224
    @Option(help: "Seed for the initial weights.") var seed: UInt64 = 0
    @Flag(help: "Store weights in <output>.data beside the model.") var externalData = false
    @Option(name: .shortAndLong, help: "The .onnx file to write.") var output: String

    func run() throws {
        try reportingErrors {
            let config = try ConvNeXtConfig.named(variant)
            var parameters = SeededParameters(seed: seed)
            let model = try ConvNeXt.model(
                config, head: features ? .features : .classifier(numClasses: numClasses),
                inputSize: inputSize > 0 ? inputSize : nil, parameters: &parameters)
            try ONNXWriter.write(model, to: output, externalData: externalData ? .external : .automatic)
            print("wrote \(output): ConvNeXt-\(config.variant), \(model.graph.parameterCount) parameters (\(parameters.initialized.count) tensors initialised from seed \(seed))")
        }
    }
}

struct ExportHistoNeXt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "histonext",
        abstract: "HistoNeXt (tiny, base, large, xlarge; mini and micro for tests): input [batch,3,270,270], outputs np, hv, tp.")

    @Option(help: "tiny, base, large, xlarge (or mini, micro).") var variant: String
    @Option(help: "Nuclear types including background (tp channels).") var numTypes = 6
    @Option(help: "Comma-separated class names, background first (default: type0, type1, ...).") var classNames: String?
    @Option(help: "Seed for the initial weights.") var seed: UInt64 = 0
    @Flag(help: "Store weights in <output>.data beside the model (automatic past 2 GB).") var externalData = false
    @Option(name: .shortAndLong, help: "The .onnx file to write.") var output: String

    func run() throws {
        try reportingErrors {
            let config = try HistoNeXtConfig.named(variant)
            var parameters = SeededParameters(seed: seed)
            let names = classNames.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            let model = try HistoNeXt.model(config, numTypes: numTypes, classNames: names, parameters: &parameters)
            try ONNXWriter.write(model, to: output, externalData: externalData ? .external : .automatic)
            print("wrote \(output): HistoNeXt-\(config.variant), \(model.graph.parameterCount) parameters (\(parameters.initialized.count) tensors initialised from seed \(seed))")
        }
    }
}
