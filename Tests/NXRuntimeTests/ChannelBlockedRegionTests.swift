import Testing
import NXIR
@testable import NXRuntime

/// The `channel-blocked-regions` pass and the blocked kernels it relies on: a ConvNeXt-like
/// stage on a small image runs blocked between two reorders and computes what the plain
/// graph does; what cannot run blocked is left alone or refused by name.
@Suite struct ChannelBlockedRegionTests {
    /// `blocks` ConvNeXt blocks at C channels: depthwise 7x7 (pad 3, bias), channel
    /// LayerNorm, 1x1 C -> 4C with Gelu, 1x1 4C -> C, plus the block's input; the stage's
    /// output, and the first block's output too when `tapFirstBlock`, are graph outputs.
    private func stage(channels: Int, side: Int, batch: Int, blocks: Int, tapFirstBlock: Bool) -> Model {
        let b = GraphBuilder(opset: 17)
        var x = b.input("x", shape: Shape(fixed: [batch, channels, side, side]))
        for index in 0..<blocks {
            let seed = UInt64(100 * index)
            let dw = b.initializer("dw\(index)", Tensor(shape: [channels, 1, 7, 7], scalars: seededFloats(channels * 49, seed: seed + 1, scale: 0.2)))
            let dwBias = b.initializer("dwb\(index)", Tensor(shape: [channels], scalars: seededFloats(channels, seed: seed + 2)))
            let scale = b.initializer("ln\(index)", Tensor(shape: [channels], scalars: seededFloats(channels, seed: seed + 3)))
            let shift = b.initializer("lnb\(index)", Tensor(shape: [channels], scalars: seededFloats(channels, seed: seed + 4)))
            let w1 = b.initializer("w1_\(index)", Tensor(shape: [4 * channels, channels, 1, 1], scalars: seededFloats(4 * channels * channels, seed: seed + 5, scale: 0.3)))
            let b1 = b.initializer("b1_\(index)", Tensor(shape: [4 * channels], scalars: seededFloats(4 * channels, seed: seed + 6)))
            let w2 = b.initializer("w2_\(index)", Tensor(shape: [channels, 4 * channels, 1, 1], scalars: seededFloats(4 * channels * channels, seed: seed + 7, scale: 0.2)))
            let mixed = b.conv(x, dw, bias: dwBias, pads: [3, 3, 3, 3], group: channels)
            let normalized = b.node("LayerNormalizationChannels", [mixed, scale, shift], domain: nxDomain, name: "norm\(index)")[0]
            let hidden = b.gelu(b.conv(normalized, w1, bias: b1))
            x = b.add(b.conv(hidden, w2), x)
            if index == 0 && tapFirstBlock { b.output(x, name: "first") }
        }
        b.output(x, name: "y")
        var model = b.model()
        model.importNXDomain()
        return model
    }

    /// Three blocks on 7x7 (49 pixels: three whole 16-pixel groups and one pixel) at batch
    /// 2: every depthwise conv, LayerNorm and pointwise conv runs blocked, one reorder
    /// enters and one (two with the first block's output tapped) leaves, and the outputs
    /// match the unoptimized graph within 1e-5 relative on 1 and 2 threads.
    @Test(arguments: [false, true])
    func convNeXtStageRunsBlockedBetweenReorders(_ tapFirstBlock: Bool) throws {
        let model = stage(channels: 32, side: 7, batch: 2, blocks: 3, tapFirstBlock: tapFirstBlock)
        let feeds = ["x": Tensor(shape: [2, 32, 7, 7], scalars: seededFloats(2 * 32 * 49, seed: 9))]
        let plain = try Session(model: model, options: SessionOptions(threads: 1, optimize: false)).run(feeds)
        for threads in 1...2 {
            let session = try Session(model: model, options: SessionOptions(threads: threads))
            let nodes = session.model.graph.nodes
            let reorders = nodes.filter { $0.opType == "ChannelBlockReorder" }
            #expect(reorders.filter { $0.attributes["output_channel_block"]?.intValue == 16 }.count == 1)
            #expect(reorders.filter { $0.attributes["input_channel_block"]?.intValue == 16 }.count == (tapFirstBlock ? 2 : 1))
            let blocked = nodes.filter { $0.attributes["input_channel_block"]?.intValue == 16 && $0.attributes["output_channel_block"]?.intValue == 16 }
            #expect(blocked.count == 3 * 4, "\(nodes.map { "\($0.opType) \($0.attributes.keys.sorted())" })")
            let outputs = try session.run(feeds)
            for (name, tensor) in plain {
                #expect(relativeDifference(try outputs[name]!.floatValues(), try tensor.floatValues()) < 1e-5, "\(name)")
            }
        }
    }

    /// One block on a 20x20 image (400 pixels, past ChannelPanelGEMM) or at 24 channels (not
    /// a multiple of 16) is not blocked. (A lone pointwise pair, whose two reorders would
    /// outnumber half its nodes, is `OptimizerTests.mlpHiddenIsBlockedByImageSize`.)
    @Test(arguments: [(32, 20), (24, 7)])
    func stagesThatCannotRunBlockedAreLeftAlone(_ channels: Int, _ side: Int) throws {
        let model = stage(channels: channels, side: side, batch: 1, blocks: 1, tapFirstBlock: false)
        let session = try Session(model: model, options: SessionOptions(threads: 1))
        #expect(!session.model.graph.nodes.contains { $0.opType == "ChannelBlockReorder" || $0.attributes["input_channel_block"] != nil && $0.attributes["output_channel_block"] != nil })
    }

    /// Reordering into blocks and back is the identity, and the blocked order puts channel c
    /// of pixel p at `(c / 16 · pixels + p) · 16 + c % 16`, for 49 pixels (a partial group
    /// of 16) at batch 2.
    @Test func reorderRoundTripsAndPlacesChannelsInBlocks() throws {
        let b = GraphBuilder(opset: 17)
        let shape = [2, 32, 7, 7]
        let x = b.input("x", shape: Shape(fixed: shape))
        let blocked = b.node("ChannelBlockReorder", [x], attributes: ["output_channel_block": .int(16)], domain: nxDomain, name: "in")[0]
        let back = b.node("ChannelBlockReorder", [blocked], attributes: ["input_channel_block": .int(16)], domain: nxDomain, name: "out")[0]
        b.output(blocked, name: "blocked")
        b.output(back, name: "back")
        var model = b.model()
        model.importNXDomain()
        let values = seededFloats(shape.reduce(1, *), seed: 3)
        let outputs = try Session(model: model, options: SessionOptions(threads: 2, optimize: false))
            .run(["x": Tensor(shape: shape, scalars: values)])
        #expect(try outputs["back"]!.floatValues() == values)
        let order = try outputs["blocked"]!.floatValues()
        var expected = [Float](repeating: 0, count: values.count)
        for n in 0..<2 {
            for c in 0..<32 {
                for p in 0..<49 { expected[n * 32 * 49 + (c / 16 * 49 + p) * 16 + c % 16] = values[(n * 32 + c) * 49 + p] }
            }
        }
        #expect(order == expected)
    }

    /// Blocked layouts a kernel cannot run are refused at load, naming the node: a strided
    /// depthwise conv, a depthwise conv blocked on one side only, a LayerNorm blocked on one
    /// side only, a reorder asked for both directions.
    @Test(arguments: [
        ("FusedConv", ["input_channel_block": 16, "output_channel_block": 16, "strides": 2], "unit strides"),
        ("FusedConv", ["input_channel_block": 16], "both blocked"),
        ("LayerNormalizationChannels", ["input_channel_block": 16], "both be 0 or both 16"),
        ("ChannelBlockReorder", ["input_channel_block": 16, "output_channel_block": 16], "exactly one"),
    ])
    func blockedKernelsRefuseWhatTheyCannotRun(_ opType: String, _ attributes: [String: Int], _ reason: String) throws {
        let b = GraphBuilder(opset: 17)
        let x = b.input("x", shape: Shape(fixed: [1, 16, 7, 7]))
        var inputs: [Value?] = [x]
        var nodeAttributes = attributes.mapValues { Attribute.int($0) }
        if opType == "FusedConv" {
            inputs.append(b.initializer("w", Tensor(shape: [16, 1, 3, 3], scalars: seededFloats(144, seed: 1))))
            nodeAttributes["group"] = .int(16)
            nodeAttributes["strides"] = .ints([attributes["strides"] ?? 1, attributes["strides"] ?? 1])
        } else if opType == "LayerNormalizationChannels" {
            inputs.append(b.initializer("scale", Tensor(shape: [16], scalars: seededFloats(16, seed: 2))))
        }
        b.output(b.node(opType, inputs, attributes: nodeAttributes, domain: nxDomain, name: "odd")[0], name: "y")
        var model = b.model()
        model.importNXDomain()
        expectLoadRefused(model, naming: "odd", because: reason)
    }
}

extension ChannelBlockedRegionTests {
    /// The blocked depthwise convolution between two reorders matches the NCHW one, for
    /// kernels, pads and widths that exercise its 8-pixel tiles and their tails (widths 10
    /// and 17: 8 + 2, 8 + 8 + 1), with a bias, at batch 2 on 1 and 2 threads.
    @Test(arguments: [(3, [1, 1, 1, 1], 10), (5, [2, 1, 2, 3], 17), (7, [3, 3, 3, 3], 7), (1, [0, 0, 0, 0], 9)])
    func blockedDepthwiseMatchesNCHW(_ kernel: Int, _ pads: [Int], _ width: Int) throws {
        let channels = 32, shape = [2, channels, 6, width]
        func model(blocked: Bool) -> Model {
            let b = GraphBuilder(opset: 17)
            let x = b.input("x", shape: Shape(fixed: shape))
            let w = b.initializer("w", Tensor(shape: [channels, 1, kernel, kernel], scalars: seededFloats(channels * kernel * kernel, seed: 11)))
            let bias = b.initializer("b", Tensor(shape: [channels], scalars: seededFloats(channels, seed: 12)))
            let attributes: [String: Attribute] = ["group": .int(channels), "pads": .ints(pads)]
            guard blocked else {
                b.output(b.node("Conv", [x, w, bias], attributes: attributes, name: "dw")[0], name: "y")
                return b.model()
            }
            let inBlocks = b.node("ChannelBlockReorder", [x], attributes: ["output_channel_block": .int(16)], domain: nxDomain, name: "in")[0]
            var blockedAttributes = attributes
            blockedAttributes["input_channel_block"] = .int(16)
            blockedAttributes["output_channel_block"] = .int(16)
            let y = b.node("FusedConv", [inBlocks, w, bias], attributes: blockedAttributes, domain: nxDomain, name: "dw")[0]
            b.output(b.node("ChannelBlockReorder", [y], attributes: ["input_channel_block": .int(16)], domain: nxDomain, name: "out")[0], name: "y")
            var model = b.model()
            model.importNXDomain()
            return model
        }
        let feeds = ["x": Tensor(shape: shape, scalars: seededFloats(shape.reduce(1, *), seed: 13))]
        let plain = try Session(model: model(blocked: false), options: SessionOptions(threads: 1, optimize: false)).run(feeds)["y"]!
        for threads in 1...2 {
            let y = try Session(model: model(blocked: true), options: SessionOptions(threads: threads, optimize: false)).run(feeds)["y"]!
            #expect(y.shape == plain.shape)
            #expect(relativeDifference(try y.floatValues(), try plain.floatValues()) < 1e-6)
        }
    }
}
