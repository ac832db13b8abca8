import ArgumentParser
import Foundation

@main
struct NX: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nx",
        abstract: "ONNX models for HistoNeXt: inspect, validate, convert, run and benchmark them.",
        version: "0.1.0",
        subcommands: [Inspect.self, Validate.self, Convert.self, Export.self, Run.self, Bench.self, Segment.self, Evaluate.self]
    )
}

/// Runs a command body, turning any error into one line on stderr and exit status 1, so
/// scripts get a message that names the file, node or tensor instead of a stack trace.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        FileHandle.standardError.write(Data("nx: error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}

/// Prints a JSON object with sorted keys, for `--json` outputs.
func printJSON(_ object: Any) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    print(String(decoding: data, as: UTF8.self))
}
