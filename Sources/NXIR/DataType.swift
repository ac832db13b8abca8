/// Element types of tensors, with ONNX's `TensorProto.DataType` codes as raw values so the
/// format layer maps them without a table.
public enum DataType: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case float32 = 1
    case uint8 = 2
    case int8 = 3
    case uint16 = 4
    case int16 = 5
    case int32 = 6
    case int64 = 7
    case string = 8
    case bool = 9
    case float16 = 10
    case float64 = 11
    case uint32 = 12
    case uint64 = 13
    case bfloat16 = 16

    /// Bytes per element; `nil` for strings, whose elements have no fixed size.
    public var byteSize: Int? {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16, .float16, .bfloat16: 2
        case .int32, .uint32, .float32: 4
        case .int64, .uint64, .float64: 8
        case .string: nil
        }
    }

    public var isFloatingPoint: Bool {
        switch self {
        case .float16, .bfloat16, .float32, .float64: true
        default: false
        }
    }

    /// Lower-case names as used in messages and `nx inspect` (numpy's spelling).
    public var description: String {
        switch self {
        case .float32: "float32"
        case .uint8: "uint8"
        case .int8: "int8"
        case .uint16: "uint16"
        case .int16: "int16"
        case .int32: "int32"
        case .int64: "int64"
        case .string: "string"
        case .bool: "bool"
        case .float16: "float16"
        case .float64: "float64"
        case .uint32: "uint32"
        case .uint64: "uint64"
        case .bfloat16: "bfloat16"
        }
    }

    /// Parses the names `description` produces.
    public init?(name: String) {
        guard let match = DataType.allCases.first(where: { $0.description == name }) else { return nil }
        self = match
    }
}
