import NXIR

/// Who produces and who reads each value of a graph: what pattern-matching passes query.
/// Built once per pass run; passes that edit the graph rebuild it.
struct GraphIndex {
    /// Node index producing each value.
    let producer: [String: Int]
    /// Node indices reading each value (a node reading it twice appears twice).
    let consumers: [String: [Int]]
    let graphOutputs: Set<String>

    init(_ graph: Graph) {
        var producer: [String: Int] = [:]
        var consumers: [String: [Int]] = [:]
        for (index, node) in graph.nodes.enumerated() {
            for output in node.outputs where !output.isEmpty { producer[output] = index }
            for input in node.inputs where !input.isEmpty { consumers[input, default: []].append(index) }
        }
        self.producer = producer
        self.consumers = consumers
        self.graphOutputs = Set(graph.outputs.map(\.name))
    }

    /// True when `value` is read by exactly one node and is not a graph output, so the
    /// producer and that consumer can be merged without anyone else noticing.
    func hasSingleUse(_ value: String) -> Bool {
        consumers[value]?.count == 1 && !graphOutputs.contains(value)
    }

    /// The single node reading `value`, if `hasSingleUse`.
    func soleConsumer(_ value: String) -> Int? {
        hasSingleUse(value) ? consumers[value]![0] : nil
    }
}

extension Graph {
    /// A float32 scalar (any shape of one element) held by an initializer, e.g. PyTorch's
    /// exported constants 0.5, 1, sqrt(2).
    func scalarConstant(_ name: String) -> Float? {
        guard let tensor = initializers[name], tensor.elementCount == 1, tensor.dataType.isFloatingPoint,
            let values = try? tensor.floatValues()
        else { return nil }
        return values[0]
    }

    /// Removes the nodes at `indices` (any order).
    mutating func removeNodes(_ indices: Set<Int>) {
        nodes = nodes.enumerated().filter { !indices.contains($0.offset) }.map(\.element)
    }

    /// Rewires every reader of `old` (and the graph outputs) to read `new` instead.
    mutating func replaceUses(of old: String, with new: String) {
        for index in nodes.indices {
            nodes[index].inputs = nodes[index].inputs.map { $0 == old ? new : $0 }
        }
    }
}

/// Positions of FusedConv's optional inputs that passes place (Spec/OPERATORS.md; 3 and 4,
/// the pre-activation's scale and shift, come with the bias before them).
enum FusedConvInput {
    static let residual = 5, weightScale = 6
}

extension Node {
    /// A standard Conv or the optimizer's ai.nx FusedConv.
    var isConvolution: Bool {
        (domain.isEmpty && opType == "Conv") || (domain == nxDomain && opType == "FusedConv")
    }

    /// A FusedConv whose 1x1 weight (input 1) is stored transposed, [C_in, C_out]: what
    /// `channels-first-mlp` makes of a FusedMatMul's [K, N] weight without copying it.
    var isTransposedWeightConv: Bool {
        domain == nxDomain && opType == "FusedConv" && attributes["weight_transposed"]?.intValue == 1
    }

    /// Whether input `position` is present (not omitted, not an empty name).
    func hasInput(_ position: Int) -> Bool { position < inputs.count && !inputs[position].isEmpty }

    /// The inputs with `values` placed at their positions, empty names filling any gap and
    /// no empty names left at the end.
    func inputs(setting values: [Int: String]) -> [String] {
        var result = inputs + [String](repeating: "", count: max(0, (values.keys.max() ?? 0) + 1 - inputs.count))
        for (position, name) in values { result[position] = name }
        while result.last?.isEmpty == true { result.removeLast() }
        return result
    }
}

/// The internal operator domain for fused ops this runtime adds; never written to files
/// meant for other runtimes.
public let nxDomain = "ai.nx"

extension Model {
    /// Imports the fused-op domain so validation and kernel lookup accept its nodes.
    mutating func importNXDomain() {
        if opsetVersion(for: nxDomain) == nil { opsetImports.append(OperatorSetID(domain: nxDomain, version: 1)) }
    }
}
