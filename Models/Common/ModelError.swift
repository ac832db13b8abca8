/// Errors of the model builders, naming the variant or parameter at fault.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    case unknownVariant(String, known: [String])
    case parameter(String, String)
    /// A configuration the builder cannot make into a consistent graph (variant, reason).
    case configuration(String, String)

    public var description: String {
        switch self {
        case .unknownVariant(let name, let known): "unknown variant '\(name)' (known: \(known.joined(separator: ", ")))"
        case .parameter(let name, let message): "parameter '\(name)': \(message)"
        case .configuration(let variant, let message): "variant '\(variant)': \(message)"
        }
    }
}
