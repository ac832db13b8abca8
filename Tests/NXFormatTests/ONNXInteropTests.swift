import Foundation
import NXTestSupport
import Testing
import NXIR
@testable import NXFormat

/// Both directions against the real Python libraries: what we write passes `onnx.checker`
/// and runs in ONNX Runtime with the known answer; what `onnx.helper` writes reads here with
/// identical tensors, nodes and attributes.
@Suite(.enabled(if: PythonTool.shouldRun, "needs a Python with onnx, onnxruntime and numpy: set NX_PYTHON or make .venv"))
struct ONNXInteropTests {
    /// Conv(3x3, pad 1) -> Add(constant) -> Relu on a 1x2x5x5 input, with weights big enough
    /// (16 KiB) that external-data mode moves them out of the model.
    static func convAddRelu() -> (Model, input: [Float], weights: [Float], bias: [Float], shift: Float) {
        let channelsOut = 56, channelsIn = 2
        let weights = (0..<(channelsOut * channelsIn * 9)).map { Float(($0 * 7) % 11 - 5) / 8 }
        let bias = (0..<channelsOut).map { Float($0 % 5) / 4 - 0.5 }
        let input = (0..<(channelsIn * 25)).map { Float(($0 * 5) % 13 - 6) / 4 }
        let shift: Float = -0.75
        let b = GraphBuilder(name: "conv_add_relu")
        let x = b.input("x", shape: ["batch", 2, 5, 5])
        let w = b.initializer("conv.weight", Tensor(shape: [channelsOut, channelsIn, 3, 3], scalars: weights))
        let c = b.initializer("conv.bias", Tensor(shape: [channelsOut], scalars: bias))
        let y = b.relu(b.add(b.conv(x, w, bias: c, pads: [1, 1, 1, 1]), b.constant(scalar: shift)))
        b.output(y, name: "y", shape: ["batch", Dimension.fixed(channelsOut), 5, 5])
        return (b.model(metadata: ["purpose": "interop test"]), input, weights, bias, shift)
    }

    /// The answer computed directly from the definition of convolution.
    static func expectedOutput() -> [Float] {
        let (_, input, weights, bias, shift) = convAddRelu()
        var output: [Float] = []
        for o in 0..<56 {
            for i in 0..<5 {
                for j in 0..<5 {
                    var sum = bias[o]
                    for c in 0..<2 {
                        for ki in 0..<3 {
                            for kj in 0..<3 {
                                let (y, x) = (i + ki - 1, j + kj - 1)
                                guard (0..<5).contains(y), (0..<5).contains(x) else { continue }
                                sum += input[c * 25 + y * 5 + x] * weights[((o * 2 + c) * 3 + ki) * 3 + kj]
                            }
                        }
                    }
                    output.append(max(sum + shift, 0))
                }
            }
        }
        return output
    }

    @Test(arguments: [ExternalDataPolicy.inline, .external])
    func ourModelPassesCheckerAndRunsInOnnxRuntime(policy: ExternalDataPolicy) throws {
        let scratch = try TemporaryDirectory()
        let (model, input, _, _, _) = Self.convAddRelu()
        let path = scratch.file("model.onnx")
        try ONNXWriter.write(model, to: path, externalData: policy)
        #expect(FileManager.default.fileExists(atPath: path + ".data") == (policy == .external))
        let verdict = try PythonTool.run([PythonTool.converterScript("check_onnx_model.py"), path])
        #expect(verdict.contains("ok"))

        try Npy.write(Tensor(shape: [1, 2, 5, 5], scalars: input), to: scratch.file("x.npy"))
        _ = try PythonTool.run([PythonTool.converterScript("run_onnxruntime.py"), path, "x=\(scratch.file("x.npy"))", "--out", scratch.path])
        let output = try Npy.read(path: scratch.file("y.npy"))
        #expect(output.shape == [1, 56, 5, 5])
        let got = try output.scalars(as: Float.self)
        let expected = Self.expectedOutput()
        let worst = zip(got, expected).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst < 1e-5, "max abs difference \(worst)")
        #expect(expected.contains { $0 == 0 } && expected.contains { $0 > 0 }, "the answer must exercise Relu")
    }

    @Test func modelsWrittenByOnnxHelperReadIdentically() throws {
        let scratch = try TemporaryDirectory()
        _ = try PythonTool.run([PythonTool.converterScript("make_interop_fixtures.py"), scratch.path])
        let truth = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: scratch.file("helper_model.json")))) as! [String: Any]
        let model = try ONNXReader.read(path: scratch.file("helper_model.onnx"))
        let external = try ONNXReader.read(path: scratch.file("helper_model_external.onnx"))
        #expect(model.validate().isEmpty)
        #expect(external.graph.initializers == model.graph.initializers)
        #expect(external.graph.initializers.values.contains { $0.storage.isMapped })
        #expect(model.irVersion == truth["ir_version"] as! Int)
        #expect(model.metadata == truth["metadata_props"] as! [String: String])

        for entry in truth["initializers"] as! [[String: Any]] {
            let name = entry["name"] as! String
            let tensor = try #require(model.graph.initializers[name], "initializer \(name)")
            try expectTensor(tensor, matches: entry, label: name)
        }
        let nodes = truth["nodes"] as! [[String: Any]]
        #expect(model.graph.nodes.count == nodes.count)
        for (node, entry) in zip(model.graph.nodes, nodes) {
            #expect(node.name == entry["name"] as! String)
            #expect(node.opType == entry["op_type"] as! String)
            #expect(node.inputs == entry["inputs"] as! [String])
            #expect(node.outputs == entry["outputs"] as! [String])
            let attributes = entry["attributes"] as! [[String: Any]]
            #expect(node.attributes.count == attributes.count)
            for attribute in attributes {
                let name = attribute["name"] as! String
                let value = try #require(node.attributes[name], "\(node.name).\(name)")
                #expect(value.kind.rawValue == attribute["kind"] as! String)
                try expectAttribute(value, matches: attribute["value"]!, label: "\(node.name).\(name)")
            }
        }
    }

    private func expectTensor(_ tensor: Tensor, matches entry: [String: Any], label: String) throws {
        #expect(tensor.dataType.rawValue == Int32(entry["data_type"] as! Int), "\(label)")
        #expect(tensor.shape == entry["dims"] as! [Int], "\(label)")
        let values = (entry["values"] as! [NSNumber]).map(\.doubleValue)
        if tensor.dataType == .int64 || tensor.dataType == .int32 {
            #expect(try tensor.intValues().map(Double.init) == values, "\(label)")
        } else {
            #expect(try tensor.floatValues().map(Double.init) == values.map { Double(Float($0)) }, "\(label)")
        }
    }

    private func expectAttribute(_ value: Attribute, matches expected: Any, label: String) throws {
        switch value {
        case .float(let v): #expect(v == (expected as! NSNumber).floatValue, "\(label)")
        case .int(let v): #expect(v == expected as! Int, "\(label)")
        case .string(let v): #expect(v == expected as! String, "\(label)")
        case .floats(let v): #expect(v == (expected as! [NSNumber]).map(\.floatValue), "\(label)")
        case .ints(let v): #expect(v == expected as! [Int], "\(label)")
        case .strings(let v): #expect(v == expected as! [String], "\(label)")
        case .tensor(let t): try expectTensor(t, matches: expected as! [String: Any], label: label)
        }
    }
}
