import Foundation
import NXFormat
import NXIR

/// The ONNX backend node tests shipped inside the `onnx` wheel (1.22.0 is the last that
/// ships them): `<case>/model.onnx` with `test_data_set_N/input_K.pb` and `output_K.pb`.
enum NodeTestSuite {
    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `$NX_ONNX_NODE_TESTS`, else the copy inside `<repo>/.venv`'s onnx package.
    static let directory: String? = {
        if let configured = ProcessInfo.processInfo.environment["NX_ONNX_NODE_TESTS"], !configured.isEmpty { return configured }
        let lib = "\(repositoryRoot)/.venv/lib"
        let pythons = (try? FileManager.default.contentsOfDirectory(atPath: lib))?.filter { $0.hasPrefix("python") } ?? []
        for python in pythons.sorted() {
            let candidate = "\(lib)/\(python)/site-packages/onnx/backend/test/data/node"
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        return nil
    }()

    /// Run when the suite is there, and always under CI, where its absence must fail.
    static var shouldRun: Bool { directory != nil || ProcessInfo.processInfo.environment["CI"] != nil }

    /// The checked-in list: `run NAME` or `skip NAME -- reason`.
    static let listPath = "\(repositoryRoot)/Tests/NXConformanceTests/cases.txt"

    struct Entry: Sendable, CustomStringConvertible {
        let name: String
        let skipReason: String?
        var description: String { name }
    }

    static let entries: [Entry] = {
        guard let text = try? String(contentsOfFile: listPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { return nil }
            let parts = trimmed.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return Entry(name: trimmed, skipReason: "malformed line") }
            if parts[0] == "run" { return Entry(name: parts[1], skipReason: nil) }
            let rest = parts[1].components(separatedBy: " -- ")
            return Entry(name: rest[0], skipReason: rest.count > 1 ? rest[1] : "no reason given")
        }
    }()

    /// Listed cases to run; `$NX_CONFORMANCE_FILTER` (a regular expression) narrows them
    /// while working on one op family.
    static var runnable: [String] {
        let names = entries.filter { $0.skipReason == nil }.map(\.name)
        guard let pattern = ProcessInfo.processInfo.environment["NX_CONFORMANCE_FILTER"], !pattern.isEmpty else { return names }
        return names.filter { $0.range(of: pattern, options: .regularExpression) != nil }
    }

    struct Case {
        let model: Model
        let modelPath: String
        let dataSets: [(inputs: [(String, Tensor)], outputs: [(String, Tensor)])]
    }

    static func load(_ name: String) throws -> Case {
        guard let directory else { throw SuiteMissing() }
        let folder = "\(directory)/\(name)"
        let modelPath = "\(folder)/model.onnx"
        let model = try ONNXReader.read(path: modelPath)
        let sets = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix("test_data_set_") }.sorted()
        let dataSets = try sets.map { set in
            let files = try FileManager.default.contentsOfDirectory(atPath: "\(folder)/\(set)")
            func read(_ prefix: String, _ declared: [ValueInfo]) throws -> [(String, Tensor)] {
                let count = files.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".pb") }.count
                return try (0..<count).map { index in
                    let (name, tensor) = try ONNXReader.readTensor(path: "\(folder)/\(set)/\(prefix)\(index).pb")
                    return (name.isEmpty ? declared[index].name : name, tensor)
                }
            }
            return (try read("input_", model.graph.runtimeInputs), try read("output_", model.graph.outputs))
        }
        return Case(model: model, modelPath: modelPath, dataSets: dataSets)
    }

    struct SuiteMissing: Error, CustomStringConvertible {
        var description: String { "ONNX node tests not found: create .venv with onnx==1.22.0 or set NX_ONNX_NODE_TESTS" }
    }
}
