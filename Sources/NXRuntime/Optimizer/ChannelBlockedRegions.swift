import NXIR

/// Runs whole stretches of small-image work in the channel-blocked order
/// `[N][C / 16][H·W][16]`, with ai.nx ChannelBlockReorder nodes only at their edges: ONNX
/// Runtime's NCHWc regions, for the nodes whose blocked kernels exist.
///
/// On images of at most `ChannelPanelGEMM.suits` pixels (ConvNeXt's 14x14 and 7x7 stages)
/// the pointwise convolutions run `ChannelPanelGEMM`, whose tiles hold 16 channels of a pixel
/// per vector: in NCHW each one packs its B and transposes its C back, and a residual block
/// (depthwise 7x7, channel LayerNorm, two pointwise convolutions, the residual add fused into
/// the second) pays both every time. Blocked, the second writes its tiles and residual
/// straight into the trunk, which the next depthwise convolution, LayerNorm and first
/// convolution read as they are. Measured first as a bound on ConvNeXt-B (the second
/// convolution's transpose simply left out): 0.98 of the time at 1 thread, 0.97 at 2.
///
/// Eligible nodes, each on a 4-D tensor with a multiple of 16 channels and at most 320
/// pixels, with static shapes at the pass: ungrouped pointwise convolutions with a constant
/// weight (X and a fused residual blocked), depthwise 2-D convolutions with unit strides
/// and dilations and a constant weight (X and a fused residual), and ai.nx
/// LayerNormalizationChannels (X); their output is blocked. Eligible nodes joined by a value
/// form a region; a value entering a region gets a reorder into the blocked order after its
/// producer, a value a region hands to anyone else (or the graph's outputs) a reorder back.
/// A region is converted only when it has at least twice as many nodes as reorders, so an
/// isolated convolution keeps its in-cache transposes rather than gaining two passes.
struct ChannelBlockedRegions: LayoutPass {
    let name = "channel-blocked-regions"
    static let block = ChannelPanelGEMM.channelBlock

    func run(on model: inout Model, registry: OperatorRegistry) throws -> Bool {
        let graph = model.graph
        guard graph.nodes.contains(where: { $0.isConvolution }) else { return false }
        let shapes = StaticShapes.infer(graph)
        var blockedInputs: [Int: [Int]] = [:]
        for (index, node) in graph.nodes.enumerated() {
            if let positions = Self.blockedInputs(of: node, graph, shapes) { blockedInputs[index] = positions }
        }
        guard !blockedInputs.isEmpty else { return false }
        let index = GraphIndex(graph)
        let regions = Self.regions(blockedInputs, graph: graph, index: index)
        var members: [Int: Int] = [:]  // node -> region
        var entering = Set<String>(), leaving = Set<String>()
        for (number, region) in regions.enumerated() {
            guard region.nodes.count >= 2 * (region.entering.count + region.leaving.count) else { continue }
            for node in region.nodes { members[node] = number }
            entering.formUnion(region.entering)
            leaving.formUnion(region.leaving)
        }
        guard !members.isEmpty else { return false }

        var taken = Set(graph.nodes.flatMap(\.outputs)).union(graph.inputs.map(\.name)).union(graph.initializers.keys)
        var blockedNames: [String: String] = [:]
        func blockedName(_ value: String) -> String {
            if let name = blockedNames[value] { return name }
            var name = value + "/channel_blocked", suffix = 1
            while taken.contains(name) {
                name = value + "/channel_blocked_\(suffix)"
                suffix += 1
            }
            taken.insert(name)
            blockedNames[value] = name
            return name
        }
        func reorder(_ value: String, toBlocked: Bool) -> Node {
            let (input, output) = toBlocked ? (value, blockedName(value)) : (blockedName(value), value)
            return Node(
                name: output + "/reorder", opType: "ChannelBlockReorder", domain: nxDomain, inputs: [input], outputs: [output],
                attributes: [(toBlocked ? "output_channel_block" : "input_channel_block"): .int(Self.block)])
        }

        var nodes = graph.inputs.map(\.name).filter(entering.contains).map { reorder($0, toBlocked: true) }
        for (position, original) in graph.nodes.enumerated() {
            var node = original
            if members[position] != nil {
                for input in blockedInputs[position]! { node.inputs[input] = blockedName(node.inputs[input]) }
                let output = node.outputs[0]
                node.outputs[0] = blockedName(output)
                node.attributes["input_channel_block"] = .int(Self.block)
                node.attributes["output_channel_block"] = .int(Self.block)
                if node.isConvolution {
                    node.opType = "FusedConv"
                    node.domain = nxDomain
                }
                nodes.append(node)
                if leaving.contains(output) { nodes.append(reorder(output, toBlocked: false)) }
            } else {
                nodes.append(node)
                for output in node.outputs where entering.contains(output) { nodes.append(reorder(output, toBlocked: true)) }
            }
        }
        model.graph.nodes = nodes
        model.importNXDomain()
        return true
    }

    /// A set of eligible nodes joined by blocked values, the values it reads from outside
    /// (at blocked inputs) and the values of its own that others read.
    struct Region {
        var nodes: [Int] = []
        var entering = Set<String>(), leaving = Set<String>()
    }

    static func regions(_ blockedInputs: [Int: [Int]], graph: Graph, index: GraphIndex) -> [Region] {
        var parent = [Int: Int]()
        func root(_ node: Int) -> Int {
            var node = node
            while let next = parent[node], next != node { node = next }
            return node
        }
        for node in blockedInputs.keys { parent[node] = node }
        for (consumer, positions) in blockedInputs {
            for position in positions {
                guard let producer = index.producer[graph.nodes[consumer].inputs[position]], blockedInputs[producer] != nil else { continue }
                parent[root(producer)] = root(consumer)
            }
        }
        var regions: [Int: Region] = [:]
        for node in blockedInputs.keys.sorted() {
            let key = root(node)
            regions[key, default: Region()].nodes.append(node)
            let positions = blockedInputs[node]!
            for position in positions {
                let value = graph.nodes[node].inputs[position]
                if index.producer[value].flatMap({ blockedInputs[$0] }) == nil { regions[key]!.entering.insert(value) }
            }
            // Read by a node outside the regions, at an unblocked input, or by the caller.
            let output = graph.nodes[node].outputs[0]
            let readElsewhere = index.graphOutputs.contains(output) || (index.consumers[output] ?? []).contains { reader in
                guard let readerPositions = blockedInputs[reader] else { return true }
                return graph.nodes[reader].inputs.indices.contains { graph.nodes[reader].inputs[$0] == output && !readerPositions.contains($0) }
            }
            if readElsewhere { regions[key]!.leaving.insert(output) }
        }
        return regions.keys.sorted().map { regions[$0]! }
    }

    /// The input positions read blocked if `node` can run blocked (X, and a fused residual),
    /// or nil.
    static func blockedInputs(of node: Node, _ graph: Graph, _ shapes: [String: [Int]]) -> [Int]? {
        guard let input = node.inputs.first, !input.isEmpty, graph.initializers[input] == nil, node.outputs.count == 1,
            let x = shapes[input], let y = shapes[node.outputs[0]], x.count == 4, y.count == 4,
            x[1] % block == 0, y[1] % block == 0, y[2] * y[3] > 0, ChannelPanelGEMM.suits(pixels: y[2] * y[3]),
            !node.attributes.keys.contains(where: { $0.hasSuffix("_channel_block") || $0.hasSuffix("_pixel_block") })
        else { return nil }
        if node.domain == nxDomain && node.opType == "LayerNormalizationChannels" { return [0] }
        guard node.isConvolution, node.attributes["input_activation"] == nil else { return nil }
        let residual = node.hasInput(FusedConvInput.residual) ? [FusedConvInput.residual] : []
        if let position = residual.first, graph.initializers[node.inputs[position]] != nil { return nil }
        if BlockedMLPHidden.isPointwise(node, graph) { return [0] + residual }
        return isDepthwise(node, graph, channels: x[1]) ? [0] + residual : nil
    }

    /// A 2-D convolution with one input channel per output channel, unit strides and
    /// dilations, explicit pads and a constant weight.
    static func isDepthwise(_ node: Node, _ graph: Graph, channels: Int) -> Bool {
        guard node.inputs.count >= 2, let weight = graph.initializers[node.inputs[1]], weight.rank == 4, weight.shape[1] == 1,
            weight.shape[0] == channels, (node.attributes["group"]?.intValue ?? 1) == channels, !node.isTransposedWeightConv
        else { return false }
        let ones = { (name: String) in node.attributes[name]?.intsValue.map { $0.allSatisfy { $0 == 1 } } ?? true }
        return ones("strides") && ones("dilations") && (node.attributes["auto_pad"]?.stringValue ?? "NOTSET") == "NOTSET"
    }
}
