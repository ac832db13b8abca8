import Foundation

/// Test helpers shared by the Image, Tiling and Writers suites (prefixed names, because other
/// suites of this target keep their own helpers).

/// A fresh directory for one test's files, removed when the value goes away.
final class ImageTestDirectory {
    let path: String

    init() throws {
        path = "\(FileManager.default.temporaryDirectory.path)/nxpathology-tests-\(UInt64.random(in: .min ... .max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    /// Names in the directory, sorted (hidden temporary files included).
    func contents() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: path).sorted() }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Paths of committed fixtures.
enum ImageFixtures {
    static let repositoryRoot: String = {
        // #filePath is <repo>/Tests/NXPathologyTests/Support/ImageTestSupport.swift.
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    static func png(_ name: String) -> String { "\(repositoryRoot)/Tests/Fixtures/png/\(name)" }
}

/// Finds and runs the Python with numpy for interop tests: `$NX_PYTHON` if set, else
/// `<repo>/.venv/bin/python`. Locally a missing Python skips those tests; under CI (`$CI`
/// set) it fails them, so CI never passes by silently not checking. (The same logic as
/// NXFormatTests' PythonTool; test targets cannot share files.)
enum ImagePython {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static let executable: String? = {
        let environment = ProcessInfo.processInfo.environment
        if let configured = environment["NX_PYTHON"], !configured.isEmpty { return configured }
        let venv = "\(ImageFixtures.repositoryRoot)/.venv/bin/python"
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : nil
    }()

    static var isRequired: Bool { ProcessInfo.processInfo.environment["CI"] != nil }

    /// For `.enabled(if:)`: run when there is a Python, and under CI always.
    static var shouldRun: Bool { executable != nil || isRequired }

    static let converterDirectory = "\(ImageFixtures.repositoryRoot)/Converters/python"
    static func converterScript(_ name: String) -> String { "\(converterDirectory)/\(name)" }

    /// Runs Python with `arguments`; returns standard output, throws with standard error.
    static func run(_ arguments: [String]) throws -> String {
        guard let executable else {
            throw Failure(description: "no Python for interop tests: set NX_PYTHON or create \(ImageFixtures.repositoryRoot)/.venv (with numpy)")
        }
        let scratch = try ImageTestDirectory()
        let stdoutPath = scratch.file("stdout"), stderrPath = scratch.file("stderr")
        for path in [stdoutPath, stderrPath] where !FileManager.default.createFile(atPath: path, contents: nil) {
            throw Failure(description: "cannot create \(path)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        do { try process.run() } catch { throw Failure(description: "cannot run \(executable): \(error)") }
        process.waitUntilExit()
        let output = try String(contentsOfFile: stdoutPath, encoding: .utf8)
        guard process.terminationStatus == 0 else {
            let errors = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
            throw Failure(description: "\(executable) \(arguments.first ?? "") exited with \(process.terminationStatus):\n\(errors)")
        }
        return output
    }

    static func run(script: String, arguments: [String] = []) throws -> String { try run(["-c", script] + arguments) }

    static func json(_ text: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(text.utf8)) }
}
