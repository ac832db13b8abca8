/// Swift types whose in-memory layout is exactly a tensor element's.
public protocol TensorScalar: Sendable, Equatable {
    static var dataType: DataType { get }
}

extension Float: TensorScalar { public static var dataType: DataType { .float32 } }
extension Double: TensorScalar { public static var dataType: DataType { .float64 } }
extension Int8: TensorScalar { public static var dataType: DataType { .int8 } }
extension UInt8: TensorScalar { public static var dataType: DataType { .uint8 } }
extension Int16: TensorScalar { public static var dataType: DataType { .int16 } }
extension UInt16: TensorScalar { public static var dataType: DataType { .uint16 } }
extension Int32: TensorScalar { public static var dataType: DataType { .int32 } }
extension UInt32: TensorScalar { public static var dataType: DataType { .uint32 } }
extension Int64: TensorScalar { public static var dataType: DataType { .int64 } }
extension UInt64: TensorScalar { public static var dataType: DataType { .uint64 } }
extension Bool: TensorScalar { public static var dataType: DataType { .bool } }
#if arch(x86_64) || arch(arm64)
extension Float16: TensorScalar { public static var dataType: DataType { .float16 } }
#endif

/// bfloat16 kept as its 16 bits: Swift has no native type, and we only convert it.
public struct BFloat16: TensorScalar, Hashable {
    public var bitPattern: UInt16
    public static var dataType: DataType { .bfloat16 }

    public init(bitPattern: UInt16) { self.bitPattern = bitPattern }

    /// Rounds to nearest even, as PyTorch does; NaN stays NaN.
    public init(_ value: Float) {
        let bits = value.bitPattern
        if value.isNaN {
            bitPattern = UInt16(truncatingIfNeeded: bits >> 16) | 0x40
        } else {
            let rounding = ((bits >> 16) & 1) &+ 0x7FFF
            bitPattern = UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
        }
    }

    public var floatValue: Float { Float(bitPattern: UInt32(bitPattern) << 16) }
}
