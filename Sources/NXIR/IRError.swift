/// Errors raised by the IR itself. Each names the file, tensor or node it is about.
public enum IRError: Error, Equatable, CustomStringConvertible {
    case file(String, String)
    case tensor(String, String)
    case node(String, String)
    case graph(String)

    public var description: String {
        switch self {
        case .file(let path, let message): "\(path): \(message)"
        case .tensor(let name, let message): "tensor '\(name)': \(message)"
        case .node(let name, let message): "node '\(name)': \(message)"
        case .graph(let message): message
        }
    }
}
