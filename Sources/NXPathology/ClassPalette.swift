/// Colours for nucleus types, shared by the overlay and the GeoJSON export so both agree.
/// Types 1-5 use HoVer-Net's PanNuke colours (red, green, blue, yellow, orange); later ones
/// continue with distinct hues. Type 0 (background) is gray, and nuclei without a type (a
/// model with no type branch) are drawn in cyan.
public enum ClassPalette {
    private static let fixed: [(UInt8, UInt8, UInt8)] = [
        (160, 160, 160), (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (255, 165, 0),
        (255, 0, 255), (0, 128, 128), (128, 0, 255), (128, 64, 0), (255, 128, 192), (0, 128, 0),
    ]
    public static let untyped: (UInt8, UInt8, UInt8) = (0, 255, 255)

    public static func color(forType type: Int?) -> (UInt8, UInt8, UInt8) {
        guard let type else { return untyped }
        if type >= 0 && type < fixed.count { return fixed[type] }
        // Golden-angle hues for types past the fixed list: distinct and stable per index.
        let hue = (Double(type) * 137.508).truncatingRemainder(dividingBy: 360) / 60
        let x = 1 - abs(hue.truncatingRemainder(dividingBy: 2) - 1)
        let (r, g, b): (Double, Double, Double) = switch Int(hue) {
        case 0: (1, x, 0)
        case 1: (x, 1, 0)
        case 2: (0, 1, x)
        case 3: (0, x, 1)
        case 4: (x, 0, 1)
        default: (1, 0, x)
        }
        return (UInt8(r * 255), UInt8(g * 255), UInt8(b * 255))
    }

    /// The class name for `type`: the model's name if it has one, else "type<N>".
    public static func name(forType type: Int, classNames: [String]) -> String {
        type >= 0 && type < classNames.count ? classNames[type] : "type\(type)"
    }
}
