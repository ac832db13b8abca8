/// A problem reading or writing a file, naming the file and, when there is one, the tensor or
/// node it concerns, so a user can find the culprit without a debugger.
public enum FormatError: Error, Equatable, CustomStringConvertible {
    case file(String, String)
    case tensor(file: String, name: String, message: String)
    case node(file: String, name: String, message: String)

    /// The file the error is about.
    public var path: String {
        switch self {
        case .file(let path, _), .tensor(let path, _, _), .node(let path, _, _): path
        }
    }

    public var description: String {
        switch self {
        case .file(let path, let message): "\(path): \(message)"
        case .tensor(let path, let name, let message): "\(path): tensor '\(name)': \(message)"
        case .node(let path, let name, let message): "\(path): node '\(name)': \(message)"
        }
    }
}
