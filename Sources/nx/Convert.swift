import ArgumentParser
import NXFormat
import NXIR

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rewrite an .onnx model, moving weights into or out of an external data file.")

    @Argument(help: "The model to read.") var input: String
    @Argument(help: "The model to write (its data file, if any, is written beside it as <name>.data).") var output: String

    @Flag(help: "Store tensors of 1 KiB and more in <output>.data.") var externalData = false
    @Flag(help: "Store every tensor inline (fails past protobuf's 2 GB limit).") var inline = false

    func validate() throws {
        if externalData && inline { throw ValidationError("--external-data and --inline exclude each other") }
    }

    func run() throws {
        try reportingErrors {
            let model = try ONNXReader.read(path: input)
            let policy: ExternalDataPolicy = externalData ? .external : inline ? .inline : .automatic
            try ONNXWriter.write(model, to: output, externalData: policy)
            print("wrote \(output)")
        }
    }
}
