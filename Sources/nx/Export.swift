import ArgumentParser
import Foundation
import NXFormat
import NXIR
import NXConverters
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
    @Option(help: "A timm or facebookresearch ConvNeXt checkpoint (.safetensors or .pth).") var weights: String?
    @Flag(help: "Accept a checkpoint with missing or unused entries (missing ones get seeded values).") var nonStrict = false
    @Flag(help: "Store weights in <output>.data beside the model.") var externalData = false
    @Option(name: .shortAndLong, help: "The .onnx file to write.") var output: String

    func run() throws {
        try reportingErrors {
            let config = try ConvNeXtConfig.named(variant)
            let head: ConvNeXt.Head = features ? .features : .classifier(numClasses: numClasses)
            let size = inputSize > 0 ? inputSize : nil
            let model: Model
            let report: LoadReport
            if let weights {
                (model, report) = try ConvNeXtImport.model(
                    config: config, head: head, weights: weights, strict: !nonStrict, inputSize: size, seed: seed)
            } else {
                var parameters = SeededParameters(seed: seed)
                model = try ConvNeXt.model(config, head: head, inputSize: size, parameters: &parameters)
                var seeded = LoadReport()
                seeded.initializedFromSeed = parameters.initialized
                report = seeded
            }
            try ONNXWriter.write(model, to: output, externalData: externalData ? .external : .automatic)
            print("wrote \(output): ConvNeXt-\(config.variant), \(model.graph.parameterCount) parameters")
            printReport(report, seed: seed)
        }
    }
}

struct ExportHistoNeXt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "histonext",
        abstract: "HistoNeXt (tiny, base, large, xlarge; atto for CPU deployment; mini and micro for tests): input [batch,3,270,270], outputs np, hv, tp.")

    @Option(help: "tiny, base, large, xlarge, atto (or mini, micro).") var variant: String
    @Option(help: "Nuclear types including background (tp channels).") var numTypes = 6
    @Option(help: "Comma-separated class names, background first (default: type0, type1, ...).") var classNames: String?
    @Option(help: "Seed for weights no checkpoint provides.") var seed: UInt64 = 0
    @Option(help: "A whole trained HistoNeXt (.pth or .safetensors from the PyTorch reference).") var weights: String?
    @Option(help: "A ConvNeXt classification checkpoint for the encoder only (head reported unused).") var encoderWeights: String?
    @Flag(help: "Accept a checkpoint with missing or unused entries (missing ones get seeded values).") var nonStrict = false
    @Flag(help: "Store weights in <output>.data beside the model (automatic past 2 GB).") var externalData = false
    @Option(name: .shortAndLong, help: "The .onnx file to write.") var output: String

    func validate() throws {
        if weights != nil && encoderWeights != nil { throw ValidationError("--weights already holds the encoder; give one of --weights and --encoder-weights") }
    }

    func run() throws {
        try reportingErrors {
            let config = try HistoNeXtConfig.named(variant)
            let names = classNames.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            let (model, report) = try HistoNeXtImport.model(
                config: config, numTypes: numTypes, classNames: names, weights: weights, encoderWeights: encoderWeights,
                strict: !nonStrict, seed: seed)
            try ONNXWriter.write(model, to: output, externalData: externalData ? .external : .automatic)
            print("wrote \(output): HistoNeXt-\(config.variant), \(model.graph.parameterCount) parameters")
            printReport(report, seed: seed)
        }
    }
}

/// Says which weights came from where, so an export never silently ships untrained parts.
func printReport(_ report: LoadReport, seed: UInt64) {
    if !report.loaded.isEmpty { print("  loaded \(report.loaded.count) tensors from the checkpoint (\(report.reshaped.count) reshaped)") }
    if !report.initializedFromSeed.isEmpty {
        let parts = Set(report.initializedFromSeed.map { $0.split(separator: ".").first.map(String.init) ?? $0 }).sorted()
        print("  initialised from seed \(seed): \(report.initializedFromSeed.count) tensors (\(parts.joined(separator: ", ")))")
    }
    if !report.unexpected.isEmpty {
        print("  unused checkpoint entries: \(report.unexpected.count) (\(report.unexpected.prefix(6).joined(separator: ", "))\(report.unexpected.count > 6 ? ", ..." : ""))")
    }
    if !report.missing.isEmpty { print("  missing from the checkpoint: \(report.missing.count)") }
}
