/// Why post-processing refused its input, naming the map, option or index at fault.
public enum PostProcessingError: Error, Equatable, CustomStringConvertible {
    /// The image size is not positive, or the image has 2^31 pixels or more.
    case invalidSize(width: Int, height: Int)
    /// A map has the wrong number of values for the image size.
    case sizeMismatch(map: String, expected: Int, actual: Int)
    /// A map holds NaN or an infinity at a flat (row-major, channel-major) index.
    case nonFinite(map: String, index: Int, value: Float)
    /// A type map holds a value that is no type (negative, or not below the type count).
    case invalidType(map: String, index: Int, value: Int)
    /// An instance map holds a negative label at a flat (row-major) index.
    case invalidLabel(index: Int, value: Int32)
    /// An option is out of range; the second value says how.
    case invalidOption(String, String)

    public var description: String {
        switch self {
        case .invalidSize(let width, let height): "image size \(width)x\(height) is not positive or exceeds 2^31 - 1 pixels"
        case .sizeMismatch(let map, let expected, let actual): "\(map): expected \(expected) values, got \(actual)"
        case .nonFinite(let map, let index, let value): "\(map): value \(value) at index \(index) is not finite"
        case .invalidType(let map, let index, let value): "\(map): value \(value) at index \(index) is not a type id"
        case .invalidLabel(let index, let value): "instance map: label \(value) at index \(index) is negative"
        case .invalidOption(let name, let problem): "post-processing option \(name) \(problem)"
        }
    }
}
