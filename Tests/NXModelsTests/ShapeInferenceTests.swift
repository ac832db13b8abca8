import Foundation
import NXFormat
import NXIR
import NXTestSupport
import Testing

/// Static shape inference and MAC counting in NXIR (`Graph.inferShapes`,
/// `Graph.multiplyAccumulates`), op by op on small graphs with hand-worked expectations, and
/// on real PyTorch exports against torch's FlopCounterMode.
@Suite struct ShapeInferenceTests {
    /// A graph with one float input "x" of `shape`, built by `body`, whose result is "y".
    private func graph(_ shape: [Int], opset: Int = 17, _ body: (GraphBuilder, Value) -> Value) -> Graph {
        let b = GraphBuilder(opset: opset)
        let x = b.input("x", shape: Shape(fixed: shape))
        b.output(body(b, x), name: "y")
        return b.build()
    }

    private func inferred(_ shape: [Int], opset: Int = 17, _ body: (GraphBuilder, Value) -> Value) throws -> [Int]? {
        let shapes = try graph(shape, opset: opset, body).inferShapes()
        #expect(shapes.isComplete, "\(shapes.unresolved)")
        return shapes["y"]
    }

    private func weight(_ b: GraphBuilder, _ shape: [Int]) -> Value {
        b.constant(Tensor(shape: shape, scalars: [Float](repeating: 0, count: elementCount(shape))))
    }

    // MARK: Convolution and linear algebra

    @Test func convolution() throws {
        // (32 + 2 - 3) / 2 + 1 = 16, (30 + 2 - 3) / 2 + 1 = 15.
        let strided = graph([1, 3, 32, 30]) { b, x in b.conv(x, weight(b, [8, 3, 3, 3]), strides: [2, 2], pads: [1, 1, 1, 1]) }
        #expect(try strided.inferShapes()["y"] == [1, 8, 16, 15])
        #expect(try strided.multiplyAccumulates().total == 16 * 15 * 8 * 3 * 3 * 3)
        // Dilation 2 spans 5: 32 - 5 + 1 = 28.
        #expect(try inferred([1, 3, 32, 30]) { b, x in b.conv(x, weight(b, [8, 3, 3, 3]), dilations: [2, 2]) } == [1, 8, 28, 26])
        // Grouped: weight [16, 8/4, 3, 3]; MACs use Cin/group.
        let grouped = graph([2, 8, 10, 10]) { b, x in b.conv(x, weight(b, [16, 2, 3, 3]), group: 4) }
        #expect(try grouped.inferShapes()["y"] == [2, 16, 8, 8])
        #expect(try grouped.multiplyAccumulates().total == 2 * 8 * 8 * 16 * 2 * 9)
        // SAME_UPPER: ceil(in / stride).
        #expect(try inferred([1, 3, 11, 10]) { b, x in
            b.node("Conv", [x, weight(b, [4, 3, 3, 3])], attributes: ["auto_pad": .string("SAME_UPPER"), "strides": .ints([2, 2])])[0]
        } == [1, 4, 6, 5])
    }

    @Test func transposedConvolution() throws {
        // 2·(5-1) + 1 (output_padding) + 3 - 2 = 10 rows, 2·6 + 0 + 3 - 2 = 13 columns; 6·group channels.
        let up = graph([1, 4, 5, 7]) { b, x in
            b.convTranspose(x, weight(b, [4, 6, 3, 3]), strides: [2, 2], pads: [1, 1, 1, 1], outputPadding: [1, 0], group: 2)
        }
        #expect(try up.inferShapes()["y"] == [1, 12, 10, 13])
        // Per INPUT pixel: N·Hin·Win·Cin·(Cout/group)·kh·kw.
        #expect(try up.multiplyAccumulates().total == 5 * 7 * 4 * 6 * 3 * 3)
        #expect(try inferred([1, 4, 5, 7]) { b, x in
            b.node("ConvTranspose", [x, weight(b, [4, 2, 3, 3])], attributes: ["dilations": .ints([2, 2]), "strides": .ints([2, 2])])[0]
        } == [1, 2, 13, 17])
        #expect(try inferred([1, 4, 5, 7]) { b, x in
            b.node("ConvTranspose", [x, weight(b, [4, 2, 3, 3])], attributes: ["output_shape": .ints([11, 14]), "strides": .ints([2, 2])])[0]
        } == [1, 2, 11, 14])
    }

    @Test func matrixProducts() throws {
        let batched = graph([2, 1, 5, 3]) { b, x in b.matMul(x, weight(b, [4, 3, 6])) }
        #expect(try batched.inferShapes()["y"] == [2, 4, 5, 6])
        #expect(try batched.multiplyAccumulates().total == 2 * 4 * 5 * 6 * 3)
        #expect(try inferred([3]) { b, x in b.matMul(x, weight(b, [3, 6])) } == [6])
        #expect(try inferred([5, 3]) { b, x in b.matMul(x, weight(b, [3])) } == [5])
        let gemm = graph([4, 3]) { b, x in
            b.node("Gemm", [x, weight(b, [5, 4]), weight(b, [5])], attributes: ["transA": .int(1), "transB": .int(1)])[0]
        }
        #expect(try gemm.inferShapes()["y"] == [3, 5])
        #expect(try gemm.multiplyAccumulates().total == 3 * 5 * 4)
        #expect(try gemm.multiplyAccumulates().byOpType == ["Gemm": 60])
    }

    // MARK: Element-wise and normalization

    @Test func broadcastingAndItsErrors() throws {
        #expect(try inferred([2, 1, 4]) { b, x in b.add(x, weight(b, [3, 1])) } == [2, 3, 4])
        #expect(try inferred([2, 3]) { b, x in b.relu(b.sigmoid(x)) } == [2, 3])
        #expect(try inferred([1, 3]) { b, x in b.node("Where", [weight(b, [4, 1]), x, weight(b, [3])])[0] } == [4, 3])
        let bad = graph([2, 3]) { b, x in b.mul(x, weight(b, [4])) }
        let error = #expect(throws: IRError.self) { try bad.inferShapes() }
        #expect(error?.description.contains("Mul") == true, "\(String(describing: error))")
    }

    @Test func normalizations() throws {
        let scale = { (b: GraphBuilder) in self.weight(b, [6]) }
        #expect(try inferred([2, 5, 6]) { b, x in b.layerNormalization(x, scale: scale(b), bias: scale(b)) } == [2, 5, 6])
        #expect(try inferred([2, 6, 3, 3]) { b, x in
            b.batchNormalization(x, scale: scale(b), bias: scale(b), mean: scale(b), variance: scale(b))
        } == [2, 6, 3, 3])
        #expect(try inferred([2, 6]) { b, x in b.node("Softmax", [x], attributes: ["axis": .int(-1)])[0] } == [2, 6])
        let mismatched = graph([2, 5, 3, 3]) { b, x in b.batchNormalization(x, scale: scale(b), bias: scale(b), mean: scale(b), variance: scale(b)) }
        #expect(throws: IRError.self) { try mismatched.inferShapes() }
    }

    // MARK: Pooling and reduction

    @Test func pooling() throws {
        func maxPool(_ attributes: [String: Attribute]) -> (GraphBuilder, Value) -> Value {
            { b, x in b.node("MaxPool", [x], attributes: attributes.merging(["kernel_shape": .ints([3, 3])]) { a, _ in a })[0] }
        }
        #expect(try inferred([1, 3, 10, 10], maxPool(["strides": .ints([2, 2])])) == [1, 3, 4, 4])
        #expect(try inferred([1, 3, 10, 10], maxPool(["strides": .ints([2, 2]), "ceil_mode": .int(1)])) == [1, 3, 5, 5])
        #expect(try inferred([1, 3, 10, 10], maxPool(["strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1]), "ceil_mode": .int(1)])) == [1, 3, 6, 6])
        #expect(try inferred([1, 3, 10, 10]) { b, x in
            b.node("AveragePool", [x], attributes: ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])])[0]
        } == [1, 3, 5, 5])
        #expect(try inferred([2, 3, 7, 5]) { b, x in b.add(b.globalAveragePool(x), b.globalMaxPool(x)) } == [2, 3, 1, 1])
    }

    @Test func reductions() throws {
        #expect(try inferred([2, 3, 4, 5]) { b, x in b.reduceMean(x, axes: [2, 3], keepDims: false) } == [2, 3])
        #expect(try inferred([2, 3, 4, 5], opset: 18) { b, x in b.reduceMean(x, axes: [-1]) } == [2, 3, 4, 1])
        #expect(try inferred([2, 3, 4]) { b, x in b.node("ReduceSum", [x])[0] } == [1, 1, 1])
        #expect(try inferred([2, 3, 4]) { b, x in b.node("ArgMax", [x], attributes: ["axis": .int(1), "keepdims": .int(0)])[0] } == [2, 4])
    }

    // MARK: Shape manipulation

    @Test func reshapesFromShapeArithmetic() throws {
        // PyTorch's export of x.view(x.size(0), -1): Shape -> Gather -> Unsqueeze -> Concat -> Reshape.
        let exported = graph([2, 3, 4, 5]) { b, x in
            let shape = b.node("Shape", [x])[0]
            let batch = b.node("Gather", [shape, b.constant(Tensor(scalar: Int64(0)))], attributes: ["axis": .int(0)])[0]
            let unsqueezed = b.node("Unsqueeze", [batch, b.constant(ints: [0])])[0]
            let target = b.concat([unsqueezed, b.constant(ints: [-1])], axis: 0)
            return b.node("Reshape", [x, target])[0]
        }
        let shapes = try exported.inferShapes()
        #expect(shapes["y"] == [2, 60])
        #expect(shapes.integerValues.values.contains([2, -1]))
        #expect(try inferred([2, 3, 4, 5]) { b, x in b.reshape(x, [0, -1, 5]) } == [2, 12, 5])
        #expect(try inferred([2, 3, 4, 5]) { b, x in
            b.node("Reshape", [x, b.node("Constant", [], attributes: ["value_ints": .ints([6, 20])])[0]])[0]
        } == [6, 20])
        #expect(throws: IRError.self) { try graph([2, 3]) { b, x in b.reshape(x, [4, -1]) }.inferShapes() }
    }

    @Test func layoutOps() throws {
        #expect(try inferred([2, 3, 4, 5]) { b, x in b.flatten(x, axis: 2) } == [6, 20])
        #expect(try inferred([2, 3, 4, 5]) { b, x in b.transpose(x, perm: [0, 2, 3, 1]) } == [2, 4, 5, 3])
        #expect(try inferred([2, 3, 4]) { b, x in b.concat([x, weight(b, [2, 3, 1])], axis: -1) } == [2, 3, 5])
        #expect(throws: IRError.self) { try graph([2, 3, 4]) { b, x in b.concat([x, weight(b, [2, 2, 1])], axis: -1) }.inferShapes() }
        #expect(try inferred([3, 4]) { b, x in b.node("Unsqueeze", [x, b.constant(ints: [0, -1])])[0] } == [1, 3, 4, 1])
        #expect(try inferred([1, 3, 1, 4]) { b, x in b.node("Squeeze", [x])[0] } == [3, 4])
        // Opset 11 form: axes as an attribute.
        #expect(try inferred([1, 3, 1, 4], opset: 11) { b, x in b.node("Squeeze", [x], attributes: ["axes": .ints([2])])[0] } == [1, 3, 4])
        let split = graph([10, 4]) { b, x in
            let parts = b.node("Split", [x], attributes: ["axis": .int(0), "num_outputs": .int(4)], outputCount: 4)
            return b.concat([parts[0], parts[3]], axis: 0)
        }
        #expect(try split.inferShapes()["y"] == [4, 4])  // 3 + 1
        #expect(try inferred([6, 4]) { b, x in b.node("Split", [x, b.constant(ints: [2, 4])], outputCount: 2)[1] } == [4, 4])
    }

    @Test func slices() throws {
        // Ends past the end clamp; step 3 over 0..<20 takes 7.
        #expect(try inferred([10, 20]) { b, x in b.slice(x, starts: [-3, 0], ends: [100, 20], axes: [0, 1], steps: [1, 3]) } == [3, 7])
        // Backwards from 8 to the start in steps of 2: 8, 6, 4, 2, 0.
        #expect(try inferred([10, 20]) { b, x in b.slice(x, starts: [8], ends: [-100], axes: [1], steps: [-2]) } == [10, 5])
        // Opset 1-9 form: attributes.
        #expect(try inferred([10, 20], opset: 9) { b, x in
            b.node("Slice", [x], attributes: ["starts": .ints([2]), "ends": .ints([5]), "axes": .ints([1])])[0]
        } == [10, 3])
    }

    @Test func paddingAndResizing() throws {
        #expect(try inferred([1, 3, 4, 4]) { b, x in b.node("Pad", [x, b.constant(ints: [0, 0, 1, 2, 0, 0, 3, 4])])[0] } == [1, 3, 8, 10])
        let scales = { (b: GraphBuilder) in b.constant(Tensor(shape: [4], scalars: [Float(1), 1, 2, 1.5])) }
        #expect(try inferred([1, 3, 5, 5]) { b, x in b.node("Resize", [x, nil, scales(b)], attributes: ["mode": .string("nearest")])[0] } == [1, 3, 10, 7])
        #expect(try inferred([1, 3, 5, 5]) { b, x in b.node("Resize", [x, nil, nil, b.constant(ints: [1, 3, 7, 9])])[0] } == [1, 3, 7, 9])
        // Opset 10 form: (X, scales).
        #expect(try inferred([1, 3, 5, 5], opset: 10) { b, x in b.node("Resize", [x, scales(b)])[0] } == [1, 3, 10, 7])
    }

    // MARK: What stays unknown

    @Test func unknownOpsAreReportedNotGuessed() throws {
        let g = graph([2, 3]) { b, x in
            let custom = b.node("FancyOp", [x])[0]
            return b.matMul(b.relu(custom), weight(b, [3, 4]))
        }
        let shapes = try g.inferShapes()
        #expect(shapes["y"] == nil)
        #expect(shapes.unresolved.map(\.opType) == ["FancyOp"])  // the root cause only
        let macs = try g.multiplyAccumulates()
        #expect(macs.total == 0 && !macs.isComplete)
        #expect(macs.uncounted.map(\.opType) == ["FancyOp", "MatMul"])

        // A computed (not constant) reshape target stays unknown too.
        let dynamic = graph([2, 3]) { b, x in b.node("Reshape", [x, b.node("NonZero", [x])[0]])[0] }
        #expect(try dynamic.inferShapes().unresolved.map(\.opType) == ["NonZero"])
    }

    @Test func inputShapesDefaultsAndOverrides() throws {
        let b = GraphBuilder()
        let x = b.input("x", shape: ["batch", 3, "height", "width"])
        b.output(b.conv(x, weight(b, [4, 3, 3, 3])), name: "y")
        let g = b.build()
        let free = try g.inferShapes()
        #expect(free.unresolved.map(\.node) == ["x"] && free["y"] == nil)
        #expect(try g.inferShapes(inputs: ["x": [2, 3, 9, 7]])["y"] == [2, 4, 7, 5])
        #expect(throws: IRError.self) { try g.inferShapes(inputs: ["x": [2, 4, 9, 7]]) }  // declared 3 channels
        #expect(throws: IRError.self) { try g.inferShapes(inputs: ["z": [1]]) }

        // A free batch alone counts as 1.
        let batchOnly = GraphBuilder()
        let input = batchOnly.input("x", shape: ["N", 3, 8, 8])
        batchOnly.output(batchOnly.conv(input, weight(batchOnly, [4, 3, 1, 1])), name: "y")
        #expect(try batchOnly.build().inferShapes()["y"] == [1, 4, 8, 8])
    }

    @Test func inconsistentConvolutionNamesTheNode() throws {
        let b = GraphBuilder()
        let x = b.input("x", shape: [1, 3, 8, 8])
        let y = b.scoped("stem") { b.conv(x, weight(b, [4, 2, 3, 3])) }
        b.output(y)
        let error = #expect(throws: IRError.self) { try b.build().inferShapes() }
        #expect(error?.description.contains("stem/Conv") == true, "\(String(describing: error))")
    }

    // MARK: Real exports

    /// torch.onnx.export files from Converters/python/make_runtime_fixtures.py; the MACs equal
    /// FlopCounterMode ÷ 2 of the same torch models on 1x3x224x224 (run once with
    /// /work/venv-torch: convnext_tiny 4,455,531,264, resnet18 1,814,073,344).
    @Test(
        .enabled(
            if: Fixtures.exists("generated/runtime/convnext_tiny_opset18.onnx"),
            "generated fixtures absent: run Converters/python/make_runtime_fixtures.py"),
        arguments: [
            ("convnext_tiny_opset17.onnx", 4_455_531_264), ("convnext_tiny_opset18.onnx", 4_455_531_264),
            ("resnet18_opset17.onnx", 1_814_073_344), ("resnet18_opset18.onnx", 1_814_073_344),
        ])
    func pytorchExportsCountLikeTorch(_ file: String, macs: Int) throws {
        let model = try ONNXReader.read(path: Fixtures.path("generated/runtime/\(file)"))
        let count = try model.graph.multiplyAccumulates()
        #expect(count.isComplete, "\(count.uncounted.prefix(3))")
        #expect(count.total == macs)
    }
}
