/// A ConvNeXt configuration as timm defines it: blocks per stage and channels per stage.
public struct ConvNeXtConfig: Sendable, Equatable {
    public let variant: String
    public let depths: [Int]
    public let dims: [Int]
    /// timm's `ls_init_value`: the layer-scale gamma a fresh block starts with.
    public var layerScaleInit: Float = 1e-6
    /// LayerNorm epsilon of every norm in the network (timm uses 1e-6).
    public var epsilon: Float = 1e-6
    /// MLP hidden width as a multiple of the block's channels.
    public var mlpRatio = 4

    public init(variant: String, depths: [Int], dims: [Int]) {
        precondition(depths.count == 4 && dims.count == 4, "ConvNeXt has four stages")
        self.variant = variant
        self.depths = depths
        self.dims = dims
    }

    /// timm's model registry (convnext_<variant>).
    public static let variants: [ConvNeXtConfig] = [
        ConvNeXtConfig(variant: "atto", depths: [2, 2, 6, 2], dims: [40, 80, 160, 320]),
        ConvNeXtConfig(variant: "femto", depths: [2, 2, 6, 2], dims: [48, 96, 192, 384]),
        ConvNeXtConfig(variant: "pico", depths: [2, 2, 6, 2], dims: [64, 128, 256, 512]),
        ConvNeXtConfig(variant: "nano", depths: [2, 2, 8, 2], dims: [80, 160, 320, 640]),
        ConvNeXtConfig(variant: "tiny", depths: [3, 3, 9, 3], dims: [96, 192, 384, 768]),
        ConvNeXtConfig(variant: "small", depths: [3, 3, 27, 3], dims: [96, 192, 384, 768]),
        ConvNeXtConfig(variant: "base", depths: [3, 3, 27, 3], dims: [128, 256, 512, 1024]),
        ConvNeXtConfig(variant: "large", depths: [3, 3, 27, 3], dims: [192, 384, 768, 1536]),
        ConvNeXtConfig(variant: "xlarge", depths: [3, 3, 27, 3], dims: [256, 512, 1024, 2048]),
    ]

    public static func named(_ name: String) throws(ModelError) -> ConvNeXtConfig {
        let key = name.lowercased().replacingOccurrences(of: "convnext_", with: "")
        guard let config = variants.first(where: { $0.variant == key }) else {
            throw ModelError.unknownVariant(name, known: variants.map(\.variant))
        }
        return config
    }
}
