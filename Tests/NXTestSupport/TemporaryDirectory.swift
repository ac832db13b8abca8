import Foundation

/// A fresh directory for one test's files, removed when the value goes away, so parallel
/// tests never see each other's files and runs leave nothing behind.
public final class TemporaryDirectory {
    public let path: String

    public init() throws {
        let base = FileManager.default.temporaryDirectory.path
        path = "\(base)/nx-tests-\(UInt64.random(in: .min ... .max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func file(_ name: String) -> String { "\(path)/\(name)" }

    /// Names of the files currently in the directory, sorted (hidden temporary files included).
    public func contents() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: path).sorted() }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
