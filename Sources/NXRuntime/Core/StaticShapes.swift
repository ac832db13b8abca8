import NXIR

/// Shapes of a graph's values known before any run (fixed input shapes, a free batch taken
/// as 1), for kernels that pack their weights at load for the sizes they will see (which
/// GEMM layout suits a convolution depends on its output's pixel count).
///
/// NXIR's shape inference knows the standard ops only; the optimizer's ai.nx ops are seen
/// as the standard op with the same output shape (a FusedConv as its Conv, a channel
/// LayerNormalization as an Identity), so shapes flow through fused graphs too.
enum StaticShapes {
    static func infer(_ graph: Graph) -> [String: [Int]] {
        var shadow = graph
        shadow.nodes = graph.nodes.map(standardEquivalent)
        // A FusedConv whose weight is stored transposed ([K, N], `weight_transposed`) reads,
        // as a Conv, a stand-in input of the weight's Conv shape [N, K, 1, 1].
        for (index, node) in graph.nodes.enumerated() where node.isTransposedWeightConv {
            guard let shape = graph.initializers[node.inputs[1]]?.shape, shape.count == 2 else { continue }
            let standIn = node.inputs[1] + "#conv_layout"
            shadow.nodes[index].inputs[1] = standIn
            shadow.inputs.append(ValueInfo(name: standIn, elementType: .float32, shape: Shape(fixed: [shape[1], shape[0], 1, 1])))
        }
        return (try? shadow.inferShapes().shapes) ?? [:]
    }

    private static func standardEquivalent(_ node: Node) -> Node {
        guard node.domain == nxDomain else { return node }
        var standard = node
        standard.domain = ""
        standard.attributes = node.attributes.filter {
            !$0.key.hasPrefix("activation") && !$0.key.hasPrefix("input_activation") && $0.key != "weight_transposed"
                && !$0.key.hasSuffix("_channel_block") && !$0.key.hasSuffix("_pixel_block")
        }
        switch node.opType {
        case "FusedConv":
            standard.opType = "Conv"
            standard.inputs = Array(node.inputs.prefix(3))
        case "FusedGemm":
            standard.opType = "Gemm"
        case "FusedMatMul":
            standard.opType = "MatMul"
            standard.inputs = Array(node.inputs.prefix(2))
        case "LayerNormalizationChannels", "ChannelBlockReorder":
            standard.opType = "Identity"
            standard.inputs = Array(node.inputs.prefix(1))
            standard.attributes = [:]
        case "Gelu":
            standard.opType = "Relu"
            standard.attributes = [:]
        default:
            break  // LayerNormalization keeps its standard meaning
        }
        return standard
    }
}
