import Foundation

/// The metrics tests' access to the repository's Python (numpy, scipy): `$NX_PYTHON` if set,
/// else `<repo>/.venv/bin/python`. Locally a missing Python skips the tests that need it;
/// under CI (`$CI` set) it fails them, because CI must never pass by silently not comparing
/// with the reference. (The logic of NXFormatTests' PythonTool; test targets cannot share it.)
enum MetricsPython {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static let repositoryRoot: String = {
        // #filePath is <repo>/Tests/NXPathologyTests/Support/MetricsPython.swift.
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// An explicitly configured interpreter is used even if it does not exist, so a typo in
    /// `NX_PYTHON` shows up as a failure rather than as a skip.
    static let executable: String? = {
        let environment = ProcessInfo.processInfo.environment
        if let configured = environment["NX_PYTHON"], !configured.isEmpty { return configured }
        let venv = "\(repositoryRoot)/.venv/bin/python"
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : nil
    }()

    static var isRequired: Bool { ProcessInfo.processInfo.environment["CI"] != nil }

    /// For `.enabled(if:)`: run when there is a Python, and under CI always.
    static var shouldRun: Bool { executable != nil || isRequired }

    static func converterScript(_ name: String) -> String { "\(repositoryRoot)/Converters/python/\(name)" }

    /// Runs Python with `arguments` and returns its standard output; throws with its standard
    /// error when it exits with a failure.
    static func run(_ arguments: [String]) throws -> String {
        guard let executable else {
            throw Failure(description: "no Python for the metrics reference: set NX_PYTHON or create \(repositoryRoot)/.venv (with numpy and scipy)")
        }
        // Output goes to files, not pipes, so a chatty child can never block on a full pipe.
        let scratch = try MetricsTemporaryDirectory()
        let stdoutPath = scratch.file("stdout"), stderrPath = scratch.file("stderr")
        for path in [stdoutPath, stderrPath] where !FileManager.default.createFile(atPath: path, contents: nil) {
            throw Failure(description: "cannot create \(path)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        do {
            try process.run()
        } catch {
            throw Failure(description: "cannot run \(executable): \(error)")
        }
        process.waitUntilExit()
        let output = try String(contentsOfFile: stdoutPath, encoding: .utf8)
        guard process.terminationStatus == 0 else {
            let errors = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
            throw Failure(description: "\(executable) \(arguments.first ?? "") exited with \(process.terminationStatus):\n\(errors)")
        }
        return output
    }

    /// Runs a Python program given as text, with `arguments` as `sys.argv[1...]`.
    static func run(script: String, arguments: [String] = []) throws -> String {
        try run(["-c", script] + arguments)
    }
}

/// A fresh directory for one test's files, removed when the value goes away.
final class MetricsTemporaryDirectory {
    let path: String

    init() throws {
        path = "\(FileManager.default.temporaryDirectory.path)/nxmetrics-tests-\(UInt64.random(in: .min ... .max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
