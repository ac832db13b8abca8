import Foundation

/// Where the runtime tests find committed and generated fixtures.
enum RuntimeFixtures {
    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    static func path(_ relative: String) -> String { "\(repositoryRoot)/Tests/Fixtures/\(relative)" }
    static func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: path(relative)) }
}
