import NXIR
import Testing

@testable import NXRuntime

/// Pooling straight from the ONNX reference's definition: the window of output o reads
/// positions o * stride - padBegin + k * dilation; those inside the input are pooled, and
/// count_include_pad also counts those inside the pads (not past the end pad).
private func referencePool(
    _ x: [Float], _ shape: [Int], kernel: [Int], strides: [Int], dilations: [Int], padsBegin: [Int], padsEnd: [Int],
    output: [Int], average: Bool, includePad: Bool
) -> [Float] {
    let rank = kernel.count
    let planes = shape[0] * shape[1]
    let input = Array(shape[2...])
    let inputSize = input.reduce(1, *), outputSize = output.reduce(1, *), kernelSize = kernel.reduce(1, *)
    var y: [Float] = []
    for plane in 0..<planes {
        for o in 0..<outputSize {
            var outIndex = [Int](repeating: 0, count: rank)
            var rest = o
            for axis in stride(from: rank - 1, through: 0, by: -1) {
                outIndex[axis] = rest % output[axis]
                rest /= output[axis]
            }
            var best = -Float.greatestFiniteMagnitude, sum: Float = 0, real = 0, padded = 0
            for k in 0..<kernelSize {
                var kIndex = [Int](repeating: 0, count: rank)
                var kRest = k
                for axis in stride(from: rank - 1, through: 0, by: -1) {
                    kIndex[axis] = kRest % kernel[axis]
                    kRest /= kernel[axis]
                }
                var inside = true, inPadded = true, flat = 0
                for axis in 0..<rank {
                    let p = outIndex[axis] * strides[axis] - padsBegin[axis] + kIndex[axis] * dilations[axis]
                    if p < 0 || p >= input[axis] { inside = false }
                    if p >= input[axis] + padsEnd[axis] { inPadded = false }
                    flat = flat * input[axis] + p
                }
                if inPadded { padded += 1 }
                if inside {
                    real += 1
                    let value = x[plane * inputSize + flat]
                    sum += value
                    best = max(best, value)
                }
            }
            y.append(average ? sum / Float(includePad ? padded : real) : best)
        }
    }
    return y
}

@Suite struct MaxPoolTests {
    @Test func twoByTwoStrideTwoWithIndicesByHand() throws {
        let x = Tensor(shape: [1, 1, 4, 4], scalars: [1, 2, 3, 4, 8, 7, 6, 5, 9, 10, 11, 12, 16, 15, 14, 13] as [Float])
        let attributes: [String: Attribute] = ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])]
        let rowMajor = try runNode("MaxPool", inputs: [("x", x)], outputs: ["y", "i"], attributes: attributes)
        #expect(try rowMajor["y"]!.floatValues() == [8, 6, 16, 14] as [Float])
        #expect(try rowMajor["i"]!.intValues() == [4, 6, 12, 14])
        var columnAttributes = attributes
        columnAttributes["storage_order"] = .int(1)
        let columnMajor = try runNode("MaxPool", inputs: [("x", x)], outputs: ["y", "i"], attributes: columnAttributes)
        // (row 1, col 0) -> 1 + 0*4; (1, 2) -> 1 + 2*4; (3, 0) -> 3; (3, 2) -> 3 + 8.
        #expect(try columnMajor["i"]!.intValues() == [1, 9, 3, 11])
    }

    @Test func paddingNeverWinsAndCeilModeDropsWindowsStartingInPad() throws {
        let x = Tensor(shape: [1, 1, 1, 5], scalars: [-5, -4, -3, -2, -1] as [Float])
        // kernel 2 stride 2 pad 1: windows [pad,-5], [-4,-3], [-2,-1]; ceil would add one
        // starting at the end pad, which ONNX drops.
        let y = try runNode(
            "MaxPool", inputs: [("x", x)],
            attributes: ["kernel_shape": .ints([1, 2]), "strides": .ints([1, 2]), "pads": .ints([0, 1, 0, 1]), "ceil_mode": .int(1)])["y"]!
        #expect(y.shape == [1, 1, 1, 3])
        #expect(try y.floatValues() == [-5, -3, -1] as [Float])
    }

    @Test func matchesReferenceOverRandomShapes() throws {
        var random = LinearTestRandom(21)
        for trial in 0..<30 {
            let rank = trial % 5 == 4 ? 3 : (trial % 5 == 3 ? 1 : 2)
            let kernel = (0..<rank).map { _ in random.int(1...3) }
            let strides = (0..<rank).map { _ in random.int(1...3) }
            let dilations = (0..<rank).map { _ in random.int(1...2) }
            let padsBegin = (0..<rank).map { kernel[$0] > 1 ? random.int(0...(kernel[$0] - 1)) : 0 }
            let padsEnd = (0..<rank).map { kernel[$0] > 1 ? random.int(0...(kernel[$0] - 1)) : 0 }
            let input = (0..<rank).map { (kernel[$0] - 1) * dilations[$0] + random.int(1...6) }
            let ceil = trial % 2 == 1
            let shape = [random.int(1...2), random.int(1...3)] + input
            let x = random.floats(shape.reduce(1, *))
            let y = try runNode(
                "MaxPool", inputs: [("x", Tensor(shape: shape, scalars: x))],
                attributes: [
                    "kernel_shape": .ints(kernel), "strides": .ints(strides), "dilations": .ints(dilations),
                    "pads": .ints(padsBegin + padsEnd), "ceil_mode": .int(ceil ? 1 : 0),
                ])["y"]!
            let output = Array(y.shape[2...])
            for axis in 0..<rank {
                let span = input[axis] + padsBegin[axis] + padsEnd[axis] - (kernel[axis] - 1) * dilations[axis] - 1
                var size = (ceil ? (span + strides[axis] - 1) / strides[axis] : span / strides[axis]) + 1
                if ceil && (size - 1) * strides[axis] >= input[axis] + padsBegin[axis] { size -= 1 }
                #expect(output[axis] == size, "trial \(trial) axis \(axis)")
            }
            let expected = referencePool(
                x, shape, kernel: kernel, strides: strides, dilations: dilations, padsBegin: padsBegin, padsEnd: padsEnd,
                output: output, average: false, includePad: false)
            #expect(try y.floatValues() == expected, "trial \(trial)")
        }
    }
}

@Suite struct AveragePoolTests {
    @Test func countIncludePadChangesOnlyTheDivisorByHand() throws {
        let x = Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4] as [Float])
        let attributes: [String: Attribute] = ["kernel_shape": .ints([2, 2]), "pads": .ints([1, 1, 1, 1]), "strides": .ints([2, 2])]
        let excluded = try runNode("AveragePool", inputs: [("x", x)], attributes: attributes)["y"]!
        #expect(excluded.shape == [1, 1, 2, 2])
        #expect(try excluded.floatValues() == [1, 2, 3, 4] as [Float])
        var including = attributes
        including["count_include_pad"] = .int(1)
        let included = try runNode("AveragePool", inputs: [("x", x)], attributes: including)["y"]!
        #expect(try included.floatValues() == [0.25, 0.5, 0.75, 1] as [Float])
    }

    @Test func sameUpperKeepsTheSizeOverStride() throws {
        let x = Tensor(shape: [1, 1, 1, 5], scalars: [1, 2, 3, 4, 5] as [Float])
        let y = try runNode(
            "AveragePool", inputs: [("x", x)],
            attributes: ["kernel_shape": .ints([1, 2]), "strides": .ints([1, 2]), "auto_pad": .string("SAME_UPPER")])["y"]!
        #expect(y.shape == [1, 1, 1, 3])
        #expect(try y.floatValues() == [1.5, 3.5, 5] as [Float])
    }

    @Test func matchesReferenceOverRandomShapes() throws {
        var random = LinearTestRandom(22)
        for trial in 0..<30 {
            let rank = trial % 5 == 4 ? 3 : (trial % 5 == 3 ? 1 : 2)
            let kernel = (0..<rank).map { _ in random.int(1...3) }
            let strides = (0..<rank).map { _ in random.int(1...3) }
            let dilations = (0..<rank).map { _ in random.int(1...2) }
            let padsBegin = (0..<rank).map { kernel[$0] > 1 ? random.int(0...(kernel[$0] - 1)) : 0 }
            let padsEnd = (0..<rank).map { kernel[$0] > 1 ? random.int(0...(kernel[$0] - 1)) : 0 }
            let input = (0..<rank).map { (kernel[$0] - 1) * dilations[$0] + random.int(1...6) }
            let includePad = trial % 3 == 0
            let shape = [random.int(1...2), random.int(1...3)] + input
            let x = random.floats(shape.reduce(1, *))
            let y = try runNode(
                "AveragePool", inputs: [("x", Tensor(shape: shape, scalars: x))],
                attributes: [
                    "kernel_shape": .ints(kernel), "strides": .ints(strides), "dilations": .ints(dilations),
                    "pads": .ints(padsBegin + padsEnd), "ceil_mode": .int(trial % 2), "count_include_pad": .int(includePad ? 1 : 0),
                ], opset: 19)["y"]!
            let expected = referencePool(
                x, shape, kernel: kernel, strides: strides, dilations: dilations, padsBegin: padsBegin, padsEnd: padsEnd,
                output: Array(y.shape[2...]), average: true, includePad: includePad)
            #expect(relativeDifference(try y.floatValues(), expected) < 1e-6, "trial \(trial)")
        }
    }

    @Test func badAttributesAreReported() {
        let x = Tensor(shape: [1, 1, 4, 4], scalars: [Float](repeating: 0, count: 16))
        #expect(linearErrorText { try runNode("AveragePool", inputs: [("x", x)]) }.contains("kernel_shape is required"))
        #expect(linearErrorText {
            try runNode("AveragePool", inputs: [("x", x)], attributes: ["kernel_shape": .ints([2, 2]), "pads": .ints([1, 1])])
        }.contains("pads has 2 values, expected 4"))
        #expect(linearErrorText {
            try runNode("MaxPool", inputs: [("x", x)], attributes: ["kernel_shape": .ints([5, 5])])
        }.contains("gives no output"))
        let flat = Tensor(shape: [4, 4], scalars: [Float](repeating: 0, count: 16))
        #expect(linearErrorText { try runNode("MaxPool", inputs: [("x", flat)], attributes: ["kernel_shape": .ints([2])]) }.contains("must be [N, C, spatial...]"))
    }
}

@Suite struct GlobalPoolTests {
    @Test func averageAndMaximumPerChannel() throws {
        let values: [Float] = (0..<(2 * 3 * 21)).map { (index: Int) -> Float in Float((index * 7) % 23) - 11 }
        let x = Tensor(shape: [2, 3, 3, 7], scalars: values)
        let average = try runNode("GlobalAveragePool", inputs: [("x", x)])["y"]!
        let maximum = try runNode("GlobalMaxPool", inputs: [("x", x)])["y"]!
        #expect(average.shape == [2, 3, 1, 1])
        #expect(maximum.shape == [2, 3, 1, 1])
        let planes: [[Float]] = (0..<6).map { (plane: Int) -> [Float] in Array(values[(plane * 21)..<(plane * 21 + 21)]) }
        #expect(relativeDifference(try average.floatValues(), planes.map { $0.reduce(0, +) / 21 }) < 1e-6)
        #expect(try maximum.floatValues() == planes.map { $0.max()! })
    }
}
