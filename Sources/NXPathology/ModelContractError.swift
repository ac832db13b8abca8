import Foundation

/// A model that does not meet the pipeline's contract: a metadata key missing or malformed,
/// or an input or output of the wrong name or shape. Names the key, input or output at fault.
public enum ModelContractError: Error, Equatable, CustomStringConvertible {
    case metadata(key: String, message: String)
    case input(name: String, message: String)
    case output(name: String, message: String)
    case option(String)

    public var description: String {
        switch self {
        case .metadata(let key, let message): "model metadata '\(key)': \(message)"
        case .input(let name, let message): "model input '\(name)': \(message)"
        case .output(let name, let message): "model output '\(name)': \(message)"
        case .option(let message): message
        }
    }
}

/// Typed reads of a model's `metadata_props` (all values are strings there).
struct MetadataReader {
    let metadata: [String: String]

    func string(_ key: String) throws -> String {
        guard let value = metadata[key] else {
            let present = metadata.keys.filter { $0.hasPrefix("nx.") }.sorted()
            throw ModelContractError.metadata(
                key: key,
                message: "missing; the pipeline reads the tiling geometry from the model's metadata (keys present: \(present.isEmpty ? "none" : present.joined(separator: ", ")))")
        }
        return value.trimmingCharacters(in: .whitespaces)
    }

    func optionalString(_ key: String) -> String? { metadata[key]?.trimmingCharacters(in: .whitespaces) }

    func int(_ key: String) throws -> Int {
        let text = try string(key)
        guard let value = Int(text) else { throw ModelContractError.metadata(key: key, message: "'\(text)' is not an integer") }
        return value
    }

    func float(_ key: String, default fallback: Float) throws -> Float {
        guard let text = optionalString(key) else { return fallback }
        guard let value = Float(text), value.isFinite else {
            throw ModelContractError.metadata(key: key, message: "'\(text)' is not a finite number")
        }
        return value
    }

    /// Comma-separated floats, exactly `count` of them; `fallback` when the key is absent.
    func floats(_ key: String, count: Int, default fallback: [Float]) throws -> [Float] {
        guard let text = optionalString(key) else { return fallback }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let values = parts.compactMap { Float($0) }.filter(\.isFinite)
        guard values.count == parts.count, values.count == count else {
            throw ModelContractError.metadata(key: key, message: "'\(text)' is not \(count) comma-separated numbers")
        }
        return values
    }

    func list(_ key: String) throws -> [String] {
        try string(key).split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    }
}
