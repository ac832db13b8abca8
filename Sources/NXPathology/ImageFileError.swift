/// A problem reading or writing an image or output file; always names the file, so a batch
/// run over many slides says which one failed and why.
public struct ImageFileError: Error, Equatable, CustomStringConvertible {
    public let path: String
    public let message: String

    public init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}
