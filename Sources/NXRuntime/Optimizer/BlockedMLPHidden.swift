import NXIR

/// Stores the tensor between two pointwise convolutions in the layout both GEMMs work in,
/// instead of NCHW: ConvNeXt's MLP hidden layer, and the channel LayerNorm's output that
/// the MLP's first convolution reads.
///
/// On a small image (at most `ChannelPanelGEMM.suits` pixels: the 14x14 and 7x7 stages)
/// both convolutions run `ChannelPanelGEMM`, whose tiles hold 16 channels of a pixel per
/// vector; the tensor is channel-blocked, `[N][C / 16][H·W][16]`: the first writes its
/// tiles straight into it (no pixel-major scratch and transpose) and the second reads its B
/// from it (no packing). Skipping those two passes took 7% off ConvNeXt-T at 1 thread and
/// 13% at 2 in a first measurement with both simply left out (wrong results, a bound).
/// The producer gets `output_channel_block = 16`, the consumer `input_channel_block = 16`,
/// and the hidden channel count must be a multiple of 16.
///
/// On a larger image both run `PackedGEMM`, whose B panels are 64 pixels by a K block; the
/// tensor is pixel-paneled, `[N][H·W / 64][C][64]`: the first stores each tile's rows into
/// its panel and the second reads its full panels in place as packed B (ConvNeXt-T's
/// 56x56 and 28x28 MLPs: 0.97 of the time at 1 and 2 threads). An ai.nx
/// LayerNormalizationChannels producer writes this layout too, for the first convolution
/// (it has no channel-blocked form: that needed 16x16 transposes and was slower). The
/// attributes are `output_pixel_block = 64` and `input_pixel_block = 64`.
///
/// Either way the value keeps its logical NCHW shape, so shape inference and the memory
/// plan see an ordinary tensor; only these two kernels know its order, which is why the
/// consumer must be its only reader and it no graph output. Convolutions must be ungrouped
/// 1x1 with unit strides, no padding and a constant weight, with static shapes at the
/// pass; the producer may carry a bias and an activation but no residual or
/// pre-activation, the consumer no pre-activation.
struct BlockedMLPHidden: LayoutPass {
    let name = "blocked-mlp-hidden"

    func run(on model: inout Model, registry: OperatorRegistry) throws -> Bool {
        let graph = model.graph
        let index = GraphIndex(graph)
        var shapes: [String: [Int]]?
        var nodes = graph.nodes
        var changed = false
        for (producerIndex, producer) in graph.nodes.enumerated()
        where (Self.isPointwise(producer, graph) && !producer.hasInput(FusedConvInput.residual)
            && producer.attributes["input_activation"] == nil || Self.isChannelLayerNorm(producer))
            && !Self.hasBlockedOutput(producer)
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
                guard hidden[1] % ChannelPanelGEMM.channelBlock == 0, !Self.isChannelLayerNorm(producer) else { continue }
                (side, block) = ("channel_block", ChannelPanelGEMM.channelBlock)
            } else {
                (side, block) = ("pixel_block", PackedGEMM.nr)
            }
            if Self.isChannelLayerNorm(producer) {
                nodes[producerIndex].attributes["output_" + side] = .int(block)
            } else {
                nodes[producerIndex] = Self.fused(nodes[producerIndex], setting: "output_" + side, to: block)
            }
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

    /// ai.nx LayerNormalizationChannels, which can write its output pixel-paneled.
    private static func isChannelLayerNorm(_ node: Node) -> Bool {
        node.domain == nxDomain && node.opType == "LayerNormalizationChannels"
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
