import Testing
import NXIR
@testable import NXRuntime

/// Each pass alone: what it rewrites, what it must leave alone, and (where kernels exist)
/// that the rewritten graph computes the same outputs within 1e-5 relative.
@Suite struct OptimizerTests {
    /// Runs `model` with and without one pass; returns (optimized model, max relative diff).
    /// Constants are folded into initializers first, as the optimizer always does before the
    /// pattern passes, and initializers the pass left unused are dropped.
    private func compare(_ model: Model, pass: any GraphPass, feeds: [String: Tensor]) throws -> (Model, Float) {
        var optimized = model
        _ = try ConstantFolding().run(on: &optimized, registry: .standard)
        _ = try pass.run(on: &optimized, registry: .standard)
        _ = try DeadNodeElimination().run(on: &optimized, registry: .standard)
        #expect(optimized.validate().isEmpty, "\(optimized.validate())")
        let plain = try Session(model: model, options: SessionOptions(threads: 1, optimize: false)).run(feeds)
        let rewritten = try Session(model: optimized, options: SessionOptions(threads: 1, optimize: false)).run(feeds)
        var worst: Float = 0
        for (name, tensor) in plain {
            worst = max(worst, relativeDifference(try rewritten[name]!.floatValues(), try tensor.floatValues()))
        }
        return (optimized, worst)
    }

    @Test func geluFusionMatchesTheBuilderSubgraph() throws {
        let b = GraphBuilder(opset: 17)
        b.output(b.gelu(b.input("x", shape: [4, 64])), name: "y")
        let model = b.model()
        let x = Tensor(shape: [4, 64], scalars: seededFloats(256, seed: 1, scale: 4))
        let (optimized, difference) = try compare(model, pass: GeluFusion(), feeds: ["x": x])
        #expect(optimized.graph.nodes.map(\.opType) == ["Gelu"])
        #expect(optimized.graph.nodes[0].domain == nxDomain)
        #expect(difference < 1e-5)
    }

    /// One scan fuses every match that shares no node with another, adjacent ones included
    /// (each GELU reads the last node of the one before), with the same outputs.
    @Test func localPassesFuseEveryMatchInOneScan() throws {
        let b = GraphBuilder(opset: 17)
        var value = b.input("x", shape: [1, 4, 5, 5])
        for layer in 0..<3 {
            let w = b.initializer("w\(layer)", Tensor(shape: [4, 4, 1, 1], scalars: seededFloats(16, seed: UInt64(30 + layer))))
            value = b.relu(b.conv(b.gelu(value), w))
        }
        b.output(value, name: "y")
        var model = b.model()
        _ = try ConstantFolding().run(on: &model, registry: .standard)
        let input = Tensor(shape: [1, 4, 5, 5], scalars: seededFloats(100, seed: 33, scale: 3))
        let plain = try Session(model: model, options: SessionOptions(threads: 1, optimize: false)).run(["x": input])
        model.graph = try #require(GeluFusion().fuseOne(model))
        model.importNXDomain()
        #expect(model.graph.nodes.filter { $0.opType == "Gelu" }.count == 3)
        model.graph = try #require(ActivationFusion().fuseOne(model))
        #expect(model.graph.nodes.map(\.opType) == ["Gelu", "FusedConv", "Gelu", "FusedConv", "Gelu", "FusedConv"])
        #expect(GeluFusion().fuseOne(model) == nil && ActivationFusion().fuseOne(model) == nil)
        #expect(model.validate().isEmpty, "\(model.validate())")
        let fused = try Session(model: model, options: SessionOptions(threads: 1, optimize: false)).run(["x": input])
        #expect(relativeDifference(try fused["y"]!.floatValues(), try plain["y"]!.floatValues()) < 1e-5)
    }

    @Test func geluFusionLeavesOtherErfGraphsAlone() throws {
        let b = GraphBuilder(opset: 17)
        let x = b.input("x", shape: [8])
        // erf(x / 2): not the GELU constant.
        b.output(b.mul(b.mul(x, b.add(b.erf(b.div(x, b.constant(scalar: 2))), b.constant(scalar: 1))), b.constant(scalar: 0.5)))
        var model = b.model()
        _ = try ConstantFolding().run(on: &model, registry: .standard)
        #expect(try GeluFusion().run(on: &model, registry: .standard) == false)
    }

    @Test func channelLayerNormFusionRemovesTransposes() throws {
        let b = GraphBuilder(opset: 17)
        let x = b.input("x", shape: [2, 16, 5, 7])
        let scale = b.initializer("s", Tensor(shape: [16], scalars: seededFloats(16, seed: 2)))
        let bias = b.initializer("b", Tensor(shape: [16], scalars: seededFloats(16, seed: 3)))
        let y = b.transpose(b.layerNormalization(b.transpose(x, perm: [0, 2, 3, 1]), scale: scale, bias: bias, axis: -1, epsilon: 1e-6), perm: [0, 3, 1, 2])
        b.output(y, name: "y")
        let input = Tensor(shape: [2, 16, 5, 7], scalars: seededFloats(2 * 16 * 35, seed: 4, scale: 3))
        let (optimized, difference) = try compare(b.model(), pass: ChannelLayerNormFusion(), feeds: ["x": input])
        #expect(optimized.graph.nodes.map(\.opType) == ["LayerNormalizationChannels"])
        #expect(difference < 1e-5)
    }

    @Test func batchNormFoldsIntoConv() throws {
        let b = GraphBuilder(opset: 17)
        let x = b.input("x", shape: [1, 3, 6, 6])
        let w = b.initializer("w", Tensor(shape: [4, 3, 3, 3], scalars: seededFloats(108, seed: 5)))
        let conv = b.conv(x, w, pads: [1, 1, 1, 1])
        func vector(_ name: String, _ seed: UInt64, positive: Bool = false) -> Value {
            b.initializer(name, Tensor(shape: [4], scalars: seededFloats(4, seed: seed).map { positive ? abs($0) + 0.5 : $0 }))
        }
        let y = b.batchNormalization(conv, scale: vector("g", 6), bias: vector("beta", 7), mean: vector("m", 8), variance: vector("v", 9, positive: true))
        b.output(b.relu(y), name: "y")
        let input = Tensor(shape: [1, 3, 6, 6], scalars: seededFloats(108, seed: 10))
        let (optimized, difference) = try compare(b.model(), pass: BatchNormFolding(), feeds: ["x": input])
        #expect(optimized.graph.nodes.map(\.opType) == ["Conv", "Relu"])
        #expect(optimized.graph.nodes[0].inputs.count == 3)
        #expect(difference < 1e-5)
    }

    /// HoVer-Net's dense unit, `Relu(BN(Conv(Relu(BN(x)))))`: the whole optimizer leaves one
    /// FusedConv with the pre-activation (inputs 3, 4), the second BN folded into its weight
    /// and bias, and the Relu, for the Winograd, tap and im2col paths.
    @Test(arguments: [(32, 3), (8, 5), (3, 3)])
    func denseUnitBecomesOneFusedConv(_ channels: Int, _ kernel: Int) throws {
        let b = GraphBuilder(opset: 17)
        let x = b.input("x", shape: Shape(fixed: [1, channels, 7, 7]))
        func vector(_ name: String, _ count: Int, _ seed: UInt64, positive: Bool = false) -> Value {
            b.initializer(name, Tensor(shape: [count], scalars: seededFloats(count, seed: seed).map { positive ? abs($0) + 0.5 : $0 }))
        }
        let pre = b.relu(b.batchNormalization(
            x, scale: vector("g0", channels, 1), bias: vector("b0", channels, 2), mean: vector("m0", channels, 3),
            variance: vector("v0", channels, 4, positive: true)))
        let w = b.initializer("w", Tensor(shape: [6, channels, kernel, kernel], scalars: seededFloats(6 * channels * kernel * kernel, seed: 5)))
        let pad = kernel / 2
        let conv = b.conv(pre, w, pads: [pad, pad, pad, pad])
        let post = b.batchNormalization(
            conv, scale: vector("g1", 6, 6), bias: vector("b1", 6, 7), mean: vector("m1", 6, 8), variance: vector("v1", 6, 9, positive: true))
        b.output(b.relu(post), name: "y")
        let model = b.model()
        let optimized = try Optimizer().optimize(model)
        #expect(optimized.graph.nodes.map(\.opType) == ["FusedConv"])
        let fused = try #require(optimized.graph.nodes.first)
        #expect(fused.hasInput(3) && fused.hasInput(4) && !fused.hasInput(5) && !fused.hasInput(6))
        #expect(fused.attributes["activation"]?.stringValue == "Relu")
        let feeds = ["x": Tensor(shape: [1, channels, 7, 7], scalars: seededFloats(channels * 49, seed: 10))]
        let plain = try Session(model: model, options: SessionOptions(threads: 1, optimize: false)).run(feeds)["y"]!
        let fusedRun = try Session(model: optimized, options: SessionOptions(threads: 1, optimize: false)).run(feeds)["y"]!
        #expect(relativeDifference(try fusedRun.floatValues(), try plain.floatValues()) < 1e-5)
    }

    @Test func batchNormStaysWhenConvOutputHasAnotherReader() throws {
        let b = GraphBuilder(opset: 17)
        let x = b.input("x", shape: [1, 1, 4, 4])
        let conv = b.conv(x, b.initializer("w", Tensor(shape: [1, 1, 1, 1], scalars: [Float(2)])))
        let one = b.initializer("one", Tensor(shape: [1], scalars: [Float(1)]))
        let zero = b.initializer("zero", Tensor(shape: [1], scalars: [Float(0)]))
        b.output(b.batchNormalization(conv, scale: one, bias: zero, mean: zero, variance: one), name: "y")
        b.output(conv, name: "raw")
        var model = b.model()
        #expect(try BatchNormFolding().run(on: &model, registry: .standard) == false)
    }

    /// BN -> ReLU -> Conv becomes one FusedConv with the pre-activation, for the Winograd
    /// path (3x3, 32 channels), the tap path (5x5) and the im2col path (3 channels), and
    /// computes what the three nodes did.
    @Test(arguments: [(32, 3), (32, 5), (3, 3)])
    func preActivationFusesIntoConv(_ channels: Int, _ kernel: Int) throws {
        let b = GraphBuilder(opset: 17)
        let x = b.input("x", shape: Shape(fixed: [2, channels, 9, 11]))
        func vector(_ name: String, _ seed: UInt64, positive: Bool = false) -> Value {
            b.initializer(name, Tensor(shape: [channels], scalars: seededFloats(channels, seed: seed).map { positive ? abs($0) + 0.5 : $0 }))
        }
        let norm = b.batchNormalization(x, scale: vector("g", 6), bias: vector("beta", 7), mean: vector("m", 8), variance: vector("v", 9, positive: true))
        let weights = Tensor(shape: [5, channels, kernel, kernel], scalars: seededFloats(5 * channels * kernel * kernel, seed: 11))
        let pad = kernel / 2
        b.output(b.conv(b.relu(norm), b.initializer("w", weights), pads: [pad, pad, pad, pad]), name: "y")
        let input = Tensor(shape: [2, channels, 9, 11], scalars: seededFloats(2 * channels * 99, seed: 12, scale: 2))
        let (optimized, difference) = try compare(b.model(), pass: PreActivationFusion(), feeds: ["x": input])
        #expect(optimized.graph.nodes.map(\.opType) == ["FusedConv"])
        #expect(optimized.graph.nodes[0].attributes["input_activation"] == .string("Relu"))
        #expect(difference < 1e-5)
    }

    /// `Relu(Add(Conv(x), z))` becomes one FusedConv with z as its residual and Relu as its
    /// activation, for every conv algorithm: the one-GEMM path in both GEMMs (few and many
    /// pixels), Winograd, the implicit im2col and depthwise. A broadcasting Add stays.
    @Test(arguments: [(8, 1, 1, 9), (8, 1, 1, 40), (32, 3, 1, 9), (8, 5, 1, 9), (8, 7, 8, 9), (6, 3, 2, 9)])
    func residualAddFusesIntoConv(_ channels: Int, _ kernel: Int, _ group: Int, _ side: Int) throws {
        let outputs = channels
        let b = GraphBuilder(opset: 17)
        let x = b.input("x", shape: Shape(fixed: [2, channels, side, side + 2]))
        let z = b.input("z", shape: Shape(fixed: [2, outputs, side, side + 2]))
        let w = b.initializer("w", Tensor(
            shape: [outputs, channels / group, kernel, kernel], scalars: seededFloats(outputs * channels / group * kernel * kernel, seed: 21)))
        let bias = b.initializer("wb", Tensor(shape: [outputs], scalars: seededFloats(outputs, seed: 22)))
        let pad = kernel / 2
        b.output(b.relu(b.add(b.conv(x, w, bias: bias, pads: [pad, pad, pad, pad], group: group), z)), name: "y")
        let model = b.model()
        let feeds = [
            "x": Tensor(shape: [2, channels, side, side + 2], scalars: seededFloats(2 * channels * side * (side + 2), seed: 23)),
            "z": Tensor(shape: [2, outputs, side, side + 2], scalars: seededFloats(2 * outputs * side * (side + 2), seed: 24)),
        ]
        let plain = try Session(model: model, options: SessionOptions(threads: 2, optimize: false)).run(feeds)["y"]!
        let session = try Session(model: model, options: SessionOptions(threads: 2))
        #expect(session.model.graph.nodes.map(\.opType) == ["FusedConv"])
        #expect(session.model.graph.nodes.first?.inputs.count == 6)
        #expect(session.model.graph.nodes.first?.attributes["activation"] == .string("Relu"))
        let fused = try session.run(feeds)["y"]!
        #expect(relativeDifference(try fused.floatValues(), try plain.floatValues()) < 1e-5)
    }

    /// A ConvNeXt-like MLP, 1x1 (C -> 4C) -> Relu -> 1x1 (4C -> C) + x: its hidden tensor is
    /// channel-blocked on small images (49 pixels) when 4C is a multiple of 16, pixel-paneled
    /// on large ones (400 pixels: six full panels and one of 16) whatever 4C, and neither
    /// when it is also a graph output; outputs match the unoptimized graph at batch 2 on 1
    /// and 2 threads either way.
    @Test(arguments: [
        (16, 7, false, "channel"), (16, 20, false, "pixel"), (6, 7, false, "none"), (6, 20, false, "pixel"), (16, 7, true, "none"),
        (16, 20, true, "none"),
    ])
    func mlpHiddenIsBlockedByImageSize(_ channels: Int, _ side: Int, _ hiddenIsOutput: Bool, _ expected: String) throws {
        let b = GraphBuilder(opset: 17)
        let shape = [2, channels, side, side]
        let x = b.input("x", shape: Shape(fixed: shape))
        let w1 = b.initializer("w1", Tensor(shape: [4 * channels, channels, 1, 1], scalars: seededFloats(4 * channels * channels, seed: 31)))
        let b1 = b.initializer("b1", Tensor(shape: [4 * channels], scalars: seededFloats(4 * channels, seed: 32)))
        let w2 = b.initializer("w2", Tensor(shape: [channels, 4 * channels, 1, 1], scalars: seededFloats(4 * channels * channels, seed: 33)))
        let hidden = b.relu(b.conv(x, w1, bias: b1))
        b.output(b.add(b.conv(hidden, w2), x), name: "y")
        if hiddenIsOutput { b.output(hidden, name: "hidden") }
        let model = b.model()
        let feeds = ["x": Tensor(shape: shape, scalars: seededFloats(shape.reduce(1, *), seed: 34))]
        let plain = try Session(model: model, options: SessionOptions(threads: 1, optimize: false)).run(feeds)
        let block = ["channel": 16, "pixel": 64][expected]
        for threads in 1...2 {
            let session = try Session(model: model, options: SessionOptions(threads: threads))
            for kind in ["channel", "pixel"] {
                let blocks = session.model.graph.nodes.map { node in
                    [node.attributes["input_\(kind)_block"]?.intValue, node.attributes["output_\(kind)_block"]?.intValue]
                }
                #expect(blocks == (kind == expected ? [[nil, block], [block, nil]] : [[nil, nil], [nil, nil]]), "\(kind)")
            }
            let outputs = try session.run(feeds)
            for (name, tensor) in plain {
                #expect(relativeDifference(try outputs[name]!.floatValues(), try tensor.floatValues()) < 1e-5, "\(name)")
            }
        }
    }

    /// A channel LayerNorm read only by a pointwise conv writes its output pixel-paneled on
    /// a large image (400 pixels: six full panels and one of 16), not on a small one (49,
    /// where the conv runs ChannelPanelGEMM); outputs match the unoptimized graph at batch 2
    /// on 1 and 2 threads.
    @Test(arguments: [(20, true), (7, false)])
    func channelLayerNormFeedsAPointwiseConvPaneled(_ side: Int, _ expectPaneled: Bool) throws {
        let b = GraphBuilder(opset: 17)
        let shape = [2, 24, side, side]
        let x = b.input("x", shape: Shape(fixed: shape))
        let scale = b.initializer("scale", Tensor(shape: [24], scalars: seededFloats(24, seed: 41)))
        let w = b.initializer("w", Tensor(shape: [40, 24, 1, 1], scalars: seededFloats(40 * 24, seed: 42)))
        let normalized = b.node("LayerNormalizationChannels", [x, scale], domain: nxDomain, name: "norm")[0]
        b.output(b.conv(normalized, w), name: "y")
        var model = b.model()
        model.importNXDomain()
        let feeds = ["x": Tensor(shape: shape, scalars: seededFloats(shape.reduce(1, *), seed: 43))]
        let plain = try Session(model: model, options: SessionOptions(threads: 1, optimize: false)).run(feeds)["y"]!
        for threads in 1...2 {
            let session = try Session(model: model, options: SessionOptions(threads: threads))
            let blocks = session.model.graph.nodes.map { node in
                [node.attributes["input_pixel_block"]?.intValue, node.attributes["output_pixel_block"]?.intValue]
            }
            #expect(blocks == (expectPaneled ? [[nil, 64], [64, nil]] : [[nil, nil], [nil, nil]]))
            let y = try session.run(feeds)["y"]!
            #expect(relativeDifference(try y.floatValues(), try plain.floatValues()) < 1e-5)
        }
    }

    /// A blocked layout asked of a conv that cannot run it is refused at load, by name:
    /// channel blocks on too many pixels for ChannelPanelGEMM or on channels not a multiple
    /// of the block; pixel blocks on too few pixels for PackedGEMM, or on a 3x3 kernel.
    @Test(arguments: [
        (16, 20, 1, "output_channel_block", "channel-blocked"), (40, 7, 1, "output_channel_block", "multiple of 16 channels"),
        (16, 7, 1, "output_pixel_block", "pixel-paneled"), (16, 20, 3, "input_pixel_block", "pixel-paneled"),
    ])
    func blockedLayoutAConvCannotRunIsRefused(_ outputs: Int, _ side: Int, _ kernel: Int, _ attribute: String, _ reason: String) throws {
        let b = GraphBuilder(opset: 17)
        let x = b.input("x", shape: Shape(fixed: [1, 16, side, side]))
        let w = b.initializer("w", Tensor(shape: [outputs, 16, kernel, kernel], scalars: seededFloats(16 * outputs * kernel * kernel, seed: 5)))
        let y = b.node("FusedConv", [x, w], attributes: [attribute: .int(attribute.contains("pixel") ? 64 : 16)], domain: nxDomain, name: "wide")[0]
        b.output(y, name: "y")
        var model = b.model()
        model.importNXDomain()
        expectLoadRefused(model, naming: "wide", because: reason)
    }

    @Test func broadcastingAddIsNotAResidual() throws {
        let b = GraphBuilder(opset: 17)
        let x = b.input("x", shape: Shape(fixed: [1, 4, 5, 5]))
        let w = b.initializer("w", Tensor(shape: [4, 4, 1, 1], scalars: seededFloats(16, seed: 3)))
        b.output(b.add(b.conv(x, w), b.initializer("shift", Tensor(shape: [4, 1, 1], scalars: seededFloats(4, seed: 4)))), name: "y")
        var model = b.model()
        #expect(try ResidualFusion().run(on: &model, registry: .standard) == false)
    }

    @Test func preActivationStaysWhenTheActivationHasAnotherReader() throws {
        let b = GraphBuilder(opset: 17)
        let x = b.input("x", shape: [1, 4, 5, 5])
        let one = b.initializer("one", Tensor(shape: [4], scalars: [Float](repeating: 1, count: 4)))
        let zero = b.initializer("zero", Tensor(shape: [4], scalars: [Float](repeating: 0, count: 4)))
        let activated = b.relu(b.batchNormalization(x, scale: one, bias: zero, mean: zero, variance: one))
        b.output(b.conv(activated, b.initializer("w", Tensor(shape: [2, 4, 1, 1], scalars: seededFloats(8, seed: 3)))), name: "y")
        b.output(activated, name: "activated")
        var model = b.model()
        #expect(try PreActivationFusion().run(on: &model, registry: .standard) == false)
    }

    /// ConvNeXt's layer scale after a Conv (NCHW, gamma [C, 1, 1]) and after a FusedMatMul
    /// (channels last, gamma [C]) folds into the weights.
    @Test func layerScaleFoldsIntoConvAndLinear() throws {
        let conv = GraphBuilder(opset: 17)
        let x = conv.input("x", shape: Shape(fixed: [1, 6, 4, 5]))
        let w = conv.initializer("w", Tensor(shape: [8, 6, 1, 1], scalars: seededFloats(48, seed: 4)))
        let bias = conv.initializer("wb", Tensor(shape: [8], scalars: seededFloats(8, seed: 5)))
        let gamma = conv.initializer("gamma", Tensor(shape: [8, 1, 1], scalars: seededFloats(8, seed: 6)))
        conv.output(conv.mul(conv.conv(x, w, bias: bias), gamma), name: "y")
        let image = Tensor(shape: [1, 6, 4, 5], scalars: seededFloats(120, seed: 7))
        let (foldedConv, convDifference) = try compare(conv.model(), pass: ScaleFolding(), feeds: ["x": image])
        #expect(foldedConv.graph.nodes.map(\.opType) == ["FusedConv"])
        #expect(foldedConv.graph.nodes[0].inputs == ["x", "w", "wb_scaled", "", "", "", "gamma"], "the weight scale is input 6")
        #expect(convDifference < 1e-5)

        let linear = GraphBuilder(opset: 17)
        let tokens = linear.input("x", shape: Shape(fixed: [2, 3, 6]))
        let weight = linear.initializer("w", Tensor(shape: [6, 8], scalars: seededFloats(48, seed: 8)))
        let linearBias = linear.initializer("b", Tensor(shape: [8], scalars: seededFloats(8, seed: 9)))
        let scale = linear.initializer("gamma", Tensor(shape: [8], scalars: seededFloats(8, seed: 10)))
        linear.output(linear.mul(linear.add(linear.matMul(tokens, weight), linearBias), scale), name: "y")
        var model = linear.model()
        _ = try MatMulBiasFusion().run(on: &model, registry: .standard)
        let feeds = ["x": Tensor(shape: [2, 3, 6], scalars: seededFloats(36, seed: 11))]
        let (foldedLinear, linearDifference) = try compare(model, pass: ScaleFolding(), feeds: feeds)
        #expect(foldedLinear.graph.nodes.map(\.opType) == ["FusedMatMul"])
        #expect(linearDifference < 1e-5)
    }

    /// The folded scale is applied while each algorithm packs its weight: channel panels (1x1,
    /// few pixels), row panels (1x1, many pixels; a 5x5 per-tap GEMM; a grouped 1x1),
    /// Winograd (3x3) and depthwise. A residual added after the scale still fuses.
    @Test(arguments: [(1, 1, 6), (1, 1, 24), (5, 1, 9), (1, 2, 21), (3, 1, 9), (3, 8, 9)])
    func weightScaleFoldsIntoEveryConvAlgorithm(_ kernel: Int, _ group: Int, _ size: Int) throws {
        let channels = 8 * max(1, 40 / 8), outputs = group == 8 ? channels : 16
        let b = GraphBuilder(opset: 17)
        let x = b.input("x", shape: Shape(fixed: [1, channels, size, size]))
        let w = b.initializer(
            "w", Tensor(shape: [outputs, channels / group, kernel, kernel], scalars: seededFloats(outputs * channels / group * kernel * kernel, seed: 21)))
        let bias = b.initializer("bias", Tensor(shape: [outputs], scalars: seededFloats(outputs, seed: 22)))
        let gamma = b.initializer("gamma", Tensor(shape: [outputs, 1, 1], scalars: seededFloats(outputs, seed: 23)))
        let residual = b.input("z", shape: Shape(fixed: [1, outputs, size, size]))
        let pad = kernel / 2
        b.output(b.add(b.mul(b.conv(x, w, bias: bias, pads: [pad, pad, pad, pad], group: group), gamma), residual), name: "y")
        let feeds = [
            "x": Tensor(shape: [1, channels, size, size], scalars: seededFloats(channels * size * size, seed: 24)),
            "z": Tensor(shape: [1, outputs, size, size], scalars: seededFloats(outputs * size * size, seed: 25)),
        ]
        let model = b.model()
        let plain = try Session(model: model, options: SessionOptions(threads: 1, optimize: false)).run(feeds)["y"]!.floatValues()
        let session = try Session(model: model, options: SessionOptions(threads: 2))
        #expect(session.model.graph.nodes.map(\.opType) == ["FusedConv"], "scale and residual both fuse")
        #expect(session.model.graph.nodes.first?.inputs.count == 7)
        #expect(relativeDifference(try session.run(feeds)["y"]!.floatValues(), plain) < 1e-5)
    }

    /// timm's ConvNeXt block as PyTorch exports it (channels-last MLP between two
    /// Transposes, layer scale and residual after them): the whole optimizer leaves a
    /// channels-first LayerNorm and two 1x1 FusedConvs, the second adding the residual; no
    /// Transpose, Mul or Add, and the same outputs. (20, 48) makes partial panels of the
    /// transposed weights; 60 rows (360 pixels) run PackedGEMM, 5 rows ChannelPanelGEMM.
    @Test(arguments: [(8, 16, 5), (20, 48, 5), (20, 48, 60)])
    func channelsLastBlockRunsChannelsFirst(_ c: Int, _ hidden: Int, _ height: Int) throws {
        let b = GraphBuilder(opset: 17)
        let x = b.input("x", shape: Shape(fixed: [1, c, height, 6]))
        func constant(_ name: String, _ shape: [Int], _ seed: UInt64) -> Value {
            b.initializer(name, Tensor(shape: shape, scalars: seededFloats(shape.reduce(1, *), seed: seed)))
        }
        var y = b.transpose(x, perm: [0, 2, 3, 1])
        y = b.layerNormalization(y, scale: constant("ln_s", [c], 1), bias: constant("ln_b", [c], 2), axis: -1, epsilon: 1e-6)
        y = b.gelu(b.add(b.matMul(y, constant("w1", [c, hidden], 3)), constant("b1", [hidden], 4)))
        y = b.add(b.matMul(y, constant("w2", [hidden, c], 5)), constant("b2", [c], 6))
        y = b.mul(b.transpose(y, perm: [0, 3, 1, 2]), constant("gamma", [1, c, 1, 1], 7))
        b.output(b.add(y, x), name: "y")
        let model = b.model()
        let feeds = ["x": Tensor(shape: [1, c, height, 6], scalars: seededFloats(c * height * 6, seed: 8))]
        let optimized = try Optimizer().optimize(model)
        #expect(optimized.graph.nodes.map(\.opType) == ["LayerNormalizationChannels", "FusedConv", "FusedConv"])
        #expect(optimized.graph.nodes[1].inputs[1] == "w1", "packed from W as it is, no transposed copy")
        #expect(optimized.graph.nodes.dropFirst().allSatisfy { $0.isTransposedWeightConv })
        #expect(!optimized.graph.initializers.keys.contains { $0.hasSuffix("_channels_first") })
        #expect(optimized.graph.nodes.last?.inputs[5] == "x", "the residual")
        #expect(optimized.graph.nodes.last?.inputs[6] == "gamma", "the layer scale, folded while packing")
        let plain = try Session(model: model, options: SessionOptions(threads: 1, optimize: false)).run(feeds)["y"]!
        let fused = try Session(model: optimized, options: SessionOptions(threads: 1, optimize: false)).run(feeds)["y"]!
        #expect(relativeDifference(try fused.floatValues(), try plain.floatValues()) < 1e-5)
    }

    @Test func constantFoldingEvaluatesConstantSubgraphs() throws {
        let b = GraphBuilder(opset: 17)
        let x = b.input("x", shape: [3])
        let folded = b.add(b.constant(Tensor(shape: [3], scalars: [Float(1), 2, 3])), b.constant(scalar: 10))
        b.output(b.mul(x, folded), name: "y")
        let (optimized, difference) = try compare(b.model(), pass: IdentityElimination(), feeds: ["x": Tensor(shape: [3], scalars: [Float(1), -1, 2])])
        #expect(optimized.graph.nodes.map(\.opType) == ["Mul"])
        #expect(try optimized.graph.initializers[optimized.graph.nodes[0].inputs[1]]?.floatValues() == [11, 12, 13])
        #expect(difference == 0)
    }

    @Test func deadNodesAndUnusedInitializersGo() throws {
        let b = GraphBuilder(opset: 17)
        let x = b.input("x", shape: [2])
        _ = b.relu(b.add(x, b.initializer("w", Tensor(shape: [2], scalars: [Float(1), 2]))))
        b.output(b.sigmoid(x), name: "y")
        var model = b.model()
        #expect(try DeadNodeElimination().run(on: &model, registry: .standard))
        #expect(model.graph.nodes.map(\.opType) == ["Sigmoid"])
        #expect(model.graph.initializers.isEmpty)
    }

    @Test func identityNodesAreBypassedButOutputNamesKept() throws {
        let b = GraphBuilder(opset: 17)
        let x = b.input("x", shape: [2])
        let r = b.relu(b.identity(x))
        b.output(b.identity(r), name: "y")
        var model = b.model()
        #expect(try IdentityElimination().run(on: &model, registry: .standard))
        #expect(model.graph.nodes.map(\.opType) == ["Relu"])
        #expect(model.graph.nodes[0].inputs == ["x"] && model.graph.nodes[0].outputs == ["y"])
        #expect(model.validate().isEmpty)
    }

    @Test func layerNormSubgraphIsRecognised() throws {
        let b = GraphBuilder(opset: 13)
        let x = b.input("x", shape: [3, 32])
        let mean = b.node("ReduceMean", [x], attributes: ["axes": .ints([-1])])[0]
        let centered = b.sub(x, mean)
        let variance = b.node("ReduceMean", [b.node("Pow", [centered, b.constant(scalar: 2)])[0]], attributes: ["axes": .ints([-1])])[0]
        let normed = b.div(centered, b.node("Sqrt", [b.add(variance, b.constant(scalar: 1e-5))])[0])
        let y = b.add(b.mul(normed, b.initializer("scale", Tensor(shape: [32], scalars: seededFloats(32, seed: 11)))),
                      b.initializer("bias", Tensor(shape: [32], scalars: seededFloats(32, seed: 12))))
        b.output(y, name: "y")
        let input = Tensor(shape: [3, 32], scalars: seededFloats(96, seed: 13, scale: 5))
        let (optimized, difference) = try compare(b.model(), pass: LayerNormFusion(), feeds: ["x": input])
        #expect(optimized.graph.nodes.map(\.opType) == ["LayerNormalization"])
        #expect(difference < 1e-5)
    }

    @Test func activationFusesIntoConvAndGemm() throws {
        let b = GraphBuilder(opset: 17)
        let x = b.input("x", shape: [1, 3, 6, 6])
        let w = b.initializer("w", Tensor(shape: [5, 3, 3, 3], scalars: seededFloats(135, seed: 20)))
        let c = b.initializer("c", Tensor(shape: [5], scalars: seededFloats(5, seed: 21)))
        let conv = b.relu(b.conv(x, w, bias: c, pads: [1, 1, 1, 1]))
        let flat = b.flatten(conv, axis: 1)
        let fcWeight = b.initializer("fw", Tensor(shape: [4, 180], scalars: seededFloats(720, seed: 22, scale: 0.1)))
        b.output(b.node("LeakyRelu", [b.gemm(flat, fcWeight, transB: true)], attributes: ["alpha": .float(0.2)])[0], name: "y")
        let input = Tensor(shape: [1, 3, 6, 6], scalars: seededFloats(108, seed: 23))
        let (optimized, difference) = try compare(b.model(), pass: ActivationFusion(), feeds: ["x": input])
        #expect(optimized.graph.nodes.map(\.opType) == ["FusedConv", "Flatten", "FusedGemm"])
        #expect(optimized.graph.nodes[2].attributes["activation_alpha"] == .float(0.2))
        #expect(difference < 1e-5)
    }

    @Test func linearBiasFusesIntoMatMulThenGelu() throws {
        let b = GraphBuilder(opset: 17)
        let x = b.input("x", shape: [2, 5, 7, 16])
        let w = b.initializer("w", Tensor(shape: [16, 24], scalars: seededFloats(384, seed: 30, scale: 0.3)))
        let bias = b.initializer("bias", Tensor(shape: [24], scalars: seededFloats(24, seed: 31)))
        b.output(b.gelu(b.add(bias, b.matMul(x, w))), name: "y")
        let input = Tensor(shape: [2, 5, 7, 16], scalars: seededFloats(1120, seed: 32, scale: 2))
        var model = b.model()
        let plain = try Session(model: model, options: SessionOptions(threads: 2, optimize: false)).run(["x": input])["y"]!
        model = try Optimizer(passes: [ConstantFolding(), GeluFusion(), MatMulBiasFusion(), ActivationFusion()]).optimize(model)
        #expect(model.graph.nodes.map(\.opType) == ["FusedMatMul"])
        #expect(model.graph.nodes[0].attributes["activation"] == .string("Gelu"))
        let fused = try Session(model: model, options: SessionOptions(threads: 2, optimize: false)).run(["x": input])["y"]!
        #expect(relativeDifference(try fused.floatValues(), try plain.floatValues()) < 1e-5)
    }
}
