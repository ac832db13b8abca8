import NXIR

/// Stores the tensor between two pointwise convolutions on a small image channel-blocked,
/// `[N][C / 16][H·W][16]`, instead of NCHW: ConvNeXt's MLP hidden layer at its 14x14 and
/// 7x7 stages. Both run `ChannelPanelGEMM`, whose tiles hold 16 channels of a pixel per
/// vector: the first writes its tiles straight into that layout (no pixel-major scratch
/// and transpose) and the second reads its B from it (no packing). Skipping those two
/// passes took 7% off ConvNeXt-T at 1 thread and 13% at 2 in a first measurement with
/// both simply left out (wrong results, an upper bound).
///
/// The producer gets `output_channel_block = 16` and the consumer `input_channel_block =
/// 16` (both become ai.nx FusedConv). The value keeps its logical NCHW shape, so shape
/// inference and the memory plan see an ordinary tensor; only these two kernels know its
/// order, which is why the consumer must be its only reader and it no graph output.
///
/// Both must be ungrouped 1x1 convolutions with unit strides, no padding and a constant
/// weight, at most `ChannelPanelGEMM.suits` pixels (static shapes at the pass), and the
/// hidden channel count a multiple of 16; the producer may carry a bias and an activation
/// but no residual or pre-activation, the consumer no pre-activation.
struct BlockedMLPHidden: GraphPass {
    let name = "blocked-mlp-hidden"

    func run(on model: inout Model, registry: OperatorRegistry) throws -> Bool {
        let graph = model.graph
        let index = GraphIndex(graph)
        var shapes: [String: [Int]]?
        var nodes = graph.nodes
        var changed = false
        for (producerIndex, producer) in graph.nodes.enumerated()
        where Self.isPointwise(producer, graph) && !Self.hasBlockedOutput(producer)
            && !producer.hasInput(FusedConvInput.residual) && producer.attributes["input_activation"] == nil
        {
            guard let value = producer.outputs.first, let consumerIndex = index.soleConsumer(value) else { continue }
            let consumer = nodes[consumerIndex]
            guard Self.isPointwise(consumer, graph), consumer.inputs.first == value, !Self.hasBlockedInput(consumer),
                consumer.attributes["input_activation"] == nil
            else { continue }
            if shapes == nil { shapes = StaticShapes.infer(graph) }
            guard let hidden = shapes?[value], hidden.count == 4 else { continue }
            let (side, block): (String, Int)
            if ChannelPanelGEMM.suits(pixels: hidden[2] * hidden[3]) {
                guard hidden[1] % ChannelPanelGEMM.channelBlock == 0 else { continue }
                (side, block) = ("channel_block", ChannelPanelGEMM.channelBlock)
            } else {
                (side, block) = ("pixel_block", PackedGEMM.nr)
            }
            nodes[producerIndex] = Self.fused(nodes[producerIndex], setting: "output_" + side, to: block)
            nodes[consumerIndex] = Self.fused(consumer, setting: "input_" + side, to: block)
            changed = true
        }
        if changed {
            model.graph.nodes = nodes
            model.importNXDomain()
        }
        return changed
    }

    /// An ungrouped 1x1 convolution with unit strides and dilations, no padding, and a
    /// constant weight: the shape `ChannelPanelGEMM` runs.
    static func isPointwise(_ node: Node, _ graph: Graph) -> Bool {
        guard node.isConvolution, node.inputs.count >= 2, let weight = graph.initializers[node.inputs[1]] else { return false }
        let shapeIsPointwise = node.isTransposedWeightConv
            ? weight.rank == 2 : weight.rank == 4 && weight.shape[2] == 1 && weight.shape[3] == 1
        let ones = { (name: String) in node.attributes[name]?.intsValue.map { $0.allSatisfy { $0 == 1 } } ?? true }
        let zeros = node.attributes["pads"]?.intsValue.map { $0.allSatisfy { $0 == 0 } } ?? true
        let autoPad = node.attributes["auto_pad"]?.stringValue ?? "NOTSET"
        return shapeIsPointwise && (node.attributes["group"]?.intValue ?? 1) == 1 && ones("strides") && ones("dilations")
            && zeros && (autoPad == "NOTSET" || autoPad == "VALID")
    }

    private static func hasBlockedOutput(_ node: Node) -> Bool {
        node.attributes["output_channel_block"] != nil || node.attributes["output_pixel_block"] != nil
    }

    private static func hasBlockedInput(_ node: Node) -> Bool {
        node.attributes["input_channel_block"] != nil || node.attributes["input_pixel_block"] != nil
    }

    private static func fused(_ node: Node, setting attribute: String, to block: Int) -> Node {
        var result = node
        result.opType = "FusedConv"
        result.domain = nxDomain
        result.attributes[attribute] = .int(block)
        return result
    }
}
