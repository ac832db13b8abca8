import Testing
import NXIR
@testable import NXRuntime

/// Each pass alone: what it rewrites, what it must leave alone, and (where kernels exist)
/// that the rewritten graph computes the same outputs within 1e-5 relative.
@Suite struct OptimizerTests {
    private func seededFloats(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Float(state >> 40) / Float(1 << 23) - 1) * scale
        }
    }

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
