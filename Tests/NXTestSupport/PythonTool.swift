import Foundation

/// Finds and runs the Python that has the reference packages (numpy, safetensors, onnx,
/// scipy, ...) for interop tests: `$NX_PYTHON` if set, else `<repo>/.venv/bin/python`.
/// Locally a missing Python skips those tests; under CI (`$CI` set) it fails them, because CI
/// must never pass by silently not checking against the reference.
public enum PythonTool {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String

        public init(description: String) { self.description = description }
    }

    public static var repositoryRoot: String { Fixtures.repositoryRoot }

    /// An explicitly configured interpreter is used even if it does not exist, so a typo in
    /// `NX_PYTHON` shows up as a failure rather than as a skip.
    public static let executable: String? = {
        let environment = ProcessInfo.processInfo.environment
        if let configured = environment["NX_PYTHON"], !configured.isEmpty { return configured }
        let venv = "\(repositoryRoot)/.venv/bin/python"
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : nil
    }()

    public static var isRequired: Bool { ProcessInfo.processInfo.environment["CI"] != nil }

    /// The condition for `.enabled(if:)` on interop tests: run when there is a Python, and
    /// under CI always, so that a missing Python fails there instead of skipping.
    public static var shouldRun: Bool { executable != nil || isRequired }

    /// `Converters/python`, where the fixture scripts and reference modules live.
    public static var converterDirectory: String { "\(repositoryRoot)/Converters/python" }

    /// A script under `Converters/python`.
    public static func converterScript(_ name: String) -> String { "\(converterDirectory)/\(name)" }

    /// Runs Python with `arguments` and returns its standard output; throws with its standard
    /// error when it exits with a failure.
    public static func run(_ arguments: [String]) throws -> String {
        guard let executable else {
            throw Failure(
                description:
                    "no Python for interop tests: set NX_PYTHON or create \(repositoryRoot)/.venv (with Converters/python/requirements-ci.txt)"
            )
        }
        return try run(arguments, using: executable)
    }

    /// The Python with torch and timm for the training-recipe tests: `$NX_TORCH_PYTHON`, never
    /// guessed (CI has no torch, so these tests skip there unless it is set).
    public static let torchExecutable: String? = {
        let configured = ProcessInfo.processInfo.environment["NX_TORCH_PYTHON"] ?? ""
        return configured.isEmpty ? nil : configured
    }()

    /// Runs the interpreter at `executable` with `arguments`, as `run(_:)` does.
    public static func run(_ arguments: [String], using executable: String) throws -> String {
        // Output goes to files, not pipes, so a chatty child can never block on a full pipe.
        let scratch = try TemporaryDirectory()
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
    public static func run(script: String, arguments: [String] = []) throws -> String {
        try run(["-c", script] + arguments)
    }

    /// Parses JSON that a script printed.
    public static func json(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8))
    }
}
