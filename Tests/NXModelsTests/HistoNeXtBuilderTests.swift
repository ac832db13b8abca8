import NXIR
import NXModels
import Testing

/// The HistoNeXt graph's contract (Spec/HISTONEXT.md §5, §8): its inputs, outputs, metadata,
/// crops, operator set, parameter names and seeded initialisation, and the errors of bad
/// configurations.
@Suite struct HistoNeXtBuilderTests {
    private func build(_ config: HistoNeXtConfig, numTypes: Int = 6, classNames: [String]? = nil) throws -> (Model, ShapeOnlyParameters) {
        var parameters = ShapeOnlyParameters()
        let model = try HistoNeXt.model(config, numTypes: numTypes, classNames: classNames, parameters: &parameters)
        return (model, parameters)
    }

    @Test func interfaceAndMetadataFollowTheSpec() throws {
        let pannuke = ["background", "neoplastic", "inflammatory", "connective", "dead", "epithelial"]
        let (model, _) = try build(.base, classNames: pannuke)
        let graph = model.graph
        #expect(graph.runtimeInputs.map(\.name) == ["input"])
        #expect(graph.runtimeInputs[0].shape == ["batch", 3, 270, 270])
        #expect(graph.runtimeInputs[0].elementType == .float32)
        #expect(graph.outputs.map(\.name) == ["np", "hv", "tp"])
        #expect(graph.outputs.map(\.shape) == [["batch", 2, 80, 80], ["batch", 2, 80, 80], ["batch", 6, 80, 80]])
        #expect(model.opsetVersion(for: "") == 17)
        #expect(model.metadata == [
            "nx.family": "histonext", "nx.variant": "base", "nx.input_size": "270", "nx.input_scale": "0.003921569",
            "nx.input_mean": "0,0,0", "nx.input_std": "1,1,1", "nx.output_names": "np,hv,tp", "nx.output_size": "80",
            "nx.output_stride": "2", "nx.output_offset": "55", "nx.output_window": "160", "nx.num_types": "6",
            "nx.class_names": pannuke.joined(separator: ","),
        ])

        let (typed, _) = try build(.micro, numTypes: 3)
        #expect(typed.metadata["nx.class_names"] == "background,type1,type2")
        #expect(typed.metadata["nx.num_types"] == "3")
        #expect(typed.graph.outputs[2].shape == ["batch", 3, 80, 80])
    }

    @Test func outputsHaveTheirShapesForAnyBatch() throws {
        let (model, _) = try build(.micro)
        let shapes = try model.graph.inferShapes(inputs: ["input": [3, 3, 270, 270]])
        #expect(shapes.isComplete)
        #expect(shapes["np"] == [3, 2, 80, 80])
        #expect(shapes["hv"] == [3, 2, 80, 80])
        #expect(shapes["tp"] == [3, 6, 80, 80])
    }

    /// §5: u3 17 -> 16 (rows 1..16), u0 135 -> 80 (rows 28..107); TP 19 -> 16 (2..17),
    /// 35 -> 33, 69 -> 67 (1..), 137 -> 80 (29..108); the window starts at input 55.
    @Test func cropsAreConstantSlicesAtTheSpecRows() throws {
        let geometry = try HistoNeXtGeometry(inputSize: 270, outputSize: 80)
        #expect(geometry.featureSizes == [67, 33, 16, 8])
        #expect(geometry.denseCrops.map(\.upSize) == [17, 33, 67, 135])
        #expect(geometry.denseCrops.map(\.start) == [1, 0, 0, 28])
        #expect(geometry.typeCrops.map(\.upSize) == [19, 35, 69, 137])
        #expect(geometry.typeCrops.map(\.start) == [2, 1, 1, 29])
        #expect(geometry.outputOffset == 55 && geometry.outputWindow == 160)

        let (model, _) = try build(.micro)
        let graph = model.graph
        // Crop bounds are constants: Constant nodes, as the builder writes them.
        var constants: [String: Tensor] = [:]
        for node in graph.nodes where node.opType == "Constant" {
            constants[node.outputs[0]] = node.attributes["value"]?.tensorValue
        }
        let slices = graph.nodes.filter { $0.opType == "Slice" }
        // NP/HV crops at u3 and u0; TP crops at every stage.
        #expect(slices.count == 6)
        var starts: [String: Int] = [:]
        for slice in slices {
            for input in slice.inputs.dropFirst() {
                #expect(constants[input] != nil, "\(slice.label): \(input) is computed at run time")
            }
            let begin = try #require(try constants[slice.inputs[1]]?.intValues())
            let end = try #require(try constants[slice.inputs[2]]?.intValues())
            #expect(try constants[slice.inputs[3]]?.intValues() == [2, 3])
            #expect(begin[0] == begin[1] && end[0] - begin[0] == end[1] - begin[1])
            starts[slice.name] = begin[0]
        }
        #expect(starts.filter { $0.key.hasPrefix("decoder") }.values.sorted() == [1, 28])
        #expect(starts.filter { $0.key.hasPrefix("tp") }.values.sorted() == [1, 1, 2, 29])
    }

    @Test func inputSizesOffTheCentredGridAreRejected() throws {
        #expect(throws: ModelError.self) { try HistoNeXtGeometry(inputSize: 256, outputSize: 80) }
        #expect(throws: ModelError.self) { try HistoNeXtGeometry(inputSize: 64, outputSize: 80) }
        var config = HistoNeXtConfig.micro
        config.inputSize = 256
        #expect(throws: ModelError.self) { try build(config) }
    }

    @Test func badTypesAndClassNamesAreRejected() throws {
        #expect(throws: ModelError.self) { try build(.micro, numTypes: 3, classNames: ["background", "a"]) }
        #expect(throws: ModelError.self) { try build(.micro, numTypes: 2, classNames: ["background", "a,b"]) }
        #expect(throws: ModelError.self) { try build(.micro, numTypes: 0) }
        #expect(throws: ModelError.self) { try HistoNeXtConfig.named("huge") }
        #expect(try HistoNeXtConfig.named("histonext_Base") == .base)
    }

    /// §8: only these operators, BatchNormalization in inference form (one output, no training).
    @Test func graphUsesTheSpecOperators() throws {
        let (model, _) = try build(.micro)
        let used = Set(model.graph.nodes.map(\.opType))
        let allowed: Set = [
            "Conv", "Transpose", "LayerNormalization", "Div", "Erf", "Add", "Mul", "Constant",  // encoder
            "ConvTranspose", "Slice", "Concat", "BatchNormalization", "Relu", "GlobalAveragePool", "GlobalMaxPool", "Sigmoid",
        ]
        #expect(used.isSubset(of: allowed), "\(used.subtracting(allowed))")
        #expect(used.isSuperset(of: ["ConvTranspose", "Slice", "Concat", "BatchNormalization", "GlobalMaxPool", "Sigmoid"]))
        for node in model.graph.nodes where node.opType == "BatchNormalization" {
            #expect(node.outputs.count == 1 && node.attributes["training_mode"] == nil)
        }
        // Decoder convs have no bias; only the heads and the attention 1x1s do.
        for node in model.graph.nodes where node.opType == "Conv" && !node.name.hasPrefix("encoder.") {
            let biased = node.inputs.count == 3
            let mayHaveBias = node.name.contains("head") || node.name.contains("attention")
            #expect(biased == mayHaveBias, "\(node.label)")
        }
    }

    /// §8: 176 state-dict tensors outside encoder.* (without num_batches_tracked) for every
    /// variant, with the spec's name patterns and shapes.
    @Test(arguments: ["tiny", "base", "atto", "mini", "micro"])
    func decoderParameterNamesFollowTheReference(_ variant: String) throws {
        let config = try HistoNeXtConfig.named(variant)
        let (_, parameters) = try build(config)
        let decoder = parameters.requested.filter { !$0.name.hasPrefix("encoder.") }
        #expect(decoder.count == 176)
        let shapes = Dictionary(uniqueKeysWithValues: parameters.requested.map { ($0.name, $0.shape) })
        let c3 = config.encoder.dims[3]
        #expect(shapes["decoder.up3.weight"] == [c3, config.upWidths[0], 3, 3])
        #expect(shapes["tp.up3.weight"] == [c3, config.tpWidths[0], 5, 5])
        #expect(shapes["tp.cam0.layers.3.conv.weight"] == [config.tpWidths[3], config.tpWidths[3] / 12, 5, 5])
        #expect(shapes["tp.cam0.attention.fc1.weight"] == [max(1, config.tpWidths[3] / 16), config.tpWidths[3], 1, 1])
        #expect(shapes["decoder.dense1.layers.5.norm.running_var"] != nil)
        #expect(shapes["decoder.np_head.bias"] == [2] && shapes["tp.head.bias"] == [6])
        #expect(shapes["encoder.stages.3.blocks.0.mlp.fc1.weight"] != nil && shapes["encoder.head.fc.weight"] == nil)
    }

    /// Encoder as timm initialises it; decoder as torch's defaults (the reference has no init
    /// of its own): conv weights U(+-1/sqrt(fan_in)), BatchNorm 1/0 with running stats 0/1.
    @Test func seededInitialisationFollowsTimmAndTorch() throws {
        var parameters = SeededParameters(seed: 7)
        let model = try HistoNeXt.model(.micro, parameters: &parameters)
        let weights = model.graph.initializers
        func values(_ name: String) throws -> [Float] { try #require(try weights[name]?.floatValues(), "\(name)") }

        let stem = try values("encoder.stem.0.weight")
        #expect(stem.allSatisfy { abs($0) <= 2 } && stem.contains { $0 != 0 })
        let std = (stem.reduce(0) { $0 + $1 * $1 } / Float(stem.count)).squareRoot()
        #expect(abs(std - 0.02) < 0.004, "stem std \(std)")
        #expect(try values("encoder.stages.0.blocks.0.gamma").allSatisfy { $0 == 1e-6 })

        // ConvTranspose fan_in is out/groups * k * k (torch reads the weight's dim 1).
        let up = try values("tp.up0.weight")
        let upBound = 1 / Float(12 * 25).squareRoot()
        #expect(up.allSatisfy { abs($0) <= upBound } && up.max()! > upBound * 0.9)
        let cam = try values("tp.cam3.layers.0.conv.weight")  // [24, 2, 5, 5], fan_in 50
        #expect(cam.allSatisfy { abs($0) <= 1 / Float(50).squareRoot() } && cam.max()! > 0.9 / Float(50).squareRoot())
        let headBias = try values("tp.head.bias")
        #expect(headBias.allSatisfy { abs($0) <= 1 / Float(12).squareRoot() } && headBias.contains { $0 != 0 })

        #expect(try values("decoder.dense0.norm.weight").allSatisfy { $0 == 1 })
        #expect(try values("decoder.dense0.norm.bias").allSatisfy { $0 == 0 })
        #expect(try values("tp.cam1.layers.2.norm.running_mean").allSatisfy { $0 == 0 })
        #expect(try values("tp.cam1.layers.2.norm.running_var").allSatisfy { $0 == 1 })

        var again = SeededParameters(seed: 7)
        #expect(try HistoNeXt.model(.micro, parameters: &again).graph == model.graph)
        #expect(again.initialized == parameters.initialized)
    }
}
