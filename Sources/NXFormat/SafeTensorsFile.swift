import NXIR

/// The contents of a safetensors file: named tensors (zero-copy views of the mapped file when
/// read from disk), their order in the data area, and the free-form `__metadata__` strings.
/// Reading is in SafeTensorsReader.swift, writing in SafeTensorsWriter.swift.
public struct SafeTensorsFile: Sendable {
    public let tensors: [String: Tensor]
    /// Tensor names sorted by their offset in the data area, i.e. the order they were written.
    public let order: [String]
    /// The `__metadata__` entries; empty when the file has none.
    public let metadata: [String: String]

    public init(tensors: [String: Tensor], order: [String], metadata: [String: String]) {
        self.tensors = tensors
        self.order = order
        self.metadata = metadata
    }

    /// The header limit of the reference Rust crate (`MAX_HEADER_SIZE = 100_000_000`): a
    /// corrupt length field should not make a reader allocate gigabytes.
    public static let maximumHeaderLength = 100_000_000
}

extension DataType {
    /// The dtype string safetensors uses for this type; `nil` for types it cannot hold.
    public var safeTensorsName: String? {
        switch self {
        case .float32: "F32"
        case .float16: "F16"
        case .bfloat16: "BF16"
        case .float64: "F64"
        case .int64: "I64"
        case .int32: "I32"
        case .int16: "I16"
        case .int8: "I8"
        case .uint8: "U8"
        case .uint16: "U16"
        case .uint32: "U32"
        case .uint64: "U64"
        case .bool: "BOOL"
        case .string: nil
        }
    }

    /// Parses the dtype strings `safeTensorsName` produces.
    public init?(safeTensorsName name: String) {
        guard let match = DataType.allCases.first(where: { $0.safeTensorsName == name }) else { return nil }
        self = match
    }
}
