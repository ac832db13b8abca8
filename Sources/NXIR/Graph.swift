/// A computation graph: nodes over named values, with declared inputs and outputs and
/// constant initializers (weights).
public struct Graph: Equatable, Sendable {
    public var name: String
    public var nodes: [Node]
    public var inputs: [ValueInfo]
    public var outputs: [ValueInfo]
    /// Weights by value name. Writers emit them sorted by name, so files are reproducible.
    public var initializers: [String: Tensor]
    /// Types and shapes known for intermediate values.
    public var valueInfo: [ValueInfo]
    public var docString: String

    public init(
        name: String = "graph", nodes: [Node] = [], inputs: [ValueInfo] = [], outputs: [ValueInfo] = [],
        initializers: [String: Tensor] = [:], valueInfo: [ValueInfo] = [], docString: String = ""
    ) {
        self.name = name
        self.nodes = nodes
        self.inputs = inputs
        self.outputs = outputs
        self.initializers = initializers
        self.valueInfo = valueInfo
        self.docString = docString
    }

    /// Graph inputs that callers must feed: declared inputs that no initializer provides.
    /// (ONNX IR < 4 listed initializers among the inputs too.)
    public var runtimeInputs: [ValueInfo] { inputs.filter { initializers[$0.name] == nil } }

    /// Parameters: elements of every initializer.
    public var parameterCount: Int { initializers.values.reduce(0) { $0 + $1.elementCount } }
    public var parameterBytes: Int { initializers.values.reduce(0) { $0 + $1.byteCount } }

    /// Node count per op type, op types sorted by name.
    public var opTypeHistogram: [(opType: String, count: Int)] {
        var counts: [String: Int] = [:]
        for node in nodes { counts[node.domain.isEmpty ? node.opType : "\(node.domain).\(node.opType)", default: 0] += 1 }
        return counts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
