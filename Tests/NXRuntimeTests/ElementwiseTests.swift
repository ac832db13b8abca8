import Foundation
import NXIR
import Testing

@testable import NXRuntime

// MARK: Helpers

/// Runs a kernel directly (for omitted optional inputs and misaligned storage).
private func runKernel(_ kernel: any Kernel, _ inputs: [Tensor?], threads: Int = 2) throws -> [Tensor] {
    try kernel.run(inputs, context: ExecutionContext(threads: threads, pool: BufferPool()))
}

private func floats(_ tensor: Tensor?) throws -> [Float] { try #require(tensor).scalars(as: Float.self) }

/// Deterministic values in [low, high).
private func elementwiseRandom(_ count: Int, seed: UInt64, low: Float = -4, high: Float = 4) -> [Float] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<count).map { _ in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return low + (high - low) * Float(state >> 40) / Float(1 << 24)
    }
}

/// numpy broadcasting straight from the definition: each output index mapped to each input.
private func referenceBroadcast<T, U>(_ a: [T], _ aShape: [Int], _ b: [T], _ bShape: [Int], _ f: (T, T) -> U) -> (values: [U], shape: [Int]) {
    let shape = Broadcasting.shape([aShape, bShape])!
    let aStrides = Broadcasting.broadcastStrides(aShape, to: shape)
    let bStrides = Broadcasting.broadcastStrides(bShape, to: shape)
    let count = shape.reduce(1, *)
    var values: [U] = []
    values.reserveCapacity(count)
    for flat in 0..<count {
        var rest = flat, ai = 0, bi = 0
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            let i = rest % shape[axis]
            rest /= shape[axis]
            ai += i * aStrides[axis]
            bi += i * bStrides[axis]
        }
        values.append(f(a[ai], b[bi]))
    }
    return (values, shape)
}

/// Evaluates a 16-lane function over `xs`.
private func sweep(_ xs: [Float], _ f: (SIMD16<Float>) -> SIMD16<Float>) -> [Float] {
    var out = [Float](repeating: 0, count: xs.count)
    for start in stride(from: 0, to: xs.count, by: 16) {
        var v = SIMD16<Float>()
        let n = min(16, xs.count - start)
        for lane in 0..<n { v[lane] = xs[start + lane] }
        let r = f(v)
        for lane in 0..<n { out[start + lane] = r[lane] }
    }
    return out
}

/// Largest relative error of `got` against double-precision `reference`, ignoring
/// references below `floor` in magnitude (where absolute error is what matters).
private func maxRelativeError(_ xs: [Float], _ got: [Float], _ reference: (Double) -> Double, floor: Double = 1e-30) -> (error: Double, at: Float) {
    var worst = (error: 0.0, at: Float(0))
    for (x, y) in zip(xs, got) {
        let r = reference(Double(x))
        guard abs(r) >= floor else { continue }
        let e = abs(Double(y) - r) / abs(r)
        if e > worst.error { worst = (e, x) }
    }
    return worst
}

private func grid(_ low: Float, _ high: Float, count: Int) -> [Float] {
    (0..<count).map { low + (high - low) * Float($0) / Float(count - 1) }
}

// MARK: Vectorized math accuracy

@Suite struct ElementwiseMathTests {
    @Test func expIsAccurateOverItsRange() {
        let xs = grid(-87.3, 88.7, count: 60_001) + grid(-1, 1, count: 20_001)
        let (error, at) = maxRelativeError(xs, sweep(xs, ElementwiseMath.exp), Foundation.exp)
        #expect(error < 2.5e-7, "exp max relative error \(error) at \(at)")
        // Subnormal results keep their (reduced) precision rather than flushing to zero.
        for x in [-88, -90, -95, -100] as [Float] {
            let (got, reference) = (Double(ElementwiseMath.exp(x)), Foundation.exp(Double(x)))
            #expect(abs(got - reference) <= 0x1p-149, "exp(\(x)) = \(got), expected \(reference)")
        }
    }

    @Test func erfIsAccurateEverywhere() {
        let xs = grid(-6, 6, count: 120_001) + grid(-1e-3, 1e-3, count: 2_001) + [1e-30, -1e-20, 1e-8]
        let (error, at) = maxRelativeError(xs, sweep(xs, ElementwiseMath.erf), Foundation.erf)
        #expect(error < 2.5e-7, "erf max relative error \(error) at \(at)")
    }

    @Test func tanhIsAccurateEverywhere() {
        let xs = grid(-12, 12, count: 120_001) + grid(-1e-3, 1e-3, count: 2_001) + [1e-30, -1e-20]
        let (error, at) = maxRelativeError(xs, sweep(xs, ElementwiseMath.tanh), Foundation.tanh)
        #expect(error < 2.5e-7, "tanh max relative error \(error) at \(at)")
    }

    @Test func sigmoidIsAccurateEverywhere() {
        let xs = grid(-80, 40, count: 120_001)
        let (error, at) = maxRelativeError(xs, sweep(xs, ElementwiseMath.sigmoid)) { 1 / (1 + Foundation.exp(-$0)) }
        #expect(error < 3e-7, "sigmoid max relative error \(error) at \(at)")
    }

    @Test func geluMatchesTheDefinition() {
        let xs = grid(-8, 8, count: 40_001)
        let exact = sweep(xs, ElementwiseMath.gelu)
        let approximate = sweep(xs, ElementwiseMath.geluTanh)
        for (index, x) in xs.enumerated() {
            let d = Double(x)
            let reference = 0.5 * d * (1 + Foundation.erf(d / 2.0.squareRoot()))
            #expect(abs(Double(exact[index]) - reference) <= 1e-6 * max(1, abs(reference)), "gelu(\(x))")
            let tanhReference = 0.5 * d * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (d + 0.044715 * d * d * d)))
            #expect(abs(Double(approximate[index]) - tanhReference) <= 1e-6 * max(1, abs(tanhReference)), "gelu tanh(\(x))")
        }
    }

    /// GELU picks its path per vector (short polynomial, rational erf, erfc tail); a grid
    /// keeps each vector on one path, so here every vector mixes lanes from all three.
    @Test func geluMixesPathsWithinAVector() {
        // The first pattern reaches the erfc tail in every vector; the second does so only
        // once its scale passes 1.03 (-2.4 x 1.03 < -1.75√2), so its first vectors take the
        // rational erf with lanes of every size.
        let tail: [Float] = [-0.3, 0.9, 2.5, -1.2, -3.1, 6, -9, 0.05, 1.7, -2.4, -0.8, 3.9, -12, 0.4, -1.9, 12]
        let rational: [Float] = [-0.3, 0.9, 2.5, -1.2, -2.2, 6, -2.4, 0.05, 1.7, -2.0, -0.8, 3.9, 9, 0.4, -1.9, 12]
        let xs: [Float] = (0..<4000).map { (index: Int) -> Float in
            let scale = 1 + Float(index / 32) * 0.001
            return (index / 16 % 2 == 0 ? tail : rational)[index % 16] * scale
        }
        let (error, at) = maxRelativeError(xs, sweep(xs, ElementwiseMath.gelu)) { 0.5 * $0 * Foundation.erfc(-$0 / 2.0.squareRoot()) }
        #expect(error < 3e-5, "gelu mixed-path max relative error \(error) at \(at)")
    }

    /// Exact GELU keeps relative accuracy in the negative tail, where 1 + erf cancels, down
    /// to -12.7; below, the true value is under 1e-36 and GELU gives -0.
    @Test func geluNegativeTailIsRelativelyAccurate() {
        for x in [-12.71, -20, -1e6, -Float.infinity] as [Float] {
            let y = ElementwiseMath.gelu(x)
            #expect(y == 0 && y.sign == .minus, "gelu(\(x)) = \(y)")
        }
        let xs = grid(-12.7, -1, count: 20_001)
        let (error, at) = maxRelativeError(xs, sweep(xs, ElementwiseMath.gelu)) { 0.5 * $0 * Foundation.erfc(-$0 / 2.0.squareRoot()) }
        #expect(error < 3e-5, "gelu tail max relative error \(error) at \(at)")
    }

    @Test func specialValues() {
        let nan = Float.nan, inf = Float.infinity
        #expect(ElementwiseMath.exp(nan).isNaN)
        #expect(ElementwiseMath.exp(inf) == inf)
        #expect(ElementwiseMath.exp(-inf) == 0)
        #expect(ElementwiseMath.exp(89) == inf)
        #expect(ElementwiseMath.exp(0) == 1)
        #expect(ElementwiseMath.erf(nan).isNaN)
        #expect(ElementwiseMath.erf(inf) == 1 && ElementwiseMath.erf(-inf) == -1)
        #expect(ElementwiseMath.erf(0) == 0 && ElementwiseMath.erf(-0.0).sign == .minus)
        #expect(ElementwiseMath.tanh(nan).isNaN)
        #expect(ElementwiseMath.tanh(inf) == 1 && ElementwiseMath.tanh(-inf) == -1)
        #expect(ElementwiseMath.sigmoid(nan).isNaN)
        #expect(ElementwiseMath.sigmoid(inf) == 1 && ElementwiseMath.sigmoid(-inf) == 0)
        #expect(ElementwiseMath.sigmoid(0) == 0.5)
        #expect(ElementwiseMath.gelu(inf) == inf && ElementwiseMath.gelu(0) == 0)
    }
}

// MARK: Broadcasting

@Suite struct ElementwiseBroadcastTests {
    @Test func planCoalescesTheCommonCases() throws {
        let same = try #require(BinaryBroadcast([[2, 3, 4], [2, 3, 4]]))
        #expect(same.dims == [24] && same.steps == SIMD4(1, 1, 0, 0))
        let scalar = try #require(BinaryBroadcast([[2, 3, 4], []]))
        #expect(scalar.dims == [24] && scalar.steps == SIMD4(1, 0, 0, 0))
        let channel = try #require(BinaryBroadcast([[2, 8, 5, 5], [8, 1, 1]]))
        #expect(channel.dims == [2, 8, 25] && channel.steps == SIMD4(1, 0, 0, 0))
        let trailing = try #require(BinaryBroadcast([[6, 7, 16], [16]]))
        #expect(trailing.dims == [42, 16] && trailing.steps == SIMD4(1, 1, 0, 0))
        let outer = try #require(BinaryBroadcast([[3, 1], [1, 4]]))
        #expect(outer.shape == [3, 4] && outer.dims == [3, 4] && outer.steps == SIMD4(0, 1, 0, 0))
        #expect(BinaryBroadcast([[2, 3], [4, 3]]) == nil)
    }

    @Test(arguments: [
        ([2, 3, 4], [2, 3, 4]), ([2, 3, 4], [4]), ([2, 3, 4], []), ([], [5]), ([2, 3, 4], [3, 1]),
        ([3, 1], [1, 4]), ([1, 3, 1, 5], [2, 1, 4, 1]), ([2, 8, 5, 5], [8, 1, 1]), ([1], [7, 1]),
        ([2, 0, 3], [3]), ([4, 1, 1], [1, 1]), ([5, 1, 3], [1, 6, 1]),
    ])
    func addMatchesDefinition(_ aShape: [Int], _ bShape: [Int]) throws {
        let a = elementwiseRandom(aShape.reduce(1, *), seed: 1)
        let b = elementwiseRandom(bShape.reduce(1, *), seed: 2)
        for opset in [7, 14] {
            let result = try runNode(
                "Sub", inputs: [("a", Tensor(shape: aShape, scalars: a)), ("b", Tensor(shape: bShape, scalars: b))], opset: opset)
            let expected = referenceBroadcast(a, aShape, b, bShape, -)
            #expect(result["y"]?.shape == expected.shape)
            #expect(try floats(result["y"]) == expected.values)
        }
        let ai = a.map { Int64($0 * 1000) }, bi = b.map { Int64($0 * 1000) }
        let ints = try runNode("Mul", inputs: [("a", Tensor(shape: aShape, scalars: ai)), ("b", Tensor(shape: bShape, scalars: bi))])
        #expect(try #require(ints["y"]).scalars(as: Int64.self) == referenceBroadcast(ai, aShape, bi, bShape, *).values)
    }

    /// Past the parallel threshold, in every fast-path shape, with threads splitting runs
    /// in the middle.
    @Test(arguments: [
        ([2, 35_001], [2, 35_001]), ([2, 35_001], []), ([2, 16, 45, 49], [16, 1, 1]), ([4_001, 17], [17]),
        ([150, 1, 3], [1, 160, 1]),
    ])
    func largeTensorsMatchDefinition(_ aShape: [Int], _ bShape: [Int]) throws {
        let a = elementwiseRandom(aShape.reduce(1, *), seed: 3)
        let b = elementwiseRandom(bShape.reduce(1, *), seed: 4)
        let expected = referenceBroadcast(a, aShape, b, bShape, +)
        for threads in [2, 3] {
            let y = try runKernel(ArithmeticKernel(.add), [Tensor(shape: aShape, scalars: a), Tensor(shape: bShape, scalars: b)], threads: threads)
            #expect(y[0].shape == expected.shape)
            #expect(try floats(y[0]) == expected.values, "threads \(threads)")
        }
    }

    @Test func misalignedInputsAreRead() throws {
        // A mapped weight may start at any byte: lend a buffer shifted by one byte.
        let values: [Float] = (0..<37).map { Float($0) * 0.5 }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 * 37 + 1, alignment: 64)
        let shifted = UnsafeMutableRawBufferPointer(rebasing: buffer[1...])
        values.withUnsafeBytes { shifted.copyMemory(from: $0) }
        let storage = TensorStorage(lending: shifted, count: 4 * 37) { lent in (lent.baseAddress! - 1).deallocate() }
        let weight = Tensor(dataType: .float32, shape: [37], storage: storage)
        let y = try runKernel(ArithmeticKernel(.mul), [weight, Tensor(scalar: Float(2))])
        #expect(try floats(y[0]) == values.map { $0 * 2 })
        let e = try runKernel(UnaryKernel("Neg", .neg), [weight])
        #expect(try floats(e[0]) == values.map { -$0 })
        let c = try runKernel(CastKernel(KernelBuildContext(node: Node(name: "c", opType: "Cast", inputs: ["x"], outputs: ["y"], attributes: ["to": .int(7)]), opset: 13)), [weight])
        #expect(try c[0].scalars(as: Int64.self) == values.map { Int64($0) })
    }

    @Test func errorsNameTheProblem() throws {
        let a = Tensor(shape: [2, 3], scalars: [Float](repeating: 1, count: 6))
        let b = Tensor(shape: [4], scalars: [Float](repeating: 1, count: 4))
        #expect(throws: (any Error).self) { try runNode("Add", inputs: [("a", a), ("b", b)]) }
        do {
            _ = try runKernel(ArithmeticKernel(.add), [a, b])
            Issue.record("expected an error")
        } catch let error as KernelError {
            #expect(error.message.contains("[2, 3]") && error.message.contains("[4]") && error.message.contains("broadcast"))
        }
        do {
            _ = try runKernel(ArithmeticKernel(.add), [a, Tensor(shape: [3], scalars: [Int64(1), 2, 3])])
            Issue.record("expected an error")
        } catch let error as KernelError {
            #expect(error.message.contains("float32") && error.message.contains("int64"))
        }
        do {
            _ = try runKernel(UnaryKernel("Exp", .exp), [Tensor(shape: [1], scalars: [Int64(1)])])
            Issue.record("expected an error")
        } catch let error as KernelError {
            #expect(error.message.contains("Exp") && error.message.contains("int64"))
        }
        do {
            _ = try runKernel(WhereKernel(), [a, a, a])
            Issue.record("expected an error")
        } catch let error as KernelError {
            #expect(error.message.contains("bool"))
        }
        #expect(throws: (any Error).self) {
            try runNode("Gelu", inputs: [("x", a)], attributes: ["approximate": .string("fast")], opset: 20)
        }
        #expect(throws: (any Error).self) {
            try runNode("Cast", inputs: [("x", a)], attributes: ["to": .int(17)], opset: 19)  // float8e4m3fn
        }
        #expect(throws: (any Error).self) { try runKernel(ArithmeticKernel(.add), [a]) }
    }
}

// MARK: Arithmetic, comparisons, Pow

@Suite struct ElementwiseArithmeticTests {
    @Test func integerDivisionTruncatesAndNeverTraps() throws {
        let a = Tensor(shape: [6], scalars: [Int32(-3), 3, -3, 3, 7, Int32.min])
        let b = Tensor(shape: [6], scalars: [Int32(2), 2, -2, -2, 0, -1])
        let y = try runNode("Div", inputs: [("a", a), ("b", b)], opset: 14)
        #expect(try #require(y["y"]).scalars(as: Int32.self) == [-1, 1, 1, -1, 0, Int32.min])
    }

    @Test func floatDivisionFollowsIEEE() throws {
        let y = try runNode("Div", inputs: [("a", Tensor(shape: [3], scalars: [Float(1), -1, 0])), ("b", Tensor(scalar: Float(0)))])
        let v = try floats(y["y"])
        #expect(v[0] == .infinity && v[1] == -.infinity && v[2].isNaN)
    }

    @Test func variadicMinMaxBroadcast() throws {
        let a = Tensor(shape: [2, 1], scalars: [Float(1), 5])
        let b = Tensor(shape: [3], scalars: [Float(4), 0, 2])
        let c = Tensor(scalar: Float(3))
        let y = try runNode("Max", inputs: [("a", a), ("b", b), ("c", c)], opset: 13)
        #expect(y["y"]?.shape == [2, 3])
        #expect(try floats(y["y"]) == [4, 3, 3, 5, 5, 5])
        let z = try runNode("Min", inputs: [("a", a), ("b", b), ("c", c)], opset: 8)
        #expect(try floats(z["y"]) == [1, 0, 1, 3, 0, 2])
        let one = try runNode("Min", inputs: [("a", a)], opset: 13)
        #expect(try floats(one["y"]) == [1, 5])
        let ints = try runNode(
            "Max", inputs: [("a", Tensor(shape: [2], scalars: [Int64(-1), 9])), ("b", Tensor(shape: [2], scalars: [Int64(3), 2]))])
        #expect(try #require(ints["y"]).scalars(as: Int64.self) == [3, 9])
        let nan = try runNode("Max", inputs: [("a", Tensor(shape: [2], scalars: [Float.nan, 1])), ("b", Tensor(shape: [2], scalars: [Float(0), .nan]))])
        #expect(try floats(nan["y"]).allSatisfy(\.isNaN))
    }

    @Test func comparisons() throws {
        let a = Tensor(shape: [2, 2], scalars: [Float(1), 2, 3, 4])
        let b = Tensor(shape: [2], scalars: [Float(2), 2])
        #expect(try #require(runNode("Less", inputs: [("a", a), ("b", b)])["y"]).scalars(as: Bool.self) == [true, false, false, false])
        #expect(try #require(runNode("Greater", inputs: [("a", a), ("b", b)])["y"]).scalars(as: Bool.self) == [false, false, true, true])
        #expect(try #require(runNode("Equal", inputs: [("a", a), ("b", b)])["y"]).scalars(as: Bool.self) == [false, true, false, false])
        let p = Tensor(shape: [3], scalars: [true, false, true])
        let q = Tensor(shape: [1], scalars: [true])
        #expect(try #require(runNode("Equal", inputs: [("a", p), ("b", q)], opset: 19)["y"]).scalars(as: Bool.self) == [true, false, true])
        let i = Tensor(shape: [3], scalars: [Int32(-5), 0, 5])
        #expect(try #require(runNode("Less", inputs: [("a", i), ("b", Tensor(scalar: Int32(0)))])["y"]).scalars(as: Bool.self) == [true, false, false])
        #expect(throws: (any Error).self) { try runNode("Less", inputs: [("a", p), ("b", q)]) }
    }

    @Test func powAcrossTypes() throws {
        let x = Tensor(shape: [3], scalars: [Float(1), 2, 3])
        let square = try runNode("Pow", inputs: [("x", x), ("e", Tensor(scalar: Float(2)))], opset: 15)
        #expect(try floats(square["y"]) == [1, 4, 9])
        let general = try runNode("Pow", inputs: [("x", x), ("e", Tensor(shape: [3], scalars: [Float(0.5), -1, 3]))], opset: 15)
        #expect(try floats(general["y"]) == [1, 0.5, 27])
        let integerExponent = try runNode("Pow", inputs: [("x", x), ("e", Tensor(shape: [3], scalars: [Int64(4), 5, 6]))], opset: 15)
        #expect(try floats(integerExponent["y"]) == [1, 32, 729])
        let integers = try runNode(
            "Pow", inputs: [("x", Tensor(shape: [5], scalars: [Int64(2), -3, 1, -1, 2])), ("e", Tensor(shape: [5], scalars: [Int64(10), 3, -4, -3, -1]))],
            opset: 15)
        #expect(try #require(integers["y"]).scalars(as: Int64.self) == [1024, -27, 1, -1, 0])
        let mixed = try runNode("Pow", inputs: [("x", Tensor(shape: [3], scalars: [Int32(1), 2, 3])), ("e", Tensor(shape: [3], scalars: [Float(4), 5, 0.5]))], opset: 15)
        #expect(try #require(mixed["y"]).scalars(as: Int32.self) == [1, 32, 1])
    }
}

// MARK: Unary functions

@Suite struct ElementwiseUnaryTests {
    @Test func activationsByHand() throws {
        let x = Tensor(shape: [5], scalars: [Float(-3), -1, 0, 1, 4])
        func run(_ op: String, _ attributes: [String: Attribute] = [:], opset: Int = 22) throws -> [Float] {
            try floats(runNode(op, inputs: [("x", x)], attributes: attributes, opset: opset)["y"])
        }
        #expect(try run("Relu") == [0, 0, 0, 1, 4])
        #expect(try run("LeakyRelu", ["alpha": .float(0.1)]) == [-0.3, -0.1, 0, 1, 4].map { Float($0) })
        #expect(try run("LeakyRelu") == [-0.03, -0.01, 0, 1, 4].map { Float($0) })
        #expect(try run("HardSigmoid") == [0, 0.3, 0.5, 0.7, 1].map { Float($0) })
        #expect(try run("HardSigmoid", ["alpha": .float(0.5), "beta": .float(0.25)]) == [0, 0, 0.25, 0.75, 1])
        #expect(relativeDifference(try run("HardSwish"), [0, -1.0 / 3, 0, 2.0 / 3, 4].map { Float($0) }) < 1e-7)
        #expect(try run("Neg") == [3, 1, 0, -1, -4])
        #expect(try run("Abs") == [3, 1, 0, 1, 4])
        #expect(try run("Reciprocal")[3...] == [1, 0.25])
        #expect(try run("Sqrt")[2...] == [0, 1, 2])
        #expect(try run("Sqrt")[0].isNaN)
        #expect(try run("Log")[2...] == [-.infinity, 0, Float(Foundation.log(4.0))])
        let gelu = try run("Gelu", opset: 20)
        #expect(abs(gelu[3] - 0.841_344_75) < 1e-7 && abs(gelu[0] - -0.004_049_71) < 1e-7)
        let geluTanh = try run("Gelu", ["approximate": .string("tanh")], opset: 20)
        #expect(abs(geluTanh[3] - 0.841_191_99) < 1e-7)
        let ints = try runNode("Abs", inputs: [("x", Tensor(shape: [3], scalars: [Int64(-7), 0, 7]))])
        #expect(try #require(ints["y"]).scalars(as: Int64.self) == [7, 0, 7])
        let negated = try runNode("Neg", inputs: [("x", Tensor(shape: [2], scalars: [Int32(-7), 3]))])
        #expect(try #require(negated["y"]).scalars(as: Int32.self) == [7, -3])
    }

    /// Every element, including the padded tail and both sides of a thread split, goes
    /// through the same vector arithmetic.
    @Test func largeTensorsUseEveryLane() throws {
        let count = 100_003
        let x = elementwiseRandom(count, seed: 9, low: -6, high: 6)
        let y = try runKernel(UnaryKernel("Erf", .erf), [Tensor(shape: [count], scalars: x)])
        let expected = x.map { ElementwiseMath.erf($0) }
        #expect(try floats(y[0]) == expected)
        let s = try runKernel(UnaryKernel("Sigmoid", .sigmoid), [Tensor(shape: [count], scalars: x)], threads: 3)
        #expect(try floats(s[0]) == x.map { ElementwiseMath.sigmoid($0) })
    }

    @Test func emptyTensors() throws {
        let empty = Tensor(shape: [0, 3], scalars: [Float]())
        #expect(try runKernel(UnaryKernel("Exp", .exp), [empty])[0].shape == [0, 3])
        #expect(try runKernel(ArithmeticKernel(.add), [empty, Tensor(shape: [3], scalars: [Float(1), 2, 3])])[0].shape == [0, 3])
    }
}

// MARK: Clip, Where, Cast

@Suite struct ElementwiseSelectionTests {
    @Test func clipByAttributesAndInputs() throws {
        let x = Tensor(shape: [5], scalars: [Float(-3), -1, 0, 1, 4])
        let old = try runNode("Clip", inputs: [("x", x)], attributes: ["min": .float(-1.5), "max": .float(2)], opset: 6)
        #expect(try floats(old["y"]) == [-1.5, -1, 0, 1, 2])
        let defaults = try runNode("Clip", inputs: [("x", x)], opset: 6)
        #expect(try floats(defaults["y"]) == [-3, -1, 0, 1, 4])
        let both = try runNode("Clip", inputs: [("x", x), ("lo", Tensor(scalar: Float(-2))), ("hi", Tensor(scalar: Float(0.5)))], opset: 13)
        #expect(try floats(both["y"]) == [-2, -1, 0, 0.5, 0.5])
        // Only max given: min omitted ("" input).
        let context = KernelBuildContext(node: Node(name: "c", opType: "Clip", inputs: ["x", "", "hi"], outputs: ["y"]), opset: 13)
        let onlyMax = try runKernel(ClipKernel(context), [x, nil, Tensor(scalar: Float(0))])
        #expect(try floats(onlyMax[0]) == [-3, -1, 0, 0, 0])
        // min > max gives max everywhere.
        let inverted = try runNode("Clip", inputs: [("x", x), ("lo", Tensor(scalar: Float(2))), ("hi", Tensor(scalar: Float(1)))], opset: 13)
        #expect(try floats(inverted["y"]) == [1, 1, 1, 1, 1])
        let ints = try runNode(
            "Clip", inputs: [("x", Tensor(shape: [3], scalars: [Int64(-9), 5, 90])), ("lo", Tensor(scalar: Int64(0))), ("hi", Tensor(scalar: Int64(10)))],
            opset: 13)
        #expect(try #require(ints["y"]).scalars(as: Int64.self) == [0, 5, 10])
        #expect(throws: (any Error).self) {
            try runNode("Clip", inputs: [("x", x), ("lo", Tensor(shape: [2], scalars: [Float(0), 1]))], opset: 13)
        }
    }

    @Test func whereBroadcastsAllThree() throws {
        let condition = Tensor(shape: [2, 1], scalars: [true, false])
        let x = Tensor(shape: [3], scalars: [Int64(1), 2, 3])
        let y = Tensor(scalar: Int64(-1))
        let z = try runNode("Where", inputs: [("c", condition), ("x", x), ("other", y)], opset: 16)
        #expect(z["y"]?.shape == [2, 3])
        #expect(try #require(z["y"]).scalars(as: Int64.self) == [1, 2, 3, -1, -1, -1])
        let same = try runNode(
            "Where",
            inputs: [("c", Tensor(shape: [3], scalars: [false, true, false])), ("x", Tensor(shape: [3], scalars: [Float(1), 2, 3])), ("other", Tensor(shape: [3], scalars: [Float(4), 5, 6]))],
            opset: 9)
        #expect(try floats(same["y"]) == [4, 2, 6])
        let halves = try runNode(
            "Where",
            inputs: [("c", Tensor(shape: [2], scalars: [true, false])), ("x", Tensor(shape: [2], scalars: [Float16(1), 2])), ("other", Tensor(scalar: Float16(0.5)))],
            opset: 16)
        #expect(try #require(halves["y"]).scalars(as: Float16.self) == [1, 0.5])
    }

    private func cast<S: TensorScalar, D: TensorScalar>(_ values: [S], to _: D.Type) throws -> [D] {
        let y = try runNode("Cast", inputs: [("x", Tensor(shape: [values.count], scalars: values))], attributes: ["to": .int(Int(D.dataType.rawValue))], opset: 21)
        return try #require(y["y"]).scalars(as: D.self)
    }

    @Test func castFollowsTheRules() throws {
        #expect(try cast([Float(1.9), -1.9, 0, 300, -1], to: Int32.self) == [1, -1, 0, 300, -1])
        #expect(try cast([Float(300), -1, 255.9], to: UInt8.self) == [44, 255, 255])
        #expect(try cast([Float.nan, .infinity], to: Int64.self) == [Int64.min, Int64.min])
        #expect(try cast([Float(0), -0.0, 2, Float.nan], to: Bool.self) == [false, false, true, true])
        #expect(try cast([true, false], to: Float.self) == [1, 0])
        #expect(try cast([Int64(1) << 40 | 7, -2], to: Int32.self) == [7, -2])
        #expect(try cast([Int64(16_777_217)], to: Float.self) == [16_777_216])
        #expect(try cast([UInt64.max], to: Int8.self) == [-1])
        #expect(try cast([Float(70000), 1.0009765625, 0.1], to: Float16.self) == [.infinity, 1.0009765625, Float16(0.1)])
        #expect(try cast([Float16(0.5), -2], to: Float.self) == [0.5, -2])
        #expect(try cast([Double(0.1), 1e300], to: Float.self) == [0.1, .infinity])
        // bfloat16 rounds to nearest even.
        let bf = try cast([Float(0.478_925_47), 1.0 + 1.0 / 256, 1.0 + 3.0 / 256], to: BFloat16.self)
        #expect(bf.map(\.floatValue) == [0.478_515_625, 1, 1.015_625])
        #expect(try cast([BFloat16(2.5)], to: Double.self) == [2.5])
        #expect(try cast([Double(-3.7)], to: UInt16.self) == [65533])
        #expect(try cast([UInt32.max], to: Double.self) == [4_294_967_295])
        let same = Tensor(shape: [2], scalars: [Float(1), 2])
        #expect(try runNode("Cast", inputs: [("x", same)], attributes: ["to": .int(1)], opset: 13)["y"] == same)
    }
}
