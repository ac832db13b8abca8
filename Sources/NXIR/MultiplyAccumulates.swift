/// Multiply-accumulates of a graph for one set of input shapes, counted as fvcore and torch's
/// `FlopCounterMode` (÷ 2) count them (Spec/HISTONEXT.md §7): Conv per output pixel
/// (N·Hout·Wout·Cout·Cin/group·kh·kw), ConvTranspose per input pixel
/// (N·Hin·Win·Cin·Cout/group·kh·kw), MatMul and Gemm M·N·K with batch dimensions multiplied
/// in. Norms, activations, pooling, element-wise ops and biases count 0.
public struct MACCount: Sendable, Equatable {
    /// One counted node.
    public struct Entry: Sendable, Equatable {
        public let node: String
        public let opType: String
        public let macs: Int
    }

    public let total: Int
    /// Every Conv, ConvTranspose, MatMul and Gemm with a known shape, in graph order.
    public let nodes: [Entry]
    /// What the total leaves out: those ops with unknown shapes, and the root causes of
    /// unknown shapes (ops shape inference does not know may do multiply-accumulates too).
    public let uncounted: [UnresolvedNode]

    /// Whether the total covers the whole graph.
    public var isComplete: Bool { uncounted.isEmpty }

    public var byOpType: [String: Int] { nodes.reduce(into: [:]) { $0[$1.opType, default: 0] += $1.macs } }

    /// The sum over nodes whose label starts with `prefix` (builders scope node names, e.g. "encoder/").
    public func total(prefix: String) -> Int { nodes.filter { $0.node.hasPrefix(prefix) }.reduce(0) { $0 + $1.macs } }
}

extension Graph {
    /// MACs for the given input shapes (see `inferShapes` for the defaults: a free batch
    /// dimension counts as 1). Throws when the shapes contradict each other.
    public func multiplyAccumulates(inputs: [String: [Int]] = [:]) throws(IRError) -> MACCount {
        multiplyAccumulates(shapes: try inferShapes(inputs: inputs))
    }

    /// MACs from shapes already inferred for this graph.
    public func multiplyAccumulates(shapes: InferredShapes) -> MACCount {
        var entries: [MACCount.Entry] = []
        var uncounted = shapes.unresolved
        let listed = Set(uncounted.map(\.node))
        for node in nodes where node.domain.isEmpty || node.domain == "ai.onnx" {
            guard ["Conv", "ConvTranspose", "MatMul", "Gemm"].contains(node.opType) else { continue }
            func shape(input index: Int) -> [Int]? { index < node.inputs.count ? shapes[node.inputs[index]] : nil }
            let output = node.outputs.first.flatMap { shapes[$0] }
            var macs: Int?
            switch node.opType {
            case "Conv":
                // Output elements times the weight's per-output-channel volume Cin/group·kh·kw.
                if let output, let weight = shape(input: 1) { macs = elementCount(output) * weight.dropFirst().reduce(1, *) }
            case "ConvTranspose":
                // Input elements times Cout/group·kh·kw, the weight's volume per input channel.
                if let input = shape(input: 0), let weight = shape(input: 1) { macs = elementCount(input) * weight.dropFirst().reduce(1, *) }
            case "MatMul":
                // Every output element is one dot product over the shared dimension.
                if let output, let a = shape(input: 0), let k = a.last { macs = elementCount(output) * k }
            default:  // Gemm
                if let output, let a = shape(input: 0), a.count == 2 {
                    let transposed = node.attributes["transA"]?.intValue ?? 0 != 0
                    macs = elementCount(output) * (transposed ? a[0] : a[1])
                }
            }
            if let macs {
                entries.append(MACCount.Entry(node: node.label, opType: node.opType, macs: macs))
            } else if !listed.contains(node.label) {
                uncounted.append(UnresolvedNode(node: node.label, opType: node.opType, reason: "shapes unknown, MACs not counted"))
            }
        }
        return MACCount(total: entries.reduce(0) { $0 + $1.macs }, nodes: entries, uncounted: uncounted)
    }
}
