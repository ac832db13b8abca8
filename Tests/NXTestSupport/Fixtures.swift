import Foundation

/// Where tests find the repository and its fixtures: paths are absolute, derived from this
/// file's location, so tests work from any working directory.
public enum Fixtures {
    public static let repositoryRoot: String = {
        // #filePath is <repo>/Tests/NXTestSupport/Fixtures.swift.
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `<repo>/Tests/Fixtures/<relative>`.
    public static func path(_ relative: String) -> String { "\(repositoryRoot)/Tests/Fixtures/\(relative)" }

    /// Whether `path(relative)` exists: generated fixtures may be absent, and their tests skip.
    public static func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: path(relative)) }
}
