import Foundation
import Testing
import NXIR
@testable import NXRuntime

/// Deterministic pseudo-random floats in [low, high) (an LCG: reproducible across runs).
private func randomFloats(_ count: Int, seed: UInt64, low: Float = -2, high: Float = 2) -> [Float] {
    var state = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return low + (high - low) * Float(state >> 40) / Float(1 << 24)
    }
}

/// Double-precision layer normalization of `rows` rows of `columns`, scale/bias per column.
private func referenceLayerNorm(_ x: [Float], rows: Int, columns: Int, scale: [Float], bias: [Float]?, epsilon: Double) -> (y: [Float], mean: [Float], inverse: [Float]) {
    var y = [Float](repeating: 0, count: x.count), means: [Float] = [], inverses: [Float] = []
    for r in 0..<rows {
        let row = (0..<columns).map { Double(x[r * columns + $0]) }
        let mean = row.reduce(0, +) / Double(columns)
        let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(columns)
        let inverse = 1 / (variance + epsilon).squareRoot()
        for c in 0..<columns {
            y[r * columns + c] = Float((row[c] - mean) * inverse * Double(scale[c]) + Double(bias?[c] ?? 0))
        }
        means.append(Float(mean))
        inverses.append(Float(inverse))
    }
    return (y, means, inverses)
}

/// NCHW -> NHWC (or back with `inverse`).
private func transposeChannels(_ x: [Float], n: Int, c: Int, pixels: Int, inverse: Bool = false) -> [Float] {
    var y = [Float](repeating: 0, count: x.count)
    for i in 0..<n {
        for ch in 0..<c {
            for p in 0..<pixels {
                let nchw = (i * c + ch) * pixels + p, nhwc = (i * pixels + p) * c + ch
                if inverse { y[nchw] = x[nhwc] } else { y[nhwc] = x[nchw] }
            }
        }
    }
    return y
}

private func floats(_ tensor: Tensor?) throws -> [Float] { try #require(tensor).floatValues() }

private func errorMessage(_ body: () throws -> Void) -> String {
    do {
        try body()
        return "no error"
    } catch {
        return "\(error)"
    }
}

@Suite struct LayerNormalizationTests {
    @Test func handComputedRowsWithStatistics() throws {
        let x = Tensor(shape: [2, 4], scalars: [Float](arrayLiteral: 1, 2, 3, 4, 5, 5, 5, 5))
        let scale = Tensor(shape: [4], scalars: [Float](arrayLiteral: 1, 2, 1, 1))
        let bias = Tensor(shape: [4], scalars: [Float](arrayLiteral: 0, 0, 0, 10))
        let out = try runNode(
            "LayerNormalization", inputs: [("x", x), ("s", scale), ("b", bias)], outputs: ["y", "mean", "inv"],
            attributes: ["epsilon": .float(0)])
        // Row 0: mean 2.5, variance 1.25; row 1: constant, variance 0 so 1/sqrt(0) = inf.
        let inverse = 1 / Float(1.25).squareRoot()
        let y = try floats(out["y"])
        let expected: [Float] = [-1.5 * inverse, -0.5 * inverse * 2, 0.5 * inverse, 1.5 * inverse + 10]
        #expect(relativeDifference(Array(y[0..<4]), expected) < 1e-6)
        #expect(out["mean"]?.shape == [2, 1])
        #expect(try floats(out["mean"]) == [2.5, 5])
        #expect(out["inv"]?.shape == [2, 1])
        #expect(abs(try floats(out["inv"])[0] - inverse) < 1e-6)
    }

    @Test(arguments: [7, 16, 96, 200, 384])
    func lastAxisMatchesDoubleReference(columns: Int) throws {
        let rows = 6
        let x = randomFloats(rows * columns, seed: UInt64(columns), low: -3, high: 5)
        let scale = randomFloats(columns, seed: 99, low: 0.5, high: 1.5)
        let bias = randomFloats(columns, seed: 98)
        let reference = referenceLayerNorm(x, rows: rows, columns: columns, scale: scale, bias: bias, epsilon: 1e-6)
        // Scale and bias as initializers (packed at load) ...
        let constant = try runNode(
            "LayerNormalization", inputs: [("x", Tensor(shape: [2, 3, columns], scalars: x))],
            constants: ["s1": Tensor(shape: [columns], scalars: scale), "s2": Tensor(shape: [columns], scalars: bias)],
            outputs: ["y", "mean", "inv"], attributes: ["axis": .int(-1), "epsilon": .float(1e-6)])
        #expect(relativeDifference(try floats(constant["y"]), reference.y) < 1e-5)
        #expect(relativeDifference(try floats(constant["mean"]), reference.mean) < 1e-5)
        #expect(relativeDifference(try floats(constant["inv"]), reference.inverse) < 1e-5)
        #expect(constant["mean"]?.shape == [2, 3, 1])
        // ... and as runtime inputs.
        let dynamic = try runNode(
            "LayerNormalization",
            inputs: [("x", Tensor(shape: [2, 3, columns], scalars: x)), ("s", Tensor(shape: [columns], scalars: scale)), ("b", Tensor(shape: [columns], scalars: bias))],
            attributes: ["epsilon": .float(1e-6)])
        #expect(relativeDifference(try floats(dynamic["y"]), reference.y) < 1e-5)
    }

    @Test func innerAxisWithBroadcastScaleAndNoBias() throws {
        // axis 1 of [2, 3, 4, 5]: rows of 60, scale [4, 5] broadcast over the 3.
        let x = randomFloats(120, seed: 5)
        let scale = randomFloats(20, seed: 6, low: 0.5, high: 2)
        let dense = (0..<60).map { scale[$0 % 20] }
        let reference = referenceLayerNorm(x, rows: 2, columns: 60, scale: dense, bias: nil, epsilon: 1e-5)
        let out = try runNode(
            "LayerNormalization", inputs: [("x", Tensor(shape: [2, 3, 4, 5], scalars: x)), ("s", Tensor(shape: [4, 5], scalars: scale))],
            outputs: ["y", "mean", "inv"], attributes: ["axis": .int(1)])
        #expect(relativeDifference(try floats(out["y"]), reference.y) < 1e-5)
        #expect(out["inv"]?.shape == [2, 1, 1, 1])
    }

    @Test func largeMeanStaysAccurate() throws {
        // 1e4 + noise: E[x^2] - E[x]^2 would lose every digit of the variance in float.
        let columns = 384, rows = 4
        let x = randomFloats(rows * columns, seed: 11, low: -1, high: 1).map { $0 + 10_000 }
        let scale = [Float](repeating: 1, count: columns)
        let reference = referenceLayerNorm(x, rows: rows, columns: columns, scale: scale, bias: nil, epsilon: 1e-5)
        let out = try runNode(
            "LayerNormalization", inputs: [("x", Tensor(shape: [rows, columns], scalars: x)), ("s", Tensor(shape: [columns], scalars: scale))])
        #expect(relativeDifference(try floats(out["y"]), reference.y) < 1e-4)
    }

    @Test func scaleShapeMismatchIsReported() {
        let message = errorMessage {
            _ = try runNode(
                "LayerNormalization",
                inputs: [("x", Tensor(shape: [2, 4], scalars: [Float](repeating: 1, count: 8))), ("s", Tensor(shape: [3], scalars: [Float](repeating: 1, count: 3)))])
        }
        #expect(message.contains("Scale has shape [3], which does not broadcast"), "\(message)")
        #expect(message.contains("[4]"), "\(message)")
    }

    @Test func nonFloatInputIsReported() {
        let message = errorMessage {
            _ = try runNode(
                "LayerNormalization",
                inputs: [("x", Tensor(shape: [2], scalars: [Int64](arrayLiteral: 1, 2))), ("s", Tensor(shape: [2], scalars: [Float](arrayLiteral: 1, 1)))])
        }
        #expect(message.contains("X must be float32, is int64"), "\(message)")
    }
}

@Suite struct LayerNormalizationChannelsTests {
    /// [N, C, H, W] shapes whose pixel counts exercise 64-pixel blocks (272 pixels), 16-pixel
    /// blocks, an overlapping last block (21, 65 pixels) and partial vectors (1 pixel).
    @Test(arguments: [[2, 40, 3, 7], [1, 8, 8, 10], [1, 96, 8, 8], [2, 3, 1, 1], [1, 130, 5, 13], [2, 20, 16, 17]])
    func matchesTransposeLayerNormTranspose(shape: [Int]) throws {
        let (n, c, pixels) = (shape[0], shape[1], shape[2] * shape[3])
        let x = randomFloats(n * c * pixels, seed: UInt64(c * 31 + pixels), low: -4, high: 6)
        let scale = randomFloats(c, seed: 3, low: 0.5, high: 1.5)
        let bias = randomFloats(c, seed: 4)
        let out = try runNode(
            "LayerNormalizationChannels",
            inputs: [("x", Tensor(shape: shape, scalars: x)), ("scale", Tensor(shape: [c], scalars: scale)), ("bias", Tensor(shape: [c], scalars: bias))],
            attributes: ["epsilon": .float(1e-6)], domain: "ai.nx")
        #expect(out["y"]?.shape == shape)
        let y = try floats(out["y"])
        // Reference 1: the ONNX op on the transposed input, transposed back.
        let nhwc = transposeChannels(x, n: n, c: c, pixels: pixels)
        let viaOnnx = try runNode(
            "LayerNormalization",
            inputs: [("x", Tensor(shape: [n, shape[2], shape[3], c], scalars: nhwc)), ("scale", Tensor(shape: [c], scalars: scale)), ("bias", Tensor(shape: [c], scalars: bias))],
            attributes: ["epsilon": .float(1e-6), "axis": .int(-1)])
        let back = transposeChannels(try floats(viaOnnx["y"]), n: n, c: c, pixels: pixels, inverse: true)
        #expect(relativeDifference(y, back) < 1e-5)
        // Reference 2: double precision.
        let reference = referenceLayerNorm(nhwc, rows: n * pixels, columns: c, scale: scale, bias: bias, epsilon: 1e-6)
        #expect(relativeDifference(y, transposeChannels(reference.y, n: n, c: c, pixels: pixels, inverse: true)) < 1e-5)
    }

    /// With `output_pixel_block = 64`, Y holds the same values in panels of 64 pixels
    /// ([N][H·W/64][C][w]): pixel counts that are whole panels (64), whole panels and a last
    /// one of 16 (400), of 1 (1089) or of 9 with a 16-pixel block before it (4489), and a
    /// single partial panel (21); batch 2. A value in the wrong place differs by about 1.
    @Test(arguments: [[2, 24, 8, 8], [2, 24, 20, 20], [1, 40, 33, 33], [2, 16, 67, 67], [2, 40, 3, 7]])
    func paneledOutputHoldsTheSameValues(shape: [Int]) throws {
        let (n, c, pixels) = (shape[0], shape[1], shape[2] * shape[3])
        let x = Tensor(shape: shape, scalars: randomFloats(n * c * pixels, seed: UInt64(c + pixels), low: -4, high: 6))
        let scale = Tensor(shape: [c], scalars: randomFloats(c, seed: 3, low: 0.5, high: 1.5))
        let bias = Tensor(shape: [c], scalars: randomFloats(c, seed: 4))
        func run(_ attributes: [String: Attribute]) throws -> [Float] {
            try floats(runNode("LayerNormalizationChannels", inputs: [("x", x), ("scale", scale), ("bias", bias)], attributes: attributes, domain: "ai.nx")["y"])
        }
        let plain = try run(["epsilon": .float(1e-6)])
        let paneled = try run(["epsilon": .float(1e-6), "output_pixel_block": .int(64)])
        var expected = [Float](repeating: .nan, count: plain.count)
        for image in 0..<n {
            for channel in 0..<c {
                for pixel in 0..<pixels {
                    let first = pixel / 64 * 64
                    expected[image * c * pixels + first * c + channel * min(64, pixels - first) + pixel - first] =
                        plain[(image * c + channel) * pixels + pixel]
                }
            }
        }
        // Same values up to the summation order (the plain path runs blocks of 16 below 256 pixels).
        #expect(relativeDifference(paneled, expected) < 1e-6)
    }

    @Test func largeMeanStaysAccurate() throws {
        let (c, pixels) = (160, 256)
        let x = randomFloats(c * pixels, seed: 21, low: -1, high: 1).map { $0 + 10_000 }
        let scale = [Float](repeating: 1, count: c)
        let out = try runNode(
            "LayerNormalizationChannels", inputs: [("x", Tensor(shape: [1, c, 16, 16], scalars: x))],
            constants: ["s": Tensor(shape: [c], scalars: scale)], domain: "ai.nx")
        let reference = referenceLayerNorm(transposeChannels(x, n: 1, c: c, pixels: pixels), rows: pixels, columns: c, scale: scale, bias: nil, epsilon: 1e-5)
        #expect(relativeDifference(try floats(out["y"]), transposeChannels(reference.y, n: 1, c: c, pixels: pixels, inverse: true)) < 1e-4)
    }

    @Test func scaleShapeMismatchIsReported() {
        let message = errorMessage {
            _ = try runNode(
                "LayerNormalizationChannels",
                inputs: [("x", Tensor(shape: [1, 4, 2, 2], scalars: [Float](repeating: 1, count: 16))), ("s", Tensor(shape: [5], scalars: [Float](repeating: 1, count: 5)))],
                domain: "ai.nx")
        }
        #expect(message.contains("scale has shape [5], expected [4]"), "\(message)")
    }

    @Test func rankOtherThanFourIsReported() {
        let message = errorMessage {
            _ = try runNode(
                "LayerNormalizationChannels",
                inputs: [("x", Tensor(shape: [4, 2], scalars: [Float](repeating: 1, count: 8))), ("s", Tensor(shape: [2], scalars: [Float](repeating: 1, count: 2)))],
                domain: "ai.nx")
        }
        #expect(message.contains("must be 4-D"), "\(message)")
    }
}

@Suite struct BatchAndInstanceNormalizationTests {
    @Test func batchNormHandComputed() throws {
        // C = 2, one pixel each of two samples: y = (x - mean) / sqrt(var + eps) * s + b.
        let x = Tensor(shape: [2, 2, 1, 1], scalars: [Float](arrayLiteral: 1, 2, 3, 4))
        let out = try runNode(
            "BatchNormalization", inputs: [("x", x)],
            constants: [
                "p1": Tensor(shape: [2], scalars: [Float](arrayLiteral: 2, 1)), "p2": Tensor(shape: [2], scalars: [Float](arrayLiteral: 0, 1)),
                "p3": Tensor(shape: [2], scalars: [Float](arrayLiteral: 1, 0)), "p4": Tensor(shape: [2], scalars: [Float](arrayLiteral: 4, 0.25)),
            ],
            attributes: ["epsilon": .float(0)], opset: 15)
        #expect(try floats(out["y"]) == [0, 5, 2, 9])
    }

    @Test func batchNormPlanesMatchReference() throws {
        let (n, c, pixels) = (2, 3, 37)
        let x = randomFloats(n * c * pixels, seed: 8)
        let p = (0..<4).map { randomFloats(c, seed: UInt64(40 + $0), low: 0.1, high: 2) }
        let out = try runNode(
            "BatchNormalization",
            inputs: [("x", Tensor(shape: [n, c, pixels], scalars: x))] + p.enumerated().map { ("p\($0.offset)", Tensor(shape: [c], scalars: $0.element)) },
            opset: 9)
        var expected = [Float]()
        for i in 0..<(n * c * pixels) {
            let ch = i / pixels % c
            expected.append(Float((Double(x[i]) - Double(p[2][ch])) / (Double(p[3][ch]) + 1e-5).squareRoot() * Double(p[0][ch]) + Double(p[1][ch])))
        }
        #expect(relativeDifference(try floats(out["y"]), expected) < 1e-5)
    }

    @Test func batchNormOpset7NonSpatial() throws {
        // spatial = 0: one parameter per (channel, pixel).
        let x = Tensor(shape: [1, 2, 2], scalars: [Float](arrayLiteral: 1, 2, 3, 4))
        let ones = Tensor(shape: [2, 2], scalars: [Float](repeating: 1, count: 4))
        let out = try runNode(
            "BatchNormalization",
            inputs: [("x", x), ("s", ones), ("b", Tensor(shape: [2, 2], scalars: [Float](arrayLiteral: 0, 1, 2, 3))), ("m", ones), ("v", ones)],
            attributes: ["epsilon": .float(0), "spatial": .int(0)], opset: 7)
        #expect(try floats(out["y"]) == [0, 2, 4, 6])
    }

    @Test func batchNormParameterSizeMismatchIsReported() {
        let message = errorMessage {
            let c3 = Tensor(shape: [3], scalars: [Float](repeating: 1, count: 3))
            _ = try runNode(
                "BatchNormalization",
                inputs: [("x", Tensor(shape: [1, 3, 2], scalars: [Float](repeating: 1, count: 6))), ("s", c3), ("b", c3), ("m", Tensor(shape: [2], scalars: [Float](arrayLiteral: 1, 1))), ("v", c3)],
                opset: 15)
        }
        #expect(message.contains("input_mean has shape [2], expected 3 values"), "\(message)")
    }

    @Test func batchNormTrainingModeIsRejected() {
        let message = errorMessage {
            let c1 = Tensor(shape: [1], scalars: [Float](arrayLiteral: 1))
            _ = try runNode(
                "BatchNormalization", inputs: [("x", Tensor(shape: [1, 1, 2], scalars: [Float](arrayLiteral: 1, 2))), ("s", c1), ("b", c1), ("m", c1), ("v", c1)],
                attributes: ["training_mode": .int(1)], opset: 15)
        }
        #expect(message.contains("training_mode = 1 is not supported"), "\(message)")
    }

    @Test func instanceNormMatchesReference() throws {
        let (n, c, pixels) = (2, 3, 50)
        let x = randomFloats(n * c * pixels, seed: 12).map { $0 * 3 + 100 }
        let scale = randomFloats(c, seed: 13), bias = randomFloats(c, seed: 14)
        let out = try runNode(
            "InstanceNormalization",
            inputs: [("x", Tensor(shape: [n, c, 5, 10], scalars: x)), ("s", Tensor(shape: [c], scalars: scale)), ("b", Tensor(shape: [c], scalars: bias))],
            attributes: ["epsilon": .float(1e-3)])
        var expected = [Float]()
        for plane in 0..<(n * c) {
            let reference = referenceLayerNorm(
                Array(x[(plane * pixels)..<((plane + 1) * pixels)]), rows: 1, columns: pixels,
                scale: [Float](repeating: scale[plane % c], count: pixels), bias: [Float](repeating: bias[plane % c], count: pixels), epsilon: 1e-3)
            expected += reference.y
        }
        #expect(relativeDifference(try floats(out["y"]), expected) < 1e-5)
    }

    @Test func instanceNormScaleMismatchIsReported() {
        let message = errorMessage {
            _ = try runNode(
                "InstanceNormalization",
                inputs: [("x", Tensor(shape: [1, 2, 3], scalars: [Float](repeating: 1, count: 6))), ("s", Tensor(shape: [3], scalars: [Float](repeating: 1, count: 3))), ("b", Tensor(shape: [2], scalars: [Float](repeating: 1, count: 2)))])
        }
        #expect(message.contains("scale has shape [3], expected [2]"), "\(message)")
    }
}

/// Double-precision softmax of x viewed as [outer, length, inner] along the middle axis.
private func referenceSoftmax(_ x: [Float], outer: Int, length: Int, inner: Int, log: Bool) -> [Float] {
    var y = [Float](repeating: 0, count: x.count)
    for o in 0..<outer {
        for j in 0..<inner {
            let indices = (0..<length).map { (o * length + $0) * inner + j }
            let m = indices.map { Double(x[$0]) }.max()!
            let sum = indices.map { Foundation.exp(Double(x[$0]) - m) }.reduce(0, +)
            for i in indices { y[i] = Float(log ? Double(x[i]) - m - Foundation.log(sum) : Foundation.exp(Double(x[i]) - m) / sum) }
        }
    }
    return y
}

@Suite struct SoftmaxTests {
    @Test func handComputedExample() throws {
        let out = try runNode("Softmax", inputs: [("x", Tensor(shape: [1, 3], scalars: [Float](arrayLiteral: 1, 2, 3)))], opset: 13)
        #expect(relativeDifference(try floats(out["y"]), [0.090_030_57, 0.244_728_47, 0.665_240_96]) < 1e-6)
        let log = try runNode("LogSoftmax", inputs: [("x", Tensor(shape: [1, 3], scalars: [Float](arrayLiteral: 1, 2, 3)))], opset: 13)
        #expect(relativeDifference(try floats(log["y"]), [-2.407_605_9, -1.407_605_9, -0.407_605_9]) < 1e-6)
    }

    @Test func largeNumbersDoNotOverflow() throws {
        let x = Tensor(shape: [1, 4], scalars: [Float](arrayLiteral: 10_000, 10_001, 10_002, 10_003))
        let out = try floats(try runNode("Softmax", inputs: [("x", x)], opset: 13)["y"])
        #expect(relativeDifference(out, [0.032_058_6, 0.087_144_32, 0.236_882_82, 0.643_914_26]) < 1e-5)
    }

    @Test(arguments: [(0, false), (1, false), (2, false), (1, true), (-1, true)])
    func anyAxisMatchesReference(axis: Int, log: Bool) throws {
        let shape = [3, 21, 19]
        let x = randomFloats(3 * 21 * 19, seed: UInt64(axis + 10), low: -20, high: 20)
        let a = axis < 0 ? axis + 3 : axis
        let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *)
        let out = try runNode(log ? "LogSoftmax" : "Softmax", inputs: [("x", Tensor(shape: shape, scalars: x))], attributes: ["axis": .int(axis)], opset: 13)
        #expect(relativeDifference(try floats(out["y"]), referenceSoftmax(x, outer: outer, length: shape[a], inner: inner, log: log)) < 1e-5)
    }

    @Test(arguments: [false, true])
    func beforeOpset13CoercesTo2D(log: Bool) throws {
        // axis 1 of [2, 3, 4] normalizes rows of 12, not the 3 along axis 1.
        let x = randomFloats(24, seed: 77)
        let out = try runNode(log ? "LogSoftmax" : "Softmax", inputs: [("x", Tensor(shape: [2, 3, 4], scalars: x))], opset: 11)
        #expect(relativeDifference(try floats(out["y"]), referenceSoftmax(x, outer: 2, length: 12, inner: 1, log: log)) < 1e-5)
    }

    @Test func longRowMatchesReference() throws {
        let x = randomFloats(2 * 1000, seed: 5, low: -30, high: 10)
        let out = try runNode("Softmax", inputs: [("x", Tensor(shape: [2, 1000], scalars: x))], opset: 13)
        #expect(relativeDifference(try floats(out["y"]), referenceSoftmax(x, outer: 2, length: 1000, inner: 1, log: false)) < 1e-5)
    }
}

/// Naive reduction over `axes` of a row-major tensor, in double.
private func referenceReduce(_ x: [Double], shape: [Int], axes: Set<Int>, keepdims: Bool, _ op: String) -> (values: [Double], shape: [Int]) {
    let outShape = shape.indices.map { axes.contains($0) ? 1 : shape[$0] }
    let count = outShape.reduce(1, *)
    var accumulators = [[Double]](repeating: [], count: count)
    let strides = Broadcasting.strides(outShape)
    for flat in x.indices {
        var remainder = flat, out = 0
        for d in (0..<shape.count).reversed() {
            let index = remainder % shape[d]
            remainder /= shape[d]
            if !axes.contains(d) { out += index * strides[d] }
        }
        accumulators[out].append(x[flat])
    }
    let values = accumulators.map { list -> Double in
        switch op {
        case "sum": list.reduce(0, +)
        case "mean": list.reduce(0, +) / Double(list.count)
        default: list.max() ?? -.infinity
        }
    }
    return (values, keepdims ? outShape : shape.indices.filter { !axes.contains($0) }.map { shape[$0] })
}

@Suite struct ReductionTests {
    @Test func handComputedKeepdimsAndNot() throws {
        let x = Tensor(shape: [3, 2, 2], scalars: [Float](arrayLiteral: 5, 1, 20, 2, 30, 1, 40, 2, 55, 1, 60, 2))
        let kept = try runNode(
            "ReduceMean", inputs: [("x", x)], constants: ["axes": Tensor(shape: [1], scalars: [Int64](arrayLiteral: 1))], opset: 18)
        #expect(kept["y"]?.shape == [3, 1, 2])
        #expect(try floats(kept["y"]) == [12.5, 1.5, 35, 1.5, 57.5, 1.5])
        let dropped = try runNode(
            "ReduceSum", inputs: [("x", x), ("axes", Tensor(shape: [1], scalars: [Int64](arrayLiteral: -2)))],
            attributes: ["keepdims": .int(0)], opset: 13)
        #expect(dropped["y"]?.shape == [3, 2])
        #expect(try floats(dropped["y"]) == [25, 3, 70, 3, 115, 3])
        let maximum = try runNode("ReduceMax", inputs: [("x", x)], attributes: ["axes": .ints([0, 2])], opset: 13)
        #expect(maximum["y"]?.shape == [1, 2, 1])
        #expect(try floats(maximum["y"]) == [55, 60])
    }

    @Test(arguments: [[0], [1], [3], [0, 2], [1, 3], [0, 1, 2, 3], [0, 3], [-1, -3]])
    func anyAxesMatchReference(axes: [Int]) throws {
        let shape = [3, 4, 5, 33]
        let x = randomFloats(shape.reduce(1, *), seed: UInt64(axes.count * 7 + (axes.first ?? 0) + 3))
        let normalized = Set(axes.map { $0 < 0 ? $0 + 4 : $0 })
        for (op, name) in [("sum", "ReduceSum"), ("mean", "ReduceMean"), ("max", "ReduceMax")] {
            for keepdims in [true, false] {
                let out = try runNode(
                    name, inputs: [("x", Tensor(shape: shape, scalars: x))],
                    attributes: ["axes": .ints(axes), "keepdims": .int(keepdims ? 1 : 0)], opset: 11)
                let reference = referenceReduce(x.map(Double.init), shape: shape, axes: normalized, keepdims: keepdims, op)
                #expect(out["y"]?.shape == reference.shape, "\(name) \(axes)")
                #expect(relativeDifference(try floats(out["y"]), reference.values.map(Float.init)) < 1e-5, "\(name) \(axes) keepdims \(keepdims)")
            }
        }
    }

    @Test func integerReductions() throws {
        let x = Tensor(shape: [2, 3], scalars: [Int64](arrayLiteral: 1, 2, 4, -7, 8, 100))
        let sum = try runNode("ReduceSum", inputs: [("x", x)], attributes: ["axes": .ints([1]), "keepdims": .int(0)], opset: 11)
        #expect(try #require(sum["y"]).scalars(as: Int64.self) == [7, 101])
        let mean = try runNode("ReduceMean", inputs: [("x", x)], attributes: ["axes": .ints([1]), "keepdims": .int(0)], opset: 11)
        #expect(try #require(mean["y"]).scalars(as: Int64.self) == [2, 33])
        let x32 = Tensor(shape: [2, 3], scalars: [Int32](arrayLiteral: 1, 2, 4, -7, 8, 100))
        let max = try runNode("ReduceMax", inputs: [("x", x32)], attributes: ["axes": .ints([0])], opset: 11)
        #expect(try #require(max["y"]).scalars(as: Int32.self) == [1, 8, 100])
    }

    @Test func boolMaxIsLogicalOr() throws {
        let x = Tensor(dataType: .bool, shape: [3, 2], bytes: [1, 0, 0, 0, 0, 1] as [UInt8])
        let out = try runNode("ReduceMax", inputs: [("x", x), ("axes", Tensor(shape: [1], scalars: [Int64](arrayLiteral: 1)))], opset: 20)
        let y = try #require(out["y"])
        #expect(y.dataType == .bool && y.shape == [3, 1])
        #expect(Array(y.storage.bytes) == [1, 0, 1])
    }

    @Test func emptyAxesReduceAllOrNothing() throws {
        let x = Tensor(shape: [2, 2], scalars: [Float](arrayLiteral: 1, 2, 3, 4))
        let empty = Tensor(shape: [0], scalars: [Int64]())
        let all = try runNode("ReduceSum", inputs: [("x", x), ("axes", empty)], attributes: ["keepdims": .int(0)], opset: 13)
        #expect(all["y"]?.shape == [])
        #expect(try floats(all["y"]) == [10])
        let noop = try runNode("ReduceSum", inputs: [("x", x), ("axes", empty)], attributes: ["noop_with_empty_axes": .int(1)], opset: 13)
        #expect(noop["y"]?.shape == [2, 2])
        #expect(try floats(noop["y"]) == [1, 2, 3, 4])
        let omitted = try runNode("ReduceMean", inputs: [("x", x)], opset: 18)
        #expect(omitted["y"]?.shape == [1, 1])
        #expect(try floats(omitted["y"]) == [2.5])
    }

    @Test func emptySetReductions() throws {
        let x = Tensor(shape: [2, 0, 4], scalars: [Float]())
        let axes = Tensor(shape: [1], scalars: [Int64](arrayLiteral: 1))
        let sum = try runNode("ReduceSum", inputs: [("x", x), ("axes", axes)], opset: 13)
        #expect(sum["y"]?.shape == [2, 1, 4])
        #expect(try floats(sum["y"]) == [Float](repeating: 0, count: 8))
        let max = try runNode("ReduceMax", inputs: [("x", x), ("axes", axes)], opset: 18)
        #expect(try floats(max["y"]) == [Float](repeating: -.infinity, count: 8))
        let mean = try runNode("ReduceMean", inputs: [("x", x), ("axes", axes)], opset: 18)
        #expect(try floats(mean["y"]).allSatisfy(\.isNaN))
        let keptZero = try runNode("ReduceSum", inputs: [("x", x), ("axes", Tensor(shape: [1], scalars: [Int64](arrayLiteral: 2)))], opset: 13)
        #expect(keptZero["y"]?.shape == [2, 0, 1])
    }

    @Test func badAxesAreReported() {
        let x = Tensor(shape: [2, 2], scalars: [Float](arrayLiteral: 1, 2, 3, 4))
        let duplicate = errorMessage { _ = try runNode("ReduceSum", inputs: [("x", x)], attributes: ["axes": .ints([1, -1])], opset: 11) }
        #expect(duplicate.contains("appears twice"), "\(duplicate)")
        let outOfRange = errorMessage { _ = try runNode("ReduceMax", inputs: [("x", x)], attributes: ["axes": .ints([2])], opset: 11) }
        #expect(outOfRange.contains("axes entry 2 is out of range for rank 2"), "\(outOfRange)")
        let boolSum = errorMessage {
            _ = try runNode("ReduceSum", inputs: [("x", Tensor(dataType: .bool, shape: [2], bytes: [1, 0] as [UInt8]))], opset: 13)
        }
        #expect(boolSum.contains("is bool"), "\(boolSum)")
    }
}
