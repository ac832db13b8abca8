import NXIR
import Testing

@testable import NXRuntime

// MARK: Helpers

private func shapeFloats(_ count: Int) -> [Float] { (0..<count).map { Float($0) } }

private func output(_ result: [String: Tensor], _ name: String = "y") throws -> Tensor {
    try #require(result[name], "output \(name) missing")
}

private func values<T: TensorScalar>(_ result: [String: Tensor], _ name: String = "y", as type: T.Type = Float.self) throws -> [T] {
    try output(result, name).scalars(as: T.self)
}

/// The message of the error `body` throws (session errors wrap the kernel's message).
private func shapeErrorMessage(_ body: () throws -> Void) -> String? {
    do { try body() } catch { return "\(error)" }
    return nil
}

/// Transposition straight from the definition: output index → input index.
private func referenceTranspose<T>(_ data: [T], _ shape: [Int], _ perm: [Int]) -> [T] {
    let outShape = perm.map { shape[$0] }
    let inStrides = Broadcasting.strides(shape)
    return (0..<data.count).map { flat in
        var rest = flat, source = 0
        for axis in stride(from: outShape.count - 1, through: 0, by: -1) {
            source += (rest % outShape[axis]) * inStrides[perm[axis]]
            rest /= outShape[axis]
        }
        return data[source]
    }
}

// MARK: Transpose

@Suite struct ShapeTransposeTests {
    @Test func nchwToNhwcAndBackMatchTheDefinition() throws {
        // 37×29 spatial and 45 channels: ragged tiles on both sides; large enough to go parallel.
        let shape = [2, 45, 37, 29]
        let x = Tensor(shape: shape, scalars: shapeFloats(elementCount(shape)))
        let nhwc = try output(runNode("Transpose", inputs: [("x", x)], attributes: ["perm": .ints([0, 2, 3, 1])]))
        #expect(nhwc.shape == [2, 37, 29, 45])
        #expect(try nhwc.scalars(as: Float.self) == referenceTranspose(shapeFloats(x.elementCount), shape, [0, 2, 3, 1]))
        let back = try output(runNode("Transpose", inputs: [("x", nhwc)], attributes: ["perm": .ints([0, 3, 1, 2])]))
        #expect(back == x)
    }

    @Test(arguments: [[0, 2, 1], [1, 0, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1], [0, 1, 2]])
    func everyPermutationOfThreeAxes(perm: [Int]) throws {
        let shape = [5, 6, 7]
        let x = Tensor(shape: shape, scalars: shapeFloats(210))
        let y = try output(runNode("Transpose", inputs: [("x", x)], attributes: ["perm": .ints(perm)]))
        #expect(y.shape == perm.map { shape[$0] })
        #expect(try y.scalars(as: Float.self) == referenceTranspose(shapeFloats(210), shape, perm))
    }

    @Test func everyElementSize() throws {
        let shape = [3, 34, 5, 2]
        let count = elementCount(shape)
        let perm = [0, 2, 3, 1]
        let int8 = (0..<count).map { Int8(truncatingIfNeeded: $0) }
        let int16 = (0..<count).map { Int16($0) }
        let int64 = (0..<count).map { Int64($0) * 1_000_000_007 }
        let bools = (0..<count).map { $0 % 3 == 0 }
        #expect(try values(runNode("Transpose", inputs: [("x", Tensor(shape: shape, scalars: int8))], attributes: ["perm": .ints(perm)]), as: Int8.self) == referenceTranspose(int8, shape, perm))
        #expect(try values(runNode("Transpose", inputs: [("x", Tensor(shape: shape, scalars: int16))], attributes: ["perm": .ints(perm)]), as: Int16.self) == referenceTranspose(int16, shape, perm))
        #expect(try values(runNode("Transpose", inputs: [("x", Tensor(shape: shape, scalars: int64))], attributes: ["perm": .ints(perm)]), as: Int64.self) == referenceTranspose(int64, shape, perm))
        #expect(try values(runNode("Transpose", inputs: [("x", Tensor(shape: shape, scalars: bools))], attributes: ["perm": .ints(perm)]), as: Bool.self) == referenceTranspose(bools, shape, perm))
    }

    @Test func generalPermutationWithContiguousInnerAxis() throws {
        let shape = [3, 4, 5, 6]
        let x = Tensor(shape: shape, scalars: shapeFloats(360))
        let y = try output(runNode("Transpose", inputs: [("x", x)], attributes: ["perm": .ints([2, 0, 1, 3])]))
        #expect(try y.scalars(as: Float.self) == referenceTranspose(shapeFloats(360), shape, [2, 0, 1, 3]))
    }

    @Test func emptyTensorsTranspose() throws {
        let x = Tensor(shape: [2, 0, 3], scalars: [Float]())
        #expect(try output(runNode("Transpose", inputs: [("x", x)], attributes: ["perm": .ints([0, 2, 1])])).shape == [2, 3, 0])
    }

    @Test func defaultReversesAxes() throws {
        let x = Tensor(shape: [2, 3], scalars: shapeFloats(6))
        #expect(try values(runNode("Transpose", inputs: [("x", x)])) == [0, 3, 1, 4, 2, 5])
    }

    @Test func movingOnlySizeOneAxesSharesStorage() throws {
        let x = Tensor(shape: [1, 4, 1, 3], scalars: shapeFloats(12))
        let y = try output(runNode("Transpose", inputs: [("x", x)], attributes: ["perm": .ints([2, 1, 0, 3])]))
        #expect(y.shape == [1, 4, 1, 3])
        #expect(y.storage === x.storage)
    }

    @Test func reductionMergesAdjacentAxes() {
        #expect(TransposeKernel.reduce(shape: [1, 96, 56, 56], perm: [0, 2, 3, 1]) == ([96, 3136], [1, 0]))
        #expect(TransposeKernel.reduce(shape: [4, 56, 56, 96], perm: [0, 3, 1, 2]) == ([4, 3136, 96], [0, 2, 1]))
        #expect(TransposeKernel.reduce(shape: [2, 3, 4], perm: [0, 1, 2]) == ([24], [0]))
    }

    @Test func badPermutationIsAClearError() {
        let x = Tensor(shape: [2, 3], scalars: shapeFloats(6))
        let message = shapeErrorMessage { _ = try runNode("Transpose", inputs: [("x", x)], attributes: ["perm": .ints([0, 0])]) }
        #expect(message?.contains("perm [0, 0] is not a permutation of the 2 axes of input shape [2, 3]") == true)
    }
}

// MARK: Views (zero-copy)

@Suite struct ShapeViewKernelTests {
    @Test func reshapeSharesStorageAndResolvesZeroAndMinusOne() throws {
        let x = Tensor(shape: [2, 3, 4], scalars: shapeFloats(24))
        let shape = Tensor(shape: [3], scalars: [Int64(0), -1, 2])
        let y = try output(runNode("Reshape", inputs: [("x", x), ("shape", shape)]))
        #expect(y.shape == [2, 6, 2])
        #expect(y.storage === x.storage)
    }

    @Test func reshapeAllowZeroKeepsZero() throws {
        let x = Tensor(shape: [0, 3, 4], scalars: [Float]())
        let shape = Tensor(shape: [3], scalars: [Int64(3), 4, 0])
        let y = try output(runNode("Reshape", inputs: [("x", x), ("shape", shape)], attributes: ["allowzero": .int(1)], opset: 14))
        #expect(y.shape == [3, 4, 0])
    }

    @Test func reshapeErrorNamesBothShapes() {
        let x = Tensor(shape: [3, 4], scalars: shapeFloats(12))
        let shape = Tensor(shape: [2], scalars: [Int64(5), -1])
        let message = shapeErrorMessage { _ = try runNode("Reshape", inputs: [("x", x), ("shape", shape)]) }
        #expect(message?.contains("cannot reshape [3, 4] (12 elements) to [5, -1]") == true)
        let twoInferred = Tensor(shape: [2], scalars: [Int64(-1), -1])
        let second = shapeErrorMessage { _ = try runNode("Reshape", inputs: [("x", x), ("shape", twoInferred)]) }
        #expect(second?.contains("more than one -1") == true)
    }

    @Test func reshapeOpset1ReadsTheAttribute() throws {
        let x = Tensor(shape: [2, 3], scalars: shapeFloats(6))
        let y = try output(runNode("Reshape", inputs: [("x", x)], attributes: ["shape": .ints([3, -1])], opset: 4))
        #expect(y.shape == [3, 2])
    }

    @Test func flattenAxes() throws {
        let x = Tensor(shape: [2, 3, 4, 5], scalars: shapeFloats(120))
        for (axis, expected) in [(0, [1, 120]), (2, [6, 20]), (4, [120, 1]), (-1, [24, 5])] {
            let y = try output(runNode("Flatten", inputs: [("x", x)], attributes: ["axis": .int(axis)]))
            #expect(y.shape == expected)
            #expect(y.storage === x.storage)
        }
        let message = shapeErrorMessage { _ = try runNode("Flatten", inputs: [("x", x)], attributes: ["axis": .int(5)]) }
        #expect(message?.contains("axis 5 is out of range") == true)
    }

    @Test func squeezeListedAllAndErrors() throws {
        let x = Tensor(shape: [1, 3, 1, 2], scalars: shapeFloats(6))
        let axes = Tensor(shape: [1], scalars: [Int64(-2)])
        #expect(try output(runNode("Squeeze", inputs: [("x", x), ("axes", axes)])).shape == [1, 3, 2])
        #expect(try output(runNode("Squeeze", inputs: [("x", x)])).shape == [3, 2])
        #expect(try output(runNode("Squeeze", inputs: [("x", x)], attributes: ["axes": .ints([0])], opset: 11)).shape == [3, 1, 2])
        let bad = Tensor(shape: [1], scalars: [Int64(1)])
        let message = shapeErrorMessage { _ = try runNode("Squeeze", inputs: [("x", x), ("axes", bad)]) }
        #expect(message?.contains("cannot squeeze axis 1 of shape [1, 3, 1, 2]: its size is 3, not 1") == true)
    }

    @Test func unsqueezeNegativeAndUnsortedAxes() throws {
        let x = Tensor(shape: [3, 4], scalars: shapeFloats(12))
        let axes = Tensor(shape: [2], scalars: [Int64(-1), 0])
        let y = try output(runNode("Unsqueeze", inputs: [("x", x), ("axes", axes)]))
        #expect(y.shape == [1, 3, 4, 1])
        #expect(y.storage === x.storage)
        #expect(try output(runNode("Unsqueeze", inputs: [("x", x)], attributes: ["axes": .ints([1])], opset: 11)).shape == [3, 1, 4])
        let repeated = Tensor(shape: [2], scalars: [Int64(1), -3])
        let message = shapeErrorMessage { _ = try runNode("Unsqueeze", inputs: [("x", x), ("axes", repeated)]) }
        #expect(message?.contains("repeats axis 1") == true)
    }

    @Test func identityAndInferenceDropoutShareTheInput() throws {
        let x = Tensor(shape: [2, 2], scalars: shapeFloats(4))
        #expect(try output(runNode("Identity", inputs: [("x", x)])).storage === x.storage)
        let result = try runNode("Dropout", inputs: [("x", x)], outputs: ["y", "mask"], opset: 13)
        #expect(try output(result).storage === x.storage)
        #expect(try values(result, "mask", as: Bool.self) == [true, true, true, true])
        let old = try runNode("Dropout", inputs: [("x", x)], outputs: ["y", "mask"], attributes: ["ratio": .float(0.3)], opset: 7)
        #expect(try values(old, "mask") == [1, 1, 1, 1])
    }
}

// MARK: Dropout training

@Suite struct ShapeDropoutTrainingTests {
    @Test func mersenneTwisterMatchesNumpy() {
        // numpy: np.random.seed(0); np.random.uniform(0, 1, 3)
        var generator = MersenneTwister(seed: 0)
        let draws = (0..<3).map { _ in generator.nextDouble() }
        #expect(draws == [0.5488135039273248, 0.7151893663724195, 0.6027633760716439])
    }

    @Test func trainingDropsAndScales() throws {
        let x = Tensor(shape: [3], scalars: [Float(1), 2, 3])
        let result = try runNode(
            "Dropout", inputs: [("x", x), ("r", Tensor(scalar: Float(0.6))), ("t", Tensor(scalar: true))],
            outputs: ["y", "mask"], attributes: ["seed": .int(0)], opset: 13)
        // Draws 0.549, 0.715, 0.603 against ratio 0.6: drop, keep, keep; kept values × 2.5.
        #expect(try values(result, "mask", as: Bool.self) == [false, true, true])
        #expect(relativeDifference(try values(result), [0, 5, 7.5]) < 1e-6)
    }
}

// MARK: Concat / Split / Slice

@Suite struct ShapeConcatSplitSliceTests {
    @Test func concatMiddleAxisWithDifferentLengths() throws {
        let a = Tensor(shape: [2, 1, 2], scalars: [Float(0), 1, 2, 3])
        let b = Tensor(shape: [2, 2, 2], scalars: [Float(10), 11, 12, 13, 14, 15, 16, 17])
        let y = try output(runNode("Concat", inputs: [("a", a), ("b", b)], attributes: ["axis": .int(-2)]))
        #expect(y.shape == [2, 3, 2])
        #expect(try y.scalars(as: Float.self) == [0, 1, 10, 11, 12, 13, 2, 3, 14, 15, 16, 17])
    }

    /// Batch-1 Concats of large inputs (one long row each, cut into pieces for the threads;
    /// lengths that do not divide evenly) and of two rows per input, on 1 to 3 threads.
    @Test(arguments: [(1, 40_001, 17_003), (2, 20_000, 33_333), (1, 3, 70_000)])
    func concatOfLongRowsOnSeveralThreads(_ batch: Int, _ first: Int, _ second: Int) throws {
        let a = Tensor(shape: [batch, first], scalars: (0..<(batch * first)).map { Float($0) })
        let b = Tensor(shape: [batch, second], scalars: (0..<(batch * second)).map { -Float($0) - 1 })
        var expected: [Float] = []
        for n in 0..<batch {
            expected += (0..<first).map { Float(n * first + $0) } + (0..<second).map { -Float(n * second + $0) - 1 }
        }
        for threads in 1...3 {
            let y = try output(runNode("Concat", inputs: [("a", a), ("b", b)], attributes: ["axis": .int(1)], threads: threads))
            #expect(y.shape == [batch, first + second])
            #expect(try y.scalars(as: Float.self) == expected, "\(threads) threads")
        }
    }

    @Test func concatMismatchIsAClearError() {
        let a = Tensor(shape: [2, 2], scalars: shapeFloats(4))
        let b = Tensor(shape: [3, 2], scalars: shapeFloats(6))
        let message = shapeErrorMessage { _ = try runNode("Concat", inputs: [("a", a), ("b", b)], attributes: ["axis": .int(1)]) }
        #expect(message?.contains("cannot concatenate shapes [[2, 2], [3, 2]] along axis 1") == true)
    }

    @Test func splitNumOutputsLastChunkSmaller() throws {
        let x = Tensor(shape: [2, 7], scalars: shapeFloats(14))
        let result = try runNode("Split", inputs: [("x", x)], outputs: ["a", "b", "c"], attributes: ["axis": .int(1), "num_outputs": .int(3)], opset: 18)
        #expect(try output(result, "a").shape == [2, 3])
        #expect(try values(result, "c") == [6, 13])
        #expect(try values(result, "b") == [3, 4, 5, 10, 11, 12])
    }

    @Test func splitSizesInputAndAttribute() throws {
        let x = Tensor(shape: [6], scalars: shapeFloats(6))
        let split = Tensor(shape: [2], scalars: [Int64(1), 5])
        let result = try runNode("Split", inputs: [("x", x), ("split", split)], outputs: ["a", "b"], opset: 13)
        #expect(try values(result, "b") == [1, 2, 3, 4, 5])
        let old = try runNode("Split", inputs: [("x", x)], outputs: ["a", "b"], attributes: ["split": .ints([4, 2])], opset: 11)
        #expect(try values(old, "a") == [0, 1, 2, 3])
        let bad = Tensor(shape: [2], scalars: [Int64(1), 4])
        let message = shapeErrorMessage { _ = try runNode("Split", inputs: [("x", x), ("split", bad)], outputs: ["a", "b"], opset: 13) }
        #expect(message?.contains("split [1, 4] does not add up") == true)
    }

    @Test func sliceNegativeStepsAndClamping() throws {
        let x = Tensor(shape: [3, 5], scalars: shapeFloats(15))
        let y = try output(runNode(
            "Slice",
            inputs: [
                ("x", x), ("starts", Tensor(shape: [2], scalars: [Int64(-1), 100])),
                ("ends", Tensor(shape: [2], scalars: [Int64.min, -100])), ("axes", Tensor(shape: [2], scalars: [Int64(0), 1])),
                ("steps", Tensor(shape: [2], scalars: [Int64(-2), -3])),
            ]))
        #expect(y.shape == [2, 2])
        #expect(try y.scalars(as: Float.self) == [14, 11, 4, 1])
    }

    @Test func sliceOpset1AttributesOnInt64() throws {
        let x = Tensor(shape: [2, 4], scalars: (0..<8).map(Int64.init))
        let y = try output(runNode("Slice", inputs: [("x", x)], attributes: ["starts": .ints([1]), "ends": .ints([3]), "axes": .ints([1])], opset: 9))
        #expect(try y.scalars(as: Int64.self) == [1, 2, 5, 6])
    }

    @Test func sliceEverythingSharesStorageAndZeroStepFails() throws {
        let x = Tensor(shape: [4], scalars: shapeFloats(4))
        let all = try output(runNode("Slice", inputs: [("x", x), ("s", Tensor(shape: [1], scalars: [Int64(0)])), ("e", Tensor(shape: [1], scalars: [Int64.max]))]))
        #expect(all.storage === x.storage)
        let message = shapeErrorMessage {
            _ = try runNode("Slice", inputs: [
                ("x", x), ("s", Tensor(shape: [1], scalars: [Int64(0)])), ("e", Tensor(shape: [1], scalars: [Int64(2)])),
                ("a", Tensor(shape: [1], scalars: [Int64(0)])), ("st", Tensor(shape: [1], scalars: [Int64(0)])),
            ])
        }
        #expect(message?.contains("steps[0] is 0") == true)
    }
}

// MARK: Expand / Gather

@Suite struct ShapeExpandGatherTests {
    @Test func expandBroadcastsBothWays() throws {
        let x = Tensor(shape: [3, 1], scalars: [Float(1), 2, 3])
        let y = try output(runNode("Expand", inputs: [("x", x), ("s", Tensor(shape: [3], scalars: [Int64(2), 1, 2]))]))
        #expect(y.shape == [2, 3, 2])
        #expect(try y.scalars(as: Float.self) == [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3])
        let message = shapeErrorMessage { _ = try runNode("Expand", inputs: [("x", x), ("s", Tensor(shape: [2], scalars: [Int64(2), 1]))]) }
        #expect(message?.contains("cannot expand shape [3, 1] to [2, 1]") == true)
    }

    @Test func gatherAxisOneWithNegativeInt32Indices() throws {
        let x = Tensor(shape: [2, 3, 2], scalars: shapeFloats(12))
        let indices = Tensor(shape: [2, 2], scalars: [Int32(-1), 0, 1, 1])
        let y = try output(runNode("Gather", inputs: [("x", x), ("i", indices)], attributes: ["axis": .int(1)]))
        #expect(y.shape == [2, 2, 2, 2])
        #expect(try y.scalars(as: Float.self) == [4, 5, 0, 1, 2, 3, 2, 3, 10, 11, 6, 7, 8, 9, 8, 9])
    }

    @Test func gatherScalarIndexDropsTheAxis() throws {
        let x = Tensor(shape: [3, 2], scalars: (0..<6).map(Int16.init))
        let y = try output(runNode("Gather", inputs: [("x", x), ("i", Tensor(scalar: Int64(2)))]))
        #expect(y.shape == [2])
        #expect(try y.scalars(as: Int16.self) == [4, 5])
    }

    @Test func gatherOutOfRangeIsAClearError() {
        let x = Tensor(shape: [3], scalars: shapeFloats(3))
        let message = shapeErrorMessage { _ = try runNode("Gather", inputs: [("x", x), ("i", Tensor(shape: [1], scalars: [Int64(3)]))]) }
        #expect(message?.contains("index 3 is out of range for axis 0 of size 3") == true)
    }
}

// MARK: Pad

@Suite struct ShapePadTests {
    private func pad(_ x: Tensor, _ pads: [Int64], mode: String, value: Float? = nil) throws -> Tensor {
        var inputs: [(String, Tensor)] = [("x", x), ("pads", Tensor(shape: [pads.count], scalars: pads))]
        if let value { inputs.append(("v", Tensor(scalar: value))) }
        return try output(runNode("Pad", inputs: inputs, attributes: ["mode": .string(mode)], opset: 19))
    }

    @Test func modesAlongOneAxis() throws {
        let x = Tensor(shape: [1, 4], scalars: [Float(1), 2, 3, 4])
        #expect(try pad(x, [0, 5, 0, 3], mode: "reflect").scalars(as: Float.self) == [2, 3, 4, 3, 2, 1, 2, 3, 4, 3, 2, 1])
        #expect(try pad(x, [0, 2, 0, 1], mode: "edge").scalars(as: Float.self) == [1, 1, 1, 2, 3, 4, 4])
        #expect(try pad(x, [0, 5, 0, 2], mode: "wrap").scalars(as: Float.self) == [4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2])
        #expect(try pad(x, [0, 1, 0, 2], mode: "constant", value: 9).scalars(as: Float.self) == [9, 1, 2, 3, 4, 9, 9])
    }

    @Test func constantWithNegativePadsCrops() throws {
        let x = Tensor(shape: [3, 3], scalars: shapeFloats(9))
        let y = try pad(x, [1, -1, -1, 0], mode: "constant", value: -1)
        #expect(y.shape == [3, 2])
        #expect(try y.scalars(as: Float.self) == [-1, -1, 1, 2, 4, 5])
    }

    @Test func reflectTwoAxesOnInt32() throws {
        let x = Tensor(shape: [2, 3], scalars: (1...6).map(Int32.init))
        let y = try output(runNode("Pad", inputs: [("x", x), ("pads", Tensor(shape: [4], scalars: [Int64(1), 1, 1, 1]))], attributes: ["mode": .string("reflect")]))
        #expect(y.shape == [4, 5])
        #expect(try y.scalars(as: Int32.self) == [5, 4, 5, 6, 5, 2, 1, 2, 3, 2, 5, 4, 5, 6, 5, 2, 1, 2, 3, 2])
    }

    @Test func axesInputAndOpset2Attributes() throws {
        let x = Tensor(shape: [2, 2], scalars: shapeFloats(4))
        let withAxes = try output(runNode(
            "Pad", inputs: [("x", x), ("pads", Tensor(shape: [2], scalars: [Int64(1), 0])), ("v", Tensor(scalar: Float(7))), ("axes", Tensor(shape: [1], scalars: [Int64(-1)]))],
            opset: 18))
        #expect(try withAxes.scalars(as: Float.self) == [7, 0, 1, 7, 2, 3])
        let old = try output(runNode("Pad", inputs: [("x", x)], attributes: ["pads": .ints([1, 0, 0, 0]), "value": .float(5)], opset: 2))
        #expect(try old.scalars(as: Float.self) == [5, 5, 0, 1, 2, 3])
    }

    @Test func wrongPadCountIsAClearError() {
        let x = Tensor(shape: [2, 2], scalars: shapeFloats(4))
        let message = shapeErrorMessage { _ = try pad(x, [1, 1], mode: "edge") }
        #expect(message?.contains("pads has 2 values; expected 4") == true)
    }
}

// MARK: Shape / Constant / ConstantOfShape

@Suite struct ShapeConstantTests {
    @Test func shapeWithStartAndEnd() throws {
        let x = Tensor(shape: [2, 3, 4, 5], scalars: shapeFloats(120))
        #expect(try values(runNode("Shape", inputs: [("x", x)]), as: Int64.self) == [2, 3, 4, 5])
        #expect(try values(runNode("Shape", inputs: [("x", x)], attributes: ["start": .int(1), "end": .int(-1)], opset: 15), as: Int64.self) == [3, 4])
        #expect(try values(runNode("Shape", inputs: [("x", x)], attributes: ["start": .int(-10), "end": .int(10)], opset: 15), as: Int64.self) == [2, 3, 4, 5])
        #expect(try output(runNode("Shape", inputs: [("x", x)], attributes: ["start": .int(3), "end": .int(1)], opset: 15)).shape == [0])
    }

    @Test func constantValueForms() throws {
        #expect(try values(runNode("Constant", inputs: [], attributes: ["value_ints": .ints([3, -1])]), as: Int64.self) == [3, -1])
        #expect(try output(runNode("Constant", inputs: [], attributes: ["value_float": .float(2.5)])).shape == [])
        let tensor = Tensor(shape: [2], scalars: [UInt8(7), 9])
        #expect(try output(runNode("Constant", inputs: [], attributes: ["value": .tensor(tensor)])) == tensor)
        let message = shapeErrorMessage { _ = try runNode("Constant", inputs: [], attributes: ["value_string": .string("a")]) }
        #expect(message?.contains("string constants are not supported") == true)
    }

    @Test func constantOfShapeFillsTheValueType() throws {
        let shape = Tensor(shape: [2], scalars: [Int64(2), 3])
        let y = try output(runNode("ConstantOfShape", inputs: [("s", shape)], attributes: ["value": .tensor(Tensor(shape: [1], scalars: [Int32(-4)]))]))
        #expect(y.shape == [2, 3])
        #expect(try y.scalars(as: Int32.self) == [Int32](repeating: -4, count: 6))
        let zeros = try output(runNode("ConstantOfShape", inputs: [("s", shape)]))
        #expect(try zeros.scalars(as: Float.self) == [Float](repeating: 0, count: 6))
    }
}

// MARK: Resize

@Suite struct ShapeResizeTests {
    @Test func nearestUpsampleByScales() throws {
        let x = Tensor(shape: [1, 1, 2, 2], scalars: [Float(1), 2, 3, 4])
        let y = try output(runNode(
            "Resize", inputs: [("x", x), ("roi", Tensor(shape: [0], scalars: [Float]())), ("scales", Tensor(shape: [4], scalars: [Float(1), 1, 2, 3]))],
            attributes: ["mode": .string("nearest")], opset: 13))
        #expect(y.shape == [1, 1, 4, 6])
        #expect(try y.scalars(as: Float.self) == [1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4])
    }

    @Test func bilinearHalfPixelBySizes() throws {
        // half_pixel 2→4: source x = (o + 0.5)/2 - 0.5 = -0.25, 0.25, 0.75, 1.25 (edges clamp).
        let x = Tensor(shape: [1, 1, 1, 2], scalars: [Float(0), 4])
        let y = try output(runNode(
            "Resize",
            inputs: [("x", x), ("roi", Tensor(shape: [0], scalars: [Float]())), ("scales", Tensor(shape: [0], scalars: [Float]())), ("sizes", Tensor(shape: [4], scalars: [Int64(1), 1, 1, 4]))],
            attributes: ["mode": .string("linear")], opset: 13))
        #expect(try y.scalars(as: Float.self) == [0, 1, 3, 4])
    }

    @Test func alignCornersLinear() throws {
        let x = Tensor(shape: [1, 3], scalars: [Float(0), 10, 20])
        let y = try output(runNode(
            "Resize",
            inputs: [("x", x), ("roi", Tensor(shape: [0], scalars: [Float]())), ("scales", Tensor(shape: [0], scalars: [Float]())), ("sizes", Tensor(shape: [2], scalars: [Int64(1), 5]))],
            attributes: ["mode": .string("linear"), "coordinate_transformation_mode": .string("align_corners")], opset: 13))
        #expect(try y.scalars(as: Float.self) == [0, 5, 10, 15, 20])
    }

    @Test func opset10IsUpsampleLike() throws {
        let x = Tensor(shape: [1, 1, 1, 2], scalars: [Float(1), 2])
        let y = try output(runNode("Resize", inputs: [("x", x), ("scales", Tensor(shape: [4], scalars: [Float(1), 1, 2, 2]))], opset: 10))
        #expect(y.shape == [1, 1, 2, 4])
        #expect(try y.scalars(as: Float.self) == [1, 1, 2, 2, 1, 1, 2, 2])
        // Values from onnxruntime's Resize-10: nearest floors when upsampling and ceils when
        // downsampling; linear is asymmetric.
        let row = Tensor(shape: [1, 5], scalars: [Float(0), 10, 20, 30, 40])
        func resize(_ mode: String, _ scale: Float) throws -> [Float] {
            try values(runNode("Resize", inputs: [("x", row), ("scales", Tensor(shape: [2], scalars: [Float(1), scale]))], attributes: ["mode": .string(mode)], opset: 10))
        }
        #expect(try resize("nearest", 0.6) == [0, 20, 40])
        #expect(try resize("nearest", 1.7) == [0, 0, 10, 10, 20, 20, 30, 40])
        #expect(relativeDifference(try resize("linear", 0.6), [0, 16.666666, 33.333332]) < 1e-6)
        #expect(relativeDifference(try resize("linear", 1.7), [0, 5.882353, 11.764706, 17.647057, 23.52941, 29.411764, 35.294113, 40]) < 1e-6)
    }

    @Test func unchangedShapeReturnsTheInput() throws {
        let x = Tensor(shape: [1, 2], scalars: [Float(1), 2])
        let y = try output(runNode("Resize", inputs: [("x", x), ("roi", Tensor(shape: [0], scalars: [Float]())), ("scales", Tensor(shape: [2], scalars: [Float(1), 1]))], opset: 13))
        #expect(y.storage === x.storage)
    }

    @Test func wrongScaleCountAndTypeAreClearErrors() {
        let x = Tensor(shape: [1, 2], scalars: [Float(1), 2])
        let message = shapeErrorMessage {
            _ = try runNode("Resize", inputs: [("x", x), ("roi", Tensor(shape: [0], scalars: [Float]())), ("scales", Tensor(shape: [3], scalars: [Float(1), 1, 2]))], opset: 13)
        }
        #expect(message?.contains("scales has 3 values for 2 axes") == true)
        let ints = Tensor(shape: [1, 2], scalars: [Int32(1), 2])
        let typeMessage = shapeErrorMessage {
            _ = try runNode("Resize", inputs: [("x", ints), ("roi", Tensor(shape: [0], scalars: [Float]())), ("scales", Tensor(shape: [2], scalars: [Float(1), 2]))], opset: 13)
        }
        #expect(typeMessage?.contains("Resize supports float32 only") == true)
    }
}

// MARK: Strided copy engine

@Suite struct ShapeStridedCopyTests {
    @Test func mergesContiguousAxesAndHandlesBroadcastAndNegativeStrides() {
        let source: [UInt32] = (0..<24).map(UInt32.init)
        var destination = [UInt32](repeating: 0, count: 12)
        source.withUnsafeBytes { src in
            destination.withUnsafeMutableBytes { dst in
                // Element (0, i, j, k) = source[3 + 12i + 8j - k]: a broadcast leading axis,
                // every other row, elements reversed.
                StridedCopy.copy(
                    shape: [1, 2, 2, 3], source: src.baseAddress! + 3 * 4, sourceStrides: [0, 12, 8, -1],
                    destination: dst.baseAddress!, destinationStrides: [12, 6, 3, 1], elementSize: 4, context: nil)
            }
        }
        #expect(destination == [3, 2, 1, 11, 10, 9, 15, 14, 13, 23, 22, 21])
    }
}
