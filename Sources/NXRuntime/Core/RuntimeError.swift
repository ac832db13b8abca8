import NXIR

/// Errors raised while loading or running a model. Each names the node, input or op it is
/// about, with what was expected and what was given.
public enum RuntimeError: Error, Equatable, CustomStringConvertible {
    /// The model failed validation; every issue is listed.
    case invalidModel([String])
    /// Ops with no kernel: (op type with domain, opset, node label) for every one.
    case unsupportedOperators([UnsupportedOperator])
    case input(name: String, message: String)
    case node(name: String, opType: String, message: String)
    case runtime(String)

    public struct UnsupportedOperator: Equatable, Sendable, CustomStringConvertible {
        public let opType: String
        public let domain: String
        public let opset: Int?
        public let node: String
        public var description: String {
            "\(domain.isEmpty ? "" : domain + ".")\(opType) (opset \(opset.map(String.init) ?? "not imported")) at node '\(node)'"
        }
    }

    public var description: String {
        switch self {
        case .invalidModel(let issues): "invalid model:\n  " + issues.joined(separator: "\n  ")
        case .unsupportedOperators(let ops):
            "\(ops.count) node(s) use operators this runtime does not implement:\n  "
                + ops.map(\.description).joined(separator: "\n  ")
        case .input(let name, let message): "input '\(name)': \(message)"
        case .node(let name, let opType, let message): "node '\(name)' (\(opType)): \(message)"
        case .runtime(let message): message
        }
    }
}

/// What a kernel throws; the session adds the node's name and op type.
public struct KernelError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
