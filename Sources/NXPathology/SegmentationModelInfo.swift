/// Everything the pipeline needs to know about a segmentation model, read from its metadata
/// (HISTONEXT.md §8): the tiling geometry (required), the input normalisation, which graph
/// outputs are np / hv / tp, and the class names.
///
/// Defaults when a key is absent: `nx.input_scale` 1/255, `nx.input_mean` 0,0,0,
/// `nx.input_std` 1,1,1, `nx.output_names` "np,hv,tp", `nx.num_types` from `nx.class_names`
/// (or unknown until the first run), `nx.class_names` "background,type1,...". A model whose
/// `nx.output_names` lists two names has no type branch.
public struct SegmentationModelInfo: Equatable, Sendable {
    public let geometry: TileGeometry
    public let normalization: InputNormalization
    /// Graph output names for the nucleus-pixel logits, the horizontal/vertical maps and (if
    /// the model classifies) the type logits.
    public let npOutput: String
    public let hvOutput: String
    public let tpOutput: String?
    /// Type channels, background included; nil when the metadata does not say.
    public let typeCount: Int?
    /// One name per type, index 0 = background (empty for a model without a type branch).
    public let classNames: [String]

    public init(metadata: [String: String]) throws {
        let reader = MetadataReader(metadata: metadata)
        geometry = try TileGeometry(metadata: metadata)
        normalization = try InputNormalization(metadata: metadata)

        let names = reader.optionalString("nx.output_names") == nil ? ["np", "hv", "tp"] : try reader.list("nx.output_names")
        guard names.count == 2 || names.count == 3, !names.contains(where: \.isEmpty), Set(names).count == names.count else {
            throw ModelContractError.metadata(key: "nx.output_names", message: "'\(names.joined(separator: ","))' must name 2 or 3 distinct outputs: np,hv[,tp]")
        }
        npOutput = names[0]
        hvOutput = names[1]
        tpOutput = names.count == 3 ? names[2] : nil

        var typeCount: Int? = nil
        if reader.optionalString("nx.num_types") != nil {
            let count = try reader.int("nx.num_types")
            guard count >= 1 else { throw ModelContractError.metadata(key: "nx.num_types", message: "must be at least 1, is \(count)") }
            typeCount = count
        }
        var classNames: [String] = []
        if reader.optionalString("nx.class_names") != nil {
            classNames = try reader.list("nx.class_names")
            if classNames.contains(where: \.isEmpty) {
                throw ModelContractError.metadata(key: "nx.class_names", message: "contains an empty name")
            }
            if let typeCount, typeCount != classNames.count {
                throw ModelContractError.metadata(key: "nx.class_names", message: "has \(classNames.count) names but nx.num_types is \(typeCount)")
            }
            typeCount = typeCount ?? classNames.count
        }
        if tpOutput == nil {
            typeCount = nil
            classNames = []
        } else if classNames.isEmpty, let typeCount {
            classNames = Self.defaultClassNames(typeCount)
        }
        self.typeCount = typeCount
        self.classNames = classNames
    }

    /// "background", "type1", ... as an export with random weights writes them.
    public static func defaultClassNames(_ count: Int) -> [String] {
        (0..<count).map { $0 == 0 ? "background" : "type\($0)" }
    }
}

/// How 8-bit RGB becomes the model's float input: `x = (pixel * scale - mean[c]) / std[c]`.
public struct InputNormalization: Equatable, Sendable {
    public let scale: Float
    public let mean: [Float]
    public let std: [Float]

    public init(scale: Float = 1 / 255, mean: [Float] = [0, 0, 0], std: [Float] = [1, 1, 1]) throws {
        guard scale.isFinite, scale != 0 else { throw ModelContractError.metadata(key: "nx.input_scale", message: "must be a non-zero number") }
        guard mean.count == 3 else { throw ModelContractError.metadata(key: "nx.input_mean", message: "needs 3 values") }
        guard std.count == 3, std.allSatisfy({ $0 != 0 && $0.isFinite }) else {
            throw ModelContractError.metadata(key: "nx.input_std", message: "needs 3 non-zero values")
        }
        self.scale = scale
        self.mean = mean
        self.std = std
    }

    public init(metadata: [String: String]) throws {
        let reader = MetadataReader(metadata: metadata)
        try self.init(
            scale: reader.float("nx.input_scale", default: 1 / 255),
            mean: reader.floats("nx.input_mean", count: 3, default: [0, 0, 0]),
            std: reader.floats("nx.input_std", count: 3, default: [1, 1, 1]))
    }

    /// The normalised value of every byte for each channel: 3 x 256 floats, so converting
    /// a tile is a table lookup per sample.
    public var lookupTable: [Float] {
        (0..<3).flatMap { channel in (0..<256).map { (Float($0) * scale - mean[channel]) / std[channel] } }
    }
}
