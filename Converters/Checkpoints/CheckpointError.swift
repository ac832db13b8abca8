/// A problem reading or applying a checkpoint, naming the file and, where there is one, the
/// zip entry, pickle position or tensor at fault.
public enum CheckpointError: Error, Equatable, CustomStringConvertible {
    case file(String, String)
    case tensor(file: String, name: String, message: String)
    /// The checkpoint does not fit the model; the report lists every missing, unexpected and
    /// mis-shaped parameter at once.
    case incompatible(file: String, report: LoadReport)

    /// The file the error is about.
    public var path: String {
        switch self {
        case .file(let path, _), .tensor(let path, _, _), .incompatible(let path, _): path
        }
    }

    public var description: String {
        switch self {
        case .file(let path, let message): "\(path): \(message)"
        case .tensor(let path, let name, let message): "\(path): tensor '\(name)': \(message)"
        case .incompatible(let path, let report): "\(path): checkpoint does not fit the model:\n\(report.problemSummary)"
        }
    }
}
