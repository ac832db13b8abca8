/// What loading a checkpoint into a model did: which parameters came from the checkpoint
/// (and which needed a reshape), which the checkpoint lacked, which checkpoint entries the
/// model never asked for, which had the wrong shape, and which parameters a seeded
/// initialiser made instead. Names are the model's, except `unexpected`, which has the file's
/// keys; mismatches give both.
public struct LoadReport: Sendable, Equatable, CustomStringConvertible {
    public struct ShapeMismatch: Sendable, Equatable, CustomStringConvertible {
        /// The model's parameter name.
        public let name: String
        /// The key in the checkpoint file (differs from `name` for renamed checkpoints).
        public let checkpointKey: String
        public let expected: [Int]
        public let found: [Int]

        public var description: String {
            let key = checkpointKey == name ? "'\(name)'" : "'\(name)' (checkpoint key '\(checkpointKey)')"
            return "\(key): checkpoint has shape \(found), model expects \(expected)"
        }
    }

    public var loaded: [String] = []
    /// Loaded with a reshape of equal elements (Linear [out, in] -> 1x1 conv [out, in, 1, 1]).
    public var reshaped: [String] = []
    /// Parameters the model needs that the checkpoint does not have.
    public var missing: [String] = []
    /// Checkpoint entries the model never asked for, by their keys in the file.
    public var unexpected: [String] = []
    public var shapeMismatches: [ShapeMismatch] = []
    /// Parameters made by the seeded initialiser: missing ones in non-strict mode, and those
    /// outside the checkpoint's prefix.
    public var initializedFromSeed: [String] = []

    public init() {}

    /// No missing, unexpected or mis-shaped parameters.
    public var isExact: Bool { missing.isEmpty && unexpected.isEmpty && shapeMismatches.isEmpty }

    public var description: String {
        var lines = ["\(loaded.count) parameters loaded from the checkpoint"
            + (reshaped.isEmpty ? "" : " (\(reshaped.count) reshaped from Linear to 1x1-conv layout)")]
        if !initializedFromSeed.isEmpty {
            lines.append("\(initializedFromSeed.count) initialised from the seed: \(Self.list(initializedFromSeed))")
        }
        if isExact { lines.append("no missing, unexpected or mis-shaped parameters") } else { lines.append(problemSummary) }
        return lines.joined(separator: "\n")
    }

    /// One line per kind of problem, listing the names.
    public var problemSummary: String {
        var lines: [String] = []
        if !shapeMismatches.isEmpty {
            lines.append("\(shapeMismatches.count) shape mismatches:")
            lines += shapeMismatches.map { "  \($0)" }
        }
        if !missing.isEmpty { lines.append("\(missing.count) missing from the checkpoint: \(Self.list(missing))") }
        if !unexpected.isEmpty { lines.append("\(unexpected.count) unexpected (unused) in the checkpoint: \(Self.list(unexpected))") }
        return lines.joined(separator: "\n")
    }

    private static func list(_ names: [String]) -> String {
        let shown = names.prefix(20).joined(separator: ", ")
        return names.count > 20 ? "\(shown), ... (\(names.count - 20) more)" : shown
    }
}
