/// A HistoNeXt variant: its ConvNeXt encoder and the widths of the two decoder branches, as
/// `HistoNeXtConfig` in Converters/python/histonext_reference.py defines them (Spec/HISTONEXT.md §6).
///
/// Per-stage lists are in execution order u3, u2, u1, u0 (`HistoNeXtConfig.stages`).
public struct HistoNeXtConfig: Sendable, Equatable {
    public let variant: String
    public let encoder: ConvNeXtConfig
    /// Dense growth rate k per stage; every dense layer adds k channels.
    public let denseGrowth: [Int]
    /// Output channels of decoder.up{s} (the NP/HV transposed convs).
    public let upWidths: [Int]
    /// Output channels of tp.up{s} = width T of the ConvCAM block that follows.
    public let tpWidths: [Int]
    public var denseLayers = [2, 4, 6, 4]
    public var camLayers = [1, 2, 3, 4]
    public var camGroups = 12
    public var camReduction = 16
    /// Input height = width; the crops and the output window are worked out from it.
    public var inputSize = 270
    /// Output height = width.
    public var outputSize = 80
    /// BatchNorm epsilon (torch's default).
    public var batchNormEpsilon: Float = 1e-5

    /// Decoder stage names in execution order (HoVer-Net's u3, u2, u1, u0).
    public static let stages = [3, 2, 1, 0]

    public init(variant: String, encoder: ConvNeXtConfig, denseGrowth: [Int], upWidths: [Int], tpWidths: [Int]) {
        precondition([denseGrowth, upWidths, tpWidths].allSatisfy { $0.count == 4 }, "HistoNeXt has four decoder stages")
        self.variant = variant
        self.encoder = encoder
        self.denseGrowth = denseGrowth
        self.upWidths = upWidths
        self.tpWidths = tpWidths
    }

    // Base widths (the reference's BASE_*); every paper variant is Base x s, s = C3 / 1024.
    static let baseDenseGrowth = [512, 256, 128, 64]
    static let baseUpWidths = [512, 256, 128, 64]
    static let baseTPWidths = [1536, 240, 144, 48]

    /// A paper variant: the timm encoder of the same name, the decoder scaled from Base.
    private static func scaled(_ name: String) -> HistoNeXtConfig {
        let encoder = ConvNeXtConfig.variants.first { $0.variant == name }!
        let c3 = encoder.dims[3]
        // Exact for every paper variant (s = 0.75, 1, 1.5, 2 on multiples of 48).
        func scale(_ widths: [Int]) -> [Int] { widths.map { $0 * c3 / 1024 } }
        return HistoNeXtConfig(
            variant: name, encoder: encoder, denseGrowth: scale(baseDenseGrowth), upWidths: scale(baseUpWidths),
            tpWidths: scale(baseTPWidths))
    }

    public static let tiny = scaled("tiny")
    public static let base = scaled("base")
    public static let large = scaled("large")
    public static let xlarge = scaled("xlarge")
    /// CPU deployment variant: timm's convnext_atto encoder with a decoder narrow enough that the
    /// whole model (3.86 M parameters) exports to under 16 MB. Base x s (s = 0.3125) would need a
    /// 3.6 M-parameter decoder; the TP widths are ConvCAM's minimum, one channel per group.
    public static let atto = HistoNeXtConfig(
        variant: "atto", encoder: ConvNeXtConfig.variants.first { $0.variant == "atto" }!,
        denseGrowth: [16, 16, 12, 8], upWidths: [16, 16, 12, 8], tpWidths: [12, 12, 12, 12])
    /// Test miniature: Base / 8, ConvCAM widths rounded up to a multiple of 12.
    public static let mini = HistoNeXtConfig(
        variant: "mini", encoder: ConvNeXtConfig(variant: "mini", depths: [1, 1, 1, 1], dims: [16, 32, 64, 128]),
        denseGrowth: [64, 32, 16, 8], upWidths: [64, 32, 16, 8], tpWidths: [192, 36, 24, 12])
    /// Committed-fixture miniature (~180K parameters): same graph and names, narrower still.
    public static let micro = HistoNeXtConfig(
        variant: "micro", encoder: ConvNeXtConfig(variant: "micro", depths: [1, 1, 1, 1], dims: [8, 16, 32, 64]),
        denseGrowth: [12, 6, 6, 4], upWidths: [12, 6, 6, 4], tpWidths: [24, 12, 12, 12])

    public static let variants: [HistoNeXtConfig] = [tiny, base, large, xlarge, atto, mini, micro]

    public static func named(_ name: String) throws(ModelError) -> HistoNeXtConfig {
        let key = name.lowercased().replacingOccurrences(of: "histonext_", with: "")
        guard let config = variants.first(where: { $0.variant == key }) else {
            throw ModelError.unknownVariant(name, known: variants.map(\.variant))
        }
        return config
    }
}
