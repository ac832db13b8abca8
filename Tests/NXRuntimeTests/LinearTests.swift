import NXIR
import Testing

@testable import NXRuntime

/// A small deterministic generator so random-shape tests are reproducible.
struct LinearTestRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    mutating func floats(_ count: Int) -> [Float] { (0..<count).map { _ in Float(Int(next() % 2001) - 1000) / 500 } }
}

/// Lifts 1-3 spatial sizes to exactly 3, leading ones.
private func lift(_ values: [Int], _ fill: Int) -> [Int] { [Int](repeating: fill, count: 3 - values.count) + values }

/// Direct convolution straight from the ONNX definition, for checking the fast paths.
private func referenceConv(
    x: [Float], xShape: [Int], w: [Float], wShape: [Int], bias: [Float]?, group: Int,
    strides: [Int], dilations: [Int], padsBegin: [Int], padsEnd: [Int]
) -> (values: [Float], shape: [Int]) {
    let rank = xShape.count - 2
    let (n, c, m) = (xShape[0], xShape[1], wShape[0])
    let input = lift(Array(xShape[2...]), 1), kernel = lift(Array(wShape[2...]), 1)
    let s = lift(strides, 1), d = lift(dilations, 1), pb = lift(padsBegin, 0), pe = lift(padsEnd, 0)
    var output = [Int](repeating: 1, count: 3)
    for i in 0..<3 {
        let span: Int = input[i] + pb[i] + pe[i] - (kernel[i] - 1) * d[i] - 1
        output[i] = span / s[i] + 1
    }
    let cg = c / group, mg = m / group
    var y = [Float](repeating: 0, count: n * m * output.reduce(1, *))
    var index = 0
    for b in 0..<n {
        for oc in 0..<m {
            let g = oc / mg
            for o0 in 0..<output[0] {
                for o1 in 0..<output[1] {
                    for o2 in 0..<output[2] {
                        var sum = bias?[oc] ?? 0
                        for ic in 0..<cg {
                            for k0 in 0..<kernel[0] {
                                for k1 in 0..<kernel[1] {
                                    for k2 in 0..<kernel[2] {
                                        let i0 = o0 * s[0] - pb[0] + k0 * d[0]
                                        let i1 = o1 * s[1] - pb[1] + k1 * d[1]
                                        let i2 = o2 * s[2] - pb[2] + k2 * d[2]
                                        guard i0 >= 0, i0 < input[0], i1 >= 0, i1 < input[1], i2 >= 0, i2 < input[2] else { continue }
                                        let xi: Int = (((b * c + g * cg + ic) * input[0] + i0) * input[1] + i1) * input[2] + i2
                                        let wi: Int = (((oc * cg + ic) * kernel[0] + k0) * kernel[1] + k1) * kernel[2] + k2
                                        sum += x[xi] * w[wi]
                                    }
                                }
                            }
                        }
                        y[index] = sum
                        index += 1
                    }
                }
            }
        }
    }
    return (y, [n, m] + Array(output[(3 - rank)...]))
}

/// Transposed convolution by scattering each input element, straight from its definition.
private func referenceConvTranspose(
    x: [Float], xShape: [Int], w: [Float], wShape: [Int], bias: [Float]?, group: Int,
    strides: [Int], dilations: [Int], padsBegin: [Int], padsEnd: [Int], outputPadding: [Int]
) -> (values: [Float], shape: [Int]) {
    let rank = xShape.count - 2
    let (n, c) = (xShape[0], xShape[1])
    let cg = c / group, mg = wShape[1], m = mg * group
    let input = lift(Array(xShape[2...]), 1), kernel = lift(Array(wShape[2...]), 1)
    let s = lift(strides, 1), d = lift(dilations, 1), pb = lift(padsBegin, 0), pe = lift(padsEnd, 0)
    let op = lift(outputPadding, 0)
    var output = [Int](repeating: 1, count: 3)
    for i in 0..<3 {
        let full: Int = s[i] * (input[i] - 1) + op[i] + (kernel[i] - 1) * d[i] + 1
        output[i] = full - pb[i] - pe[i]
    }
    let outputSize = output.reduce(1, *)
    var y = [Float](repeating: 0, count: n * m * outputSize)
    for b in 0..<n {
        for oc in 0..<m { for p in 0..<outputSize { y[(b * m + oc) * outputSize + p] = bias?[oc] ?? 0 } }
        for ic in 0..<c {
            let g = ic / cg
            for i0 in 0..<input[0] {
                for i1 in 0..<input[1] {
                    for i2 in 0..<input[2] {
                        let xIndex: Int = (((b * c + ic) * input[0] + i0) * input[1] + i1) * input[2] + i2
                        let value = x[xIndex]
                        for j in 0..<mg {
                            let oc = g * mg + j
                            for k0 in 0..<kernel[0] {
                                for k1 in 0..<kernel[1] {
                                    for k2 in 0..<kernel[2] {
                                        let o0 = i0 * s[0] - pb[0] + k0 * d[0]
                                        let o1 = i1 * s[1] - pb[1] + k1 * d[1]
                                        let o2 = i2 * s[2] - pb[2] + k2 * d[2]
                                        guard o0 >= 0, o0 < output[0], o1 >= 0, o1 < output[1], o2 >= 0, o2 < output[2] else { continue }
                                        let wi: Int = (((ic * mg + j) * kernel[0] + k0) * kernel[1] + k1) * kernel[2] + k2
                                        let plane: Int = (b * m + oc) * output[0] + o0
                                        let yi: Int = (plane * output[1] + o1) * output[2] + o2
                                        y[yi] += value * w[wi]
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    return (y, [n, m] + Array(output[(3 - rank)...]))
}

/// Numpy-style matmul by the definition (broadcast batch, 1-D promotion), for checking MatMul.
private func referenceMatMul(_ a: [Float], _ aShape: [Int], _ b: [Float], _ bShape: [Int]) -> (values: [Float], shape: [Int]) {
    let a2 = aShape.count == 1 ? [1] + aShape : aShape
    let b2 = bShape.count == 1 ? bShape + [1] : bShape
    let (m, k, n) = (a2[a2.count - 2], a2[a2.count - 1], b2[b2.count - 1])
    let batch = Broadcasting.shape([Array(a2.dropLast(2)), Array(b2.dropLast(2))])!
    let aStrides = Broadcasting.broadcastStrides(Array(a2.dropLast(2)), to: batch)
    let bStrides = Broadcasting.broadcastStrides(Array(b2.dropLast(2)), to: batch)
    let count = batch.reduce(1, *)
    var y = [Float](repeating: 0, count: count * m * n)
    for item in 0..<count {
        var rest = item, aMatrix = 0, bMatrix = 0
        for axis in stride(from: batch.count - 1, through: 0, by: -1) {
            let i = rest % batch[axis]
            rest /= batch[axis]
            aMatrix += i * aStrides[axis]
            bMatrix += i * bStrides[axis]
        }
        for i in 0..<m {
            for j in 0..<n {
                var sum: Float = 0
                for p in 0..<k { sum += a[aMatrix * m * k + i * k + p] * b[bMatrix * k * n + p * n + j] }
                y[(item * m + i) * n + j] = sum
            }
        }
    }
    var shape = batch
    if aShape.count > 1 { shape.append(m) }
    if bShape.count > 1 { shape.append(n) }
    return (y, shape)
}

/// The session's error text for a failing single-node run ("" when it did not fail).
func linearErrorText(_ body: () throws -> Any) -> String {
    do {
        _ = try body()
        return ""
    } catch {
        return "\(error)"
    }
}

@Suite struct ConvTests {
    @Test func paddedThreeByThreeByHand() throws {
        // ONNX's basic example: 5x5 ramp, 3x3 ones, pad 1.
        let x = Tensor(shape: [1, 1, 5, 5], scalars: (0..<25).map(Float.init))
        let w = Tensor(shape: [1, 1, 3, 3], scalars: [Float](repeating: 1, count: 9))
        let y = try runNode("Conv", inputs: [("x", x), ("w", w)], attributes: ["pads": .ints([1, 1, 1, 1])])["y"]!
        #expect(y.shape == [1, 1, 5, 5])
        let expected: [Float] = [
            12, 21, 27, 33, 24, 33, 54, 63, 72, 51, 63, 99, 108, 117, 81, 93, 144, 153, 162, 111, 72, 111, 117, 123, 84,
        ]
        #expect(try y.floatValues() == expected)
    }

    @Test func stridedGroupedWithBiasByHand() throws {
        // Two groups of one channel each, 2x2 kernel, stride 2, bias 10 / 20.
        let x = Tensor(shape: [1, 2, 2, 4], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 1, 1, 1, 1, 2, 2, 2, 2] as [Float])
        let w = Tensor(shape: [2, 1, 2, 2], scalars: [1, 0, 0, 1, 1, 1, 1, 1] as [Float])
        let b = Tensor(shape: [2], scalars: [10, 20] as [Float])
        let y = try runNode(
            "Conv", inputs: [("x", x), ("w", w), ("wb", b)], attributes: ["strides": .ints([2, 2]), "group": .int(2)])["y"]!
        #expect(y.shape == [1, 2, 1, 2])
        let expected: [Float] = [17, 21, 26, 26]  // 1+6+10, 3+8+10, 6+20, 6+20
        #expect(try y.floatValues() == expected)
    }

    @Test func sameUpperAndLowerPadTheOddPixelOnOppositeSides() throws {
        // 1-D, kernel 2: SAME_UPPER pads at the end, SAME_LOWER at the start.
        let x = Tensor(shape: [1, 1, 3], scalars: [1, 2, 3] as [Float])
        let w = Tensor(shape: [1, 1, 2], scalars: [1, 10] as [Float])
        let upper = try runNode("Conv", inputs: [("x", x), ("w", w)], attributes: ["auto_pad": .string("SAME_UPPER")])["y"]!
        let lower = try runNode("Conv", inputs: [("x", x), ("w", w)], attributes: ["auto_pad": .string("SAME_LOWER")])["y"]!
        #expect(try upper.floatValues() == [21, 32, 3])
        #expect(try lower.floatValues() == [10, 21, 32])
    }

    /// Random depthwise convolutions (the direct SIMD kernel) against the reference: odd
    /// sizes, padding, strides, dilations, with and without bias, weights constant or fed.
    @Test func depthwiseMatchesReference() throws {
        var random = LinearTestRandom(7)
        for trial in 0..<40 {
            let c = random.int(1...5), n = random.int(1...2)
            let kh = random.int(1...7), kw = random.int(1...7)
            let dh = random.int(1...2), dw = random.int(1...2)
            let sh = random.int(1...2), sw = trial % 4 == 0 ? 2 : 1
            let pads = [random.int(0...3), random.int(0...3), random.int(0...3), random.int(0...3)]
            let h = max(random.int(1...23), (kh - 1) * dh + 1), wd = max(random.int(1...40), (kw - 1) * dw + 1)
            let xShape = [n, c, h, wd], wShape = [c, 1, kh, kw]
            let x = random.floats(xShape.reduce(1, *)), w = random.floats(wShape.reduce(1, *))
            let bias = trial % 2 == 0 ? random.floats(c) : nil
            let expected = referenceConv(
                x: x, xShape: xShape, w: w, wShape: wShape, bias: bias, group: c, strides: [sh, sw], dilations: [dh, dw],
                padsBegin: [pads[0], pads[1]], padsEnd: [pads[2], pads[3]])
            var weights = ["w": Tensor(shape: wShape, scalars: w)]
            if let bias { weights["w_bias"] = Tensor(shape: [c], scalars: bias) }
            let attributes: [String: Attribute] = [
                "group": .int(c), "strides": .ints([sh, sw]), "dilations": .ints([dh, dw]), "pads": .ints(pads),
            ]
            let feed = [("x", Tensor(shape: xShape, scalars: x))]
            let y = trial % 3 == 0
                ? try runNode("Conv", inputs: feed + weights.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, attributes: attributes)["y"]!
                : try runNode("Conv", inputs: feed, constants: weights, attributes: attributes)["y"]!
            #expect(y.shape == expected.shape, "trial \(trial)")
            #expect(relativeDifference(try y.floatValues(), expected.values) < 1e-5, "trial \(trial): x \(xShape) w \(wShape) pads \(pads)")
        }
    }

    /// ConvNeXt's 7x7 stride-1 depthwise path (bands of 8 and 7 output rows; two vectors of
    /// columns at a time, or on planes one vector wide two bands of 7): heights that are and
    /// are not multiples of either, widths under 8 (8-lane vectors, whose stores spill over
    /// several rows) and over 16 (several vectors a row, an odd number of them too), a last
    /// pair of bands past the plane's bottom, asymmetric pads, on 1
    /// to 3 threads (a vector store may spill into the next plane only within one thread's
    /// planes).
    @Test(arguments: [
        (7, 7, 3, 3), (14, 14, 3, 3), (13, 20, 3, 1), (56, 9, 2, 3), (1, 30, 3, 3), (17, 5, 0, 3), (28, 28, 3, 3),
        (33, 37, 3, 3), (67, 7, 3, 3), (15, 2, 3, 3), (27, 10, 3, 3), (42, 16, 3, 3), (20, 3, 3, 3),
    ])
    func depthwiseSevenBySevenMatchesReference(_ h: Int, _ wd: Int, _ padTop: Int, _ padLeft: Int) throws {
        var random = LinearTestRandom(UInt64(h * 100 + wd))
        let c = 5, padBottom = 6 - padTop, padRight = 6 - padLeft
        let xShape = [2, c, h, wd], wShape = [c, 1, 7, 7]
        let x = random.floats(xShape.reduce(1, *)), w = random.floats(wShape.reduce(1, *)), bias = random.floats(c)
        let expected = referenceConv(
            x: x, xShape: xShape, w: w, wShape: wShape, bias: bias, group: c, strides: [1, 1], dilations: [1, 1],
            padsBegin: [padTop, padLeft], padsEnd: [padBottom, padRight])
        for threads in 1...3 {
            let y = try runNode(
                "Conv", inputs: [("x", Tensor(shape: xShape, scalars: x))],
                constants: ["w": Tensor(shape: wShape, scalars: w), "w_bias": Tensor(shape: [c], scalars: bias)],
                attributes: ["group": .int(c), "pads": .ints([padTop, padLeft, padBottom, padRight])], threads: threads)["y"]!
            #expect(y.shape == expected.shape)
            #expect(relativeDifference(try y.floatValues(), expected.values) < 1e-5, "\(threads) threads")
        }
    }

    /// Bands of 8 and 7 rows cover every height with the fewest rows: none wasted from 42 on
    /// (every larger count is a sum of 7s and 8s), and never more than 7 below.
    @Test func depthwiseBandsCoverEveryHeight() {
        for height in 1...200 {
            let plan = DepthwiseConv2D.BandPlan(height: height)
            #expect(plan.coveredRows >= height, "height \(height)")
            #expect(plan.coveredRows - height <= (height >= 42 ? 0 : 6), "height \(height): \(plan)")
        }
        #expect(DepthwiseConv2D.BandPlan(height: 14).sevens == 2)
        #expect(DepthwiseConv2D.BandPlan(height: 56).coveredRows == 56)
    }

    /// im2col + GEMM and pointwise paths in 1-D, 2-D and 3-D, grouped and not.
    @Test func generalConvolutionMatchesReference() throws {
        var random = LinearTestRandom(11)
        let cases: [(rank: Int, group: Int, cg: Int, mg: Int, kernel: Int, pointwise: Bool)] = [
            (2, 1, 3, 4, 3, false), (2, 12, 2, 2, 5, false), (2, 1, 8, 5, 1, true), (2, 2, 3, 2, 1, true),
            (1, 1, 2, 3, 4, false), (1, 4, 1, 1, 4, false), (3, 1, 2, 3, 2, false), (3, 3, 1, 1, 3, false),
            (2, 1, 4, 6, 1, false), (2, 3, 1, 2, 3, false),
        ]
        for (index, spec) in cases.enumerated() {
            let spatial = (0..<spec.rank).map { _ in random.int(spec.kernel...(spec.kernel + 9)) }
            let kernel = [Int](repeating: spec.kernel, count: spec.rank)
            let strides = spec.pointwise ? [Int](repeating: 1, count: spec.rank) : (0..<spec.rank).map { _ in random.int(1...2) }
            let dilations = spec.pointwise || spec.rank == 3 ? [Int](repeating: 1, count: spec.rank) : (0..<spec.rank).map { _ in random.int(1...2) }
            let padsBegin = spec.pointwise ? [Int](repeating: 0, count: spec.rank) : (0..<spec.rank).map { _ in random.int(0...2) }
            let padsEnd = spec.pointwise ? [Int](repeating: 0, count: spec.rank) : (0..<spec.rank).map { _ in random.int(0...2) }
            let spatialIn = zip(spatial, dilations).map { max($0, (spec.kernel - 1) * $1 + 1) }
            let xShape = [2, spec.cg * spec.group] + spatialIn, wShape = [spec.mg * spec.group, spec.cg] + kernel
            let x = random.floats(xShape.reduce(1, *)), w = random.floats(wShape.reduce(1, *))
            let bias = random.floats(wShape[0])
            let expected = referenceConv(
                x: x, xShape: xShape, w: w, wShape: wShape, bias: bias, group: spec.group, strides: strides,
                dilations: dilations, padsBegin: padsBegin, padsEnd: padsEnd)
            let y = try runNode(
                "Conv", inputs: [("x", Tensor(shape: xShape, scalars: x))],
                constants: ["w": Tensor(shape: wShape, scalars: w), "w_bias": Tensor(shape: [wShape[0]], scalars: bias)],
                attributes: [
                    "group": .int(spec.group), "strides": .ints(strides), "dilations": .ints(dilations),
                    "pads": .ints(padsBegin + padsEnd), "kernel_shape": .ints(kernel),
                ])["y"]!
            #expect(y.shape == expected.shape, "case \(index)")
            #expect(relativeDifference(try y.floatValues(), expected.values) < 1e-5, "case \(index): x \(xShape) w \(wShape)")
        }
    }

    /// The paths without im2col: Winograd F(2x2, 3x3) and one GEMM per tap (dilated 3x3,
    /// 5x5, 1-D), against the direct reference: odd sizes (a last half tile), uneven pads,
    /// groups, batch 2, constant weights (transformed at load) and fed ones (at run time).
    @Test func winogradAndTapPathsMatchReference() throws {
        var random = LinearTestRandom(23)
        let cases: [(kernel: [Int], dilation: Int, group: Int, cg: Int, mg: Int)] = [
            ([3, 3], 1, 1, 32, 7), ([3, 3], 1, 2, 40, 16), ([3, 3], 1, 1, 33, 1), ([3, 3], 2, 1, 32, 5),
            ([5, 5], 1, 1, 32, 6), ([3], 1, 1, 48, 9), ([1, 3], 1, 1, 32, 4),
        ]
        for (index, spec) in cases.enumerated() {
            let rank = spec.kernel.count
            let spatial = (0..<rank).map { i in random.int(((spec.kernel[i] - 1) * spec.dilation + 1)...37) }
            let padsBegin = (0..<rank).map { _ in random.int(0...2) }, padsEnd = (0..<rank).map { _ in random.int(0...2) }
            let dilations = [Int](repeating: spec.dilation, count: rank)
            let xShape = [2, spec.cg * spec.group] + spatial, wShape = [spec.mg * spec.group, spec.cg] + spec.kernel
            let x = random.floats(xShape.reduce(1, *)), w = random.floats(wShape.reduce(1, *))
            let bias = random.floats(wShape[0])
            let expected = referenceConv(
                x: x, xShape: xShape, w: w, wShape: wShape, bias: bias, group: spec.group,
                strides: [Int](repeating: 1, count: rank), dilations: dilations, padsBegin: padsBegin, padsEnd: padsEnd)
            let attributes: [String: Attribute] = [
                "group": .int(spec.group), "dilations": .ints(dilations), "pads": .ints(padsBegin + padsEnd),
            ]
            let weights = [("w", Tensor(shape: wShape, scalars: w)), ("w_bias", Tensor(shape: [wShape[0]], scalars: bias))]
            let feed = [("x", Tensor(shape: xShape, scalars: x))]
            for constant in [true, false] {
                let y = constant
                    ? try runNode("Conv", inputs: feed, constants: Dictionary(uniqueKeysWithValues: weights), attributes: attributes)["y"]!
                    : try runNode("Conv", inputs: feed + weights, attributes: attributes)["y"]!
                #expect(y.shape == expected.shape, "case \(index)")
                #expect(
                    relativeDifference(try y.floatValues(), expected.values) < 1e-5,
                    "case \(index) (constant weights: \(constant)): x \(xShape) w \(wShape) pads \(padsBegin)+\(padsEnd)")
            }
        }
    }

    /// PackedGEMM's two thread splits, each in guided chunks (by columns when the image is
    /// larger, by weight rows when the weights are: 400 output channels on an 18x18 map, too
    /// large for ChannelPanelGEMM), bias and activation epilogue, on 1 to 3 threads; and a
    /// 7x7 map, which runs ChannelPanelGEMM; and 50 outputs (a partial 6-row panel) on 23x23
    /// (a partial 64-column panel) with 300 channels (three K blocks, the last partial).
    @Test(arguments: [(200, 7, 128), (40, 60, 64), (400, 18, 32), (50, 23, 300)])
    func pointwiseSplitsMatchReference(_ outputs: Int, _ side: Int, _ channels: Int) throws {
        var random = LinearTestRandom(UInt64(outputs + side))
        let xShape = [1, channels, side, side], wShape = [outputs, channels, 1, 1]
        let x = random.floats(xShape.reduce(1, *)), w = random.floats(wShape.reduce(1, *)), bias = random.floats(outputs)
        let expected = referenceConv(
            x: x, xShape: xShape, w: w, wShape: wShape, bias: bias, group: 1, strides: [1, 1], dilations: [1, 1],
            padsBegin: [0, 0], padsEnd: [0, 0])
        let relu = expected.values.map { max(0, $0) }
        for threads in 1...3 {
            let y = try runNode(
                "FusedConv", inputs: [("x", Tensor(shape: xShape, scalars: x))],
                constants: ["w": Tensor(shape: wShape, scalars: w), "w_bias": Tensor(shape: [outputs], scalars: bias)],
                attributes: ["activation": .string("Relu")], threads: threads, domain: "ai.nx")["y"]!
            #expect(y.shape == expected.shape)
            #expect(relativeDifference(try y.floatValues(), relu) < 1e-5, "\(outputs) outputs, \(side)x\(side), \(threads) threads")
        }
    }

    @Test func mismatchedShapesGiveClearErrors() {
        let x = Tensor(shape: [1, 3, 5, 5], scalars: [Float](repeating: 0, count: 75))
        let w = Tensor(shape: [2, 4, 3, 3], scalars: [Float](repeating: 0, count: 72))
        #expect(linearErrorText { try runNode("Conv", inputs: [("x", x), ("w", w)]) }.contains("input has 3 channels, weight expects 4 (group 1)"))
        let w3 = Tensor(shape: [2, 3, 3], scalars: [Float](repeating: 0, count: 18))
        #expect(linearErrorText { try runNode("Conv", inputs: [("x", x), ("w", w3)]) }.contains("must have the input's rank 4"))
        let bias = Tensor(shape: [3], scalars: [Float](repeating: 0, count: 3))
        let w2 = Tensor(shape: [2, 3, 3, 3], scalars: [Float](repeating: 0, count: 54))
        #expect(linearErrorText { try runNode("Conv", inputs: [("x", x), ("w", w2), ("wb", bias)]) }.contains("bias B is [3], expected [2]"))
        let big = Tensor(shape: [2, 3, 7, 7], scalars: [Float](repeating: 0, count: 294))
        #expect(linearErrorText { try runNode("Conv", inputs: [("x", x), ("w", big)]) }.contains("gives no output"))
        #expect(linearErrorText {
            try runNode("Conv", inputs: [("x", x), ("w", w2)], attributes: ["kernel_shape": .ints([2, 2])])
        }.contains("does not match the weight's spatial shape"))
        let ints = Tensor(shape: [1, 3, 5, 5], scalars: [Int64](repeating: 0, count: 75))
        #expect(linearErrorText { try runNode("Conv", inputs: [("x", ints), ("w", w2)]) }.contains("only float32 is supported"))
    }

    @Test func flopsCountMultiplyAddsTwice() throws {
        let node = Node(name: "c", opType: "Conv", inputs: ["x", "w"], outputs: ["y"], attributes: ["group": .int(2)])
        let kernel = try ConvKernel(KernelBuildContext(node: node, opset: 17))
        let x = Tensor(shape: [1, 4, 8, 8], scalars: [Float](repeating: 0, count: 256))
        let w = Tensor(shape: [6, 2, 3, 3], scalars: [Float](repeating: 0, count: 108))
        let y = Tensor(shape: [1, 6, 6, 6], scalars: [Float](repeating: 0, count: 216))
        #expect(kernel.flops(inputs: [x, w], outputs: [y]) == 2 * 216 * 2 * 9)
    }
}

@Suite struct ConvTransposeTests {
    @Test func stridedByHand() throws {
        // 1-D, stride 2, kernel [1, 2, 3]: each input scatters a scaled kernel; overlaps add.
        let x = Tensor(shape: [1, 1, 2], scalars: [1, 10] as [Float])
        let w = Tensor(shape: [1, 1, 3], scalars: [1, 2, 3] as [Float])
        let y = try runNode("ConvTranspose", inputs: [("x", x), ("w", w)], attributes: ["strides": .ints([2])])["y"]!
        #expect(y.shape == [1, 1, 5])
        #expect(try y.floatValues() == [1, 2, 3 + 10, 20, 30])
    }

    @Test func matchesReferenceOverRandomShapes() throws {
        var random = LinearTestRandom(3)
        for trial in 0..<24 {
            let rank = trial % 3 == 2 ? 3 : (trial % 3 == 1 ? 1 : 2)
            let group = random.int(1...2), cg = random.int(1...3), mg = random.int(1...3)
            let kernel = (0..<rank).map { _ in random.int(1...4) }
            let strides = (0..<rank).map { _ in random.int(1...3) }
            let dilations = (0..<rank).map { _ in random.int(1...2) }
            let padsBegin = (0..<rank).map { i in random.int(0...min(2, (kernel[i] - 1) * dilations[i])) }
            // Pads may not eat the whole window: keep pb + pe within (kernel - 1) * dilation.
            let padsEnd = (0..<rank).map { i in random.int(0...min(2, (kernel[i] - 1) * dilations[i] - padsBegin[i])) }
            let outputPadding = (0..<rank).map { i in random.int(0...(strides[i] - 1)) }
            let xShape = [random.int(1...2), cg * group] + (0..<rank).map { _ in random.int(1...6) }
            let wShape = [cg * group, mg] + kernel
            let x = random.floats(xShape.reduce(1, *)), w = random.floats(wShape.reduce(1, *))
            let bias = trial % 2 == 0 ? random.floats(mg * group) : nil
            let expected = referenceConvTranspose(
                x: x, xShape: xShape, w: w, wShape: wShape, bias: bias, group: group, strides: strides,
                dilations: dilations, padsBegin: padsBegin, padsEnd: padsEnd, outputPadding: outputPadding)
            // Odd trials give the weight as a constant: packed at load, and for these small
            // inputs in ChannelPanelGEMM's layout.
            let weight = ("w", Tensor(shape: wShape, scalars: w))
            var inputs = [("x", Tensor(shape: xShape, scalars: x))] + (trial % 2 == 1 ? [] : [weight])
            if let bias { inputs.append(("wb", Tensor(shape: [mg * group], scalars: bias))) }
            let y = try runNode(
                "ConvTranspose", inputs: inputs, constants: trial % 2 == 1 ? ["w": weight.1] : [:],
                attributes: [
                    "group": .int(group), "strides": .ints(strides), "dilations": .ints(dilations),
                    "pads": .ints(padsBegin + padsEnd), "output_padding": .ints(outputPadding),
                ])["y"]!
            #expect(y.shape == expected.shape, "trial \(trial)")
            #expect(relativeDifference(try y.floatValues(), expected.values) < 1e-5, "trial \(trial): x \(xShape) w \(wShape)")
        }
    }

    /// Rows wider than a vector, stride 2 along them: col2im adds taps kx and kx + 1 as one
    /// interleaved pair (a 5-wide kernel: two pairs and a lone tap), and alone where pads
    /// give the two taps different ranges of inputs.
    @Test func col2imPairsTapsOnWideRows() throws {
        var random = LinearTestRandom(47)
        for (kernel, pads) in [([3, 5], [0, 0, 0, 0]), ([2, 4], [1, 1, 0, 2]), ([3, 3], [0, 2, 1, 1])] {
            let xShape = [2, 3, 4, 37], wShape = [3, 2] + kernel
            let x = random.floats(xShape.reduce(1, *)), w = random.floats(wShape.reduce(1, *)), bias = random.floats(2)
            let expected = referenceConvTranspose(
                x: x, xShape: xShape, w: w, wShape: wShape, bias: bias, group: 1, strides: [2, 2], dilations: [1, 1],
                padsBegin: Array(pads[..<2]), padsEnd: Array(pads[2...]), outputPadding: [0, 1])
            let y = try runNode(
                "ConvTranspose",
                inputs: [("x", Tensor(shape: xShape, scalars: x)), ("w", Tensor(shape: wShape, scalars: w)), ("wb", Tensor(shape: [2], scalars: bias))],
                attributes: ["strides": .ints([2, 2]), "pads": .ints(pads), "output_padding": .ints([0, 1])])["y"]!
            #expect(y.shape == expected.shape, "kernel \(kernel)")
            #expect(relativeDifference(try y.floatValues(), expected.values) < 1e-5, "kernel \(kernel) pads \(pads)")
        }
    }

    @Test func outputShapeSetsThePads() throws {
        // Full size would be 2*(3-1)+3 = 7; asking for 6 trims one pixel: at the start
        // by default (NOTSET behaves like SAME_LOWER here), at the end with SAME_UPPER.
        let x = Tensor(shape: [1, 1, 3], scalars: [1, 2, 3] as [Float])
        let w = Tensor(shape: [1, 1, 3], scalars: [1, 1, 1] as [Float])
        let full = try runNode("ConvTranspose", inputs: [("x", x), ("w", w)], attributes: ["strides": .ints([2])])["y"]!
        #expect(try full.floatValues() == [1, 1, 3, 2, 5, 3, 3])
        let lower = try runNode(
            "ConvTranspose", inputs: [("x", x), ("w", w)], attributes: ["strides": .ints([2]), "output_shape": .ints([6])])["y"]!
        #expect(try lower.floatValues() == [1, 3, 2, 5, 3, 3])
        let upper = try runNode(
            "ConvTranspose", inputs: [("x", x), ("w", w)],
            attributes: ["strides": .ints([2]), "output_shape": .ints([6]), "auto_pad": .string("SAME_UPPER")])["y"]!
        #expect(try upper.floatValues() == [1, 1, 3, 2, 5, 3])
    }

    @Test func channelMismatchIsReported() {
        let x = Tensor(shape: [1, 3, 4, 4], scalars: [Float](repeating: 0, count: 48))
        let w = Tensor(shape: [2, 1, 3, 3], scalars: [Float](repeating: 0, count: 18))
        #expect(linearErrorText { try runNode("ConvTranspose", inputs: [("x", x), ("w", w)]) }.contains("input has 3 channels, weight expects 2"))
    }
}

@Suite struct MatMulTests {
    @Test func twoByTwoByHand() throws {
        let a = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4] as [Float])
        let b = Tensor(shape: [2, 2], scalars: [5, 6, 7, 8] as [Float])
        let y = try runNode("MatMul", inputs: [("a", a), ("b", b)])["y"]!
        #expect(try y.floatValues() == [19, 22, 43, 50])
    }

    @Test(arguments: [
        ([3, 4], [4, 5]), ([4], [4]), ([3, 4], [4]), ([4], [2, 4, 5]), ([2, 3, 4], [4]), ([2, 1, 3, 4], [5, 4, 2]),
        ([1, 3, 4], [2, 4, 6]), ([2, 3, 4], [1, 4, 6]), ([6, 3, 4], [4, 2]), ([1, 1, 3, 4], [4, 2]), ([3, 4], [2, 2, 4, 3]),
        ([2, 0, 4], [4, 3]), ([3, 0], [0, 2]),
    ] as [([Int], [Int])])
    func broadcastingShapesMatchNumpy(_ aShape: [Int], _ bShape: [Int]) throws {
        var random = LinearTestRandom(UInt64(aShape.reduce(0, +) * 31 + bShape.reduce(0, +)))
        let a = random.floats(aShape.reduce(1, *)), b = random.floats(bShape.reduce(1, *))
        let expected = referenceMatMul(a, aShape, b, bShape)
        for constantB in [false, true] {
            let y = constantB
                ? try runNode("MatMul", inputs: [("a", Tensor(shape: aShape, scalars: a))], constants: ["b": Tensor(shape: bShape, scalars: b)])["y"]!
                : try runNode("MatMul", inputs: [("a", Tensor(shape: aShape, scalars: a)), ("b", Tensor(shape: bShape, scalars: b))])["y"]!
            #expect(y.shape == expected.shape)
            #expect(relativeDifference(try y.floatValues(), expected.values) < 1e-5)
        }
    }

    /// GEMMs big enough to be cut into blocks (by rows when M >= N, by columns otherwise),
    /// on 1 to 3 threads (uneven splits), with the fused bias + activation epilogue applied
    /// block by block: the same values as the definition.
    @Test(arguments: [(700, 96, 40), (30, 900, 64), (2000, 33, 17)])
    func blockedGemmWithEpilogueMatchesDefinition(_ m: Int, _ n: Int, _ k: Int) throws {
        var random = LinearTestRandom(UInt64(m * 7 + n * 3 + k))
        let a = random.floats(m * k), b = random.floats(k * n), bias = random.floats(n)
        let product = referenceMatMul(a, [m, k], b, [k, n]).values
        let expected = (0..<(m * n)).map { max(0, product[$0] + bias[$0 % n]) }
        for threads in 1...3 {
            let y = try runNode(
                "FusedMatMul", inputs: [("a", Tensor(shape: [m, k], scalars: a))],
                constants: ["b": Tensor(shape: [k, n], scalars: b), "bias": Tensor(shape: [n], scalars: bias)],
                attributes: ["activation": .string("Relu")], threads: threads, domain: "ai.nx")["y"]!
            #expect(y.shape == [m, n])
            #expect(relativeDifference(try y.floatValues(), expected) < 1e-5, "\(m)x\(n)x\(k) on \(threads) threads")
        }
    }

    @Test func mismatchesAreReported() {
        let a = Tensor(shape: [2, 3], scalars: [Float](repeating: 0, count: 6))
        let b = Tensor(shape: [4, 5], scalars: [Float](repeating: 0, count: 20))
        #expect(linearErrorText { try runNode("MatMul", inputs: [("a", a), ("b", b)]) }.contains("inner dimensions differ: A [2, 3] has K = 3, B [4, 5] has K = 4"))
        let a3 = Tensor(shape: [2, 2, 3], scalars: [Float](repeating: 0, count: 12))
        let b3 = Tensor(shape: [3, 3, 1], scalars: [Float](repeating: 0, count: 9))
        #expect(linearErrorText { try runNode("MatMul", inputs: [("a", a3), ("b", b3)]) }.contains("do not broadcast"))
    }
}

@Suite struct GemmTests {
    /// Gemm against MatMul-by-definition for every transpose and C form.
    @Test(arguments: [0, 1], [0, 1])
    func transposesAndBroadcastC(_ transA: Int, _ transB: Int) throws {
        var random = LinearTestRandom(UInt64(5 + transA * 2 + transB))
        let (m, k, n) = (3, 5, 4)
        let a = random.floats(m * k), b = random.floats(k * n)
        let plain = referenceMatMul(a, [m, k], b, [k, n]).values
        func transposed(_ values: [Float], _ rows: Int, _ columns: Int) -> [Float] {
            (0..<(rows * columns)).map { values[($0 % rows) * columns + $0 / rows] }
        }
        let aTensor = Tensor(shape: transA == 1 ? [k, m] : [m, k], scalars: transA == 1 ? transposed(a, m, k) : a)
        let bTensor = Tensor(shape: transB == 1 ? [n, k] : [k, n], scalars: transB == 1 ? transposed(b, k, n) : b)
        let cases: [([Int], (Int, Int) -> Int)] = [
            ([], { _, _ in 0 }), ([1], { _, _ in 0 }), ([n], { _, j in j }), ([1, n], { _, j in j }), ([m, 1], { i, _ in i }),
            ([m, n], { i, j in i * n + j }),
        ]
        for (cShape, cIndex) in cases {
            let c = random.floats(cShape.reduce(1, *))
            let y = try runNode(
                "Gemm", inputs: [("a", aTensor), ("b", bTensor), ("c", Tensor(shape: cShape, scalars: c))],
                attributes: ["alpha": .float(0.5), "beta": .float(2), "transA": .int(transA), "transB": .int(transB)])["y"]!
            let expected = (0..<(m * n)).map { 0.5 * plain[$0] + 2 * c[cIndex($0 / n, $0 % n)] }
            #expect(y.shape == [m, n])
            #expect(relativeDifference(try y.floatValues(), expected) < 1e-5, "C \(cShape)")
        }
        let noC = try runNode("Gemm", inputs: [("a", aTensor)], constants: ["b": bTensor], attributes: ["transA": .int(transA), "transB": .int(transB)])["y"]!
        #expect(relativeDifference(try noC.floatValues(), plain) < 1e-5)
    }

    /// One-row products (a classifier head) run as matrix-vector products, their columns
    /// split between threads: every transpose, with and without C, on 1 to 3 threads.
    @Test(arguments: [0, 1], [0, 1])
    func oneRowProducts(_ transA: Int, _ transB: Int) throws {
        var random = LinearTestRandom(UInt64(41 + transA * 2 + transB))
        let (k, n) = (300, 701)
        let a = random.floats(k), b = random.floats(k * n), c = random.floats(n)
        let plain = referenceMatMul(a, [1, k], b, [k, n]).values
        let bTensor = Tensor(
            shape: transB == 1 ? [n, k] : [k, n],
            scalars: transB == 1 ? (0..<(k * n)).map { b[($0 % k) * n + $0 / k] } : b)
        let aTensor = Tensor(shape: transA == 1 ? [k, 1] : [1, k], scalars: a)
        let attributes: [String: Attribute] = ["alpha": .float(0.5), "beta": .float(2), "transA": .int(transA), "transB": .int(transB)]
        for threads in 1...3 {
            let withC = try runNode(
                "Gemm", inputs: [("a", aTensor), ("b", bTensor), ("c", Tensor(shape: [n], scalars: c))], attributes: attributes,
                threads: threads)["y"]!
            #expect(withC.shape == [1, n])
            #expect(relativeDifference(try withC.floatValues(), (0..<n).map { 0.5 * plain[$0] + 2 * c[$0] }) < 1e-5)
            let noC = try runNode("Gemm", inputs: [("a", aTensor)], constants: ["b": bTensor], attributes: attributes, threads: threads)["y"]!
            #expect(relativeDifference(try noC.floatValues(), plain.map { 0.5 * $0 }) < 1e-5, "\(threads) threads")
        }
    }

    @Test func badShapesAreReported() {
        let a = Tensor(shape: [2, 3], scalars: [Float](repeating: 0, count: 6))
        let b = Tensor(shape: [3, 4], scalars: [Float](repeating: 0, count: 12))
        let c = Tensor(shape: [3], scalars: [Float](repeating: 0, count: 3))
        #expect(linearErrorText { try runNode("Gemm", inputs: [("a", a), ("b", b), ("c", c)]) }.contains("C [3] does not broadcast to [2, 4]"))
        #expect(linearErrorText { try runNode("Gemm", inputs: [("a", a), ("b", a)]) }.contains("inner dimensions differ"))
        let a3 = Tensor(shape: [1, 2, 3], scalars: [Float](repeating: 0, count: 6))
        #expect(linearErrorText { try runNode("Gemm", inputs: [("a", a3), ("b", b)]) }.contains("A must be 2-D, is [1, 2, 3]"))
    }
}
