import NXIR

extension MappedFile {
    /// Maps `path` for a reader, reporting failure as a `FormatError` that names the file once.
    static func opening(_ path: String) throws(FormatError) -> MappedFile {
        do {
            return try MappedFile(path: path)
        } catch {
            if case .file(_, let message) = error { throw FormatError.file(path, message) }
            throw FormatError.file(path, error.description)
        }
    }
}
