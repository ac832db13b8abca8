import Testing
import NXIR
@testable import NXRuntime

/// Expects loading `model` (unoptimized, one thread) to fail with an error that names the
/// node `node` and says `reason`.
func expectLoadRefused(_ model: Model, naming node: String, because reason: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(sourceLocation: sourceLocation) {
        _ = try Session(model: model, options: SessionOptions(threads: 1, optimize: false))
    } throws: { error in
        let message = "\(error)"
        return message.contains(node) && message.contains(reason)
    }
}
