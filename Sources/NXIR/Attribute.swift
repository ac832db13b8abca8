/// A node attribute: the ONNX attribute kinds this project reads and writes.
public enum Attribute: Equatable, Sendable, CustomStringConvertible {
    case float(Float)
    case int(Int)
    case string(String)
    case tensor(Tensor)
    case floats([Float])
    case ints([Int])
    case strings([String])

    public var kind: AttributeKind {
        switch self {
        case .float: .float
        case .int: .int
        case .string: .string
        case .tensor: .tensor
        case .floats: .floats
        case .ints: .ints
        case .strings: .strings
        }
    }

    public var floatValue: Float? { if case .float(let v) = self { v } else { nil } }
    public var intValue: Int? { if case .int(let v) = self { v } else { nil } }
    public var stringValue: String? { if case .string(let v) = self { v } else { nil } }
    public var tensorValue: Tensor? { if case .tensor(let v) = self { v } else { nil } }
    public var floatsValue: [Float]? { if case .floats(let v) = self { v } else { nil } }
    public var stringsValue: [String]? { if case .strings(let v) = self { v } else { nil } }
    /// Accepts a single int as a one-element list, as ONNX tools sometimes write.
    public var intsValue: [Int]? {
        switch self {
        case .ints(let v): v
        case .int(let v): [v]
        default: nil
        }
    }

    public var description: String {
        switch self {
        case .float(let v): "\(v)"
        case .int(let v): "\(v)"
        case .string(let v): "\"\(v)\""
        case .tensor(let t): t.description
        case .floats(let v): "\(v)"
        case .ints(let v): "\(v)"
        case .strings(let v): "\(v)"
        }
    }
}

/// The kind of an attribute, named as in ONNX's `AttributeProto.AttributeType`.
public enum AttributeKind: String, Sendable, CaseIterable {
    case float = "FLOAT", int = "INT", string = "STRING", tensor = "TENSOR"
    case floats = "FLOATS", ints = "INTS", strings = "STRINGS"
}
