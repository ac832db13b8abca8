import NXIR

/// HistoNeXt as an ONNX graph, computing exactly what Converters/python/histonext_reference.py
/// computes in eval mode (Spec/HISTONEXT.md): a timm ConvNeXt encoder, the shared NP/HV dense
/// decoder and the ConvCAM type branch, with the reference's state-dict names as initializer
/// names (encoder.*, decoder.*, tp.*).
///
/// Graph: input "input" float32 [batch, 3, S, S] (S = 270 for every published variant, RGB in
/// [0, 1]); outputs "np" [batch, 2, 80, 80], "hv" [batch, 2, 80, 80] and "tp"
/// [batch, numTypes, 80, 80], all raw logits / values. BatchNorms are the inference form;
/// crops are Slices with constant starts and ends, so nothing is computed from shapes at run time.
public enum HistoNeXt {
    /// Preprocessing the graph expects (outside it): x = pixel · inputScale, no mean/std (§2).
    public static let inputScale: Float = 1 / 255
    public static let inputMean: [Float] = [0, 0, 0]
    public static let inputStd: [Float] = [1, 1, 1]
    public static let outputNames = ["np", "hv", "tp"]

    /// What an export with random weights calls the types: background, type1, ...
    public static func defaultClassNames(numTypes: Int) -> [String] {
        (0..<numTypes).map { $0 == 0 ? "background" : "type\($0)" }
    }

    public static func model(
        _ config: HistoNeXtConfig, numTypes: Int = 6, classNames: [String]? = nil,
        parameters: inout some ParameterSource, opset: Int = Model.defaultOpset
    ) throws -> Model {
        let names = classNames ?? defaultClassNames(numTypes: numTypes)
        try check(config, numTypes: numTypes, classNames: names)
        let geometry = try HistoNeXtGeometry(inputSize: config.inputSize, outputSize: config.outputSize, variant: config.variant)

        let b = GraphBuilder(name: "histonext_\(config.variant)", opset: opset)
        let size = Dimension.fixed(config.inputSize)
        let input = b.input("input", shape: ["batch", 3, size, size])
        let features = try b.scoped("encoder") {
            try ConvNeXt.encoder(b, input: input, config: config.encoder, parameters: &parameters)
        }
        let (nuclei, distances) = try b.scoped("decoder") {
            try denseDecoder(b, features, config: config, geometry: geometry, parameters: &parameters)
        }
        let types = try b.scoped("tp") {
            try typeDecoder(b, features, config: config, geometry: geometry, numTypes: numTypes, parameters: &parameters)
        }
        let out = Dimension.fixed(config.outputSize)
        b.output(nuclei, name: "np", shape: ["batch", 2, out, out])
        b.output(distances, name: "hv", shape: ["batch", 2, out, out])
        b.output(types, name: "tp", shape: ["batch", .fixed(numTypes), out, out])

        func list(_ values: [Float]) -> String { values.map { "\(Int($0))" }.joined(separator: ",") }
        let metadata = [
            "nx.family": "histonext",
            "nx.variant": config.variant,
            "nx.input_size": "\(config.inputSize)",
            "nx.input_scale": "\(inputScale)",
            "nx.input_mean": list(inputMean),
            "nx.input_std": list(inputStd),
            "nx.output_names": outputNames.joined(separator: ","),
            "nx.output_size": "\(geometry.outputSize)",
            "nx.output_stride": "\(geometry.outputStride)",
            "nx.output_offset": "\(geometry.outputOffset)",
            "nx.output_window": "\(geometry.outputWindow)",
            "nx.num_types": "\(numTypes)",
            "nx.class_names": names.joined(separator: ","),
        ]
        return b.model(metadata: metadata, docString: "HistoNeXt-\(config.variant) (Spec/HISTONEXT.md)")
    }

    private static func check(_ config: HistoNeXtConfig, numTypes: Int, classNames: [String]) throws(ModelError) {
        func fail(_ message: String) -> ModelError { .configuration(config.variant, message) }
        guard numTypes >= 1 else { throw fail("numTypes \(numTypes) must be at least 1 (background)") }
        guard classNames.count == numTypes else {
            throw fail("\(classNames.count) class names for \(numTypes) types")
        }
        if let bad = classNames.first(where: { $0.isEmpty || $0.contains(",") }) {
            throw fail("class name '\(bad)' is empty or contains a comma (nx.class_names is comma-separated)")
        }
        guard [config.denseLayers, config.camLayers].allSatisfy({ $0.count == 4 }) else {
            throw fail("denseLayers and camLayers need one entry per decoder stage (4)")
        }
        if let width = config.tpWidths.first(where: { $0 % config.camGroups != 0 }) {
            throw fail("ConvCAM width \(width) is not a multiple of its \(config.camGroups) groups")
        }
    }
}
