import Foundation

/// Resolves an external-data `location` against the model's folder, refusing any path that
/// leaves it: an absolute path, "..", or a symlink pointing out of it. ONNX's checker
/// applies the same rule, and without it a model file could read any file on the machine.
enum ExternalDataPath {
    static func resolve(_ location: String, in directory: String, describe fail: (String) -> FormatError) throws -> String {
        guard !location.hasPrefix("/"), !location.contains("\0") else {
            throw fail("location '\(location)' must be a relative path inside the model's folder")
        }
        let components = location.split(separator: "/", omittingEmptySubsequences: true)
        guard !components.contains("..") else {
            throw fail("location '\(location)' points outside the model's folder")
        }
        let base = URL(fileURLWithPath: directory).standardizedFileURL.resolvingSymlinksInPath().path
        let resolved = URL(fileURLWithPath: directory).appendingPathComponent(location)
            .standardizedFileURL.resolvingSymlinksInPath().path
        guard resolved == base || resolved.hasPrefix(base.hasSuffix("/") ? base : base + "/") else {
            throw fail("location '\(location)' resolves outside the model's folder")
        }
        guard FileManager.default.fileExists(atPath: resolved) else {
            throw fail("file '\(location)' is missing (looked in \(directory))")
        }
        return resolved
    }
}
