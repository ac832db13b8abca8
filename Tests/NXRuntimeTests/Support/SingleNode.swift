import NXIR
import NXRuntime

/// Runs one node on the given inputs through a real session, for kernel unit tests.
/// Inputs named in `constants` become initializers (so kernels see them at load, as weights).
func runNode(
    _ opType: String, inputs: [(String, Tensor)], constants: [String: Tensor] = [:], outputs: [String] = ["y"],
    attributes: [String: Attribute] = [:], opset: Int = 17, threads: Int = 2, domain: String = ""
) throws -> [String: Tensor] {
    let node = Node(
        name: "node", opType: opType, domain: domain,
        inputs: inputs.map(\.0) + constants.keys.sorted().filter { name in !inputs.contains { $0.0 == name } },
        outputs: outputs, attributes: attributes)
    let graph = Graph(
        name: "single", nodes: [node],
        inputs: inputs.map { ValueInfo(name: $0.0, elementType: $0.1.dataType, shape: Shape(fixed: $0.1.shape)) },
        outputs: outputs.map { ValueInfo(name: $0) }, initializers: constants)
    var opsets = [OperatorSetID(version: opset)]
    if !domain.isEmpty { opsets.append(OperatorSetID(domain: domain, version: 1)) }
    let session = try Session(model: Model(graph: graph, opsetImports: opsets), options: SessionOptions(threads: threads, optimize: false))
    return try session.run(Dictionary(uniqueKeysWithValues: inputs))
}

/// Largest |a - b| / max(|b|, tiny) style relative difference over the whole tensor:
/// max abs diff divided by max abs value of the reference.
func relativeDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    let scale = max(b.map(abs).max() ?? 0, Float.leastNormalMagnitude)
    return zip(a, b).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
}
