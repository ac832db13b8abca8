import NXIR

/// Cast (opsets 6+): converts every element to the type named by `to`, between any two of
/// the fixed-size types we hold (float32/64, float16, bfloat16, int8..64, uint8..64, bool).
/// Floats round to nearest even when narrowing (overflow gives ±inf); integers wrap when
/// narrowing; floats truncate toward zero into integers; anything non-zero (NaN too) is true.
/// String and the sub-byte/float8 types are refused at load. `saturate` only concerns float8.
struct CastKernel: Kernel {
    let target: DataType

    init(_ context: KernelBuildContext) throws {
        guard let code = try context.int("to") else { throw KernelError("Cast needs the 'to' attribute") }
        guard let type = Int32(exactly: code).flatMap(DataType.init(rawValue:)), type != .string else {
            throw KernelError("Cast to ONNX element type \(code) is not supported (only fixed-size types of at least one byte)")
        }
        target = type
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let input = try ElementwiseSupport.input(inputs, 0, "Cast")
        if input.dataType == target { return [input] }
        guard input.dataType != .string else { throw KernelError("Cast from string is not supported") }
        let (tensor, raw) = context.allocate(target, input.shape)
        let count = input.elementCount
        guard count > 0 else { return [tensor] }
        let source = ElementwiseSupport.aligned(input)
        try withExtendedLifetime(source) {
            try CastConversion.dispatch(source.dataType, SourceVisitor(target: target, source: source.storage.bytes.baseAddress!, destination: raw, count: count, context: context))
        }
        return [tensor]
    }

    private struct SourceVisitor: CastScalarVisitor {
        let target: DataType
        let source: UnsafeRawPointer
        let destination: UnsafeMutableRawPointer
        let count: Int
        let context: ExecutionContext
        func visit<S: CastScalar>(_: S.Type) throws {
            try CastConversion.dispatch(target, DestinationVisitor<S>(source: source, destination: destination, count: count, context: context))
        }
    }

    private struct DestinationVisitor<S: CastScalar>: CastScalarVisitor {
        let source: UnsafeRawPointer
        let destination: UnsafeMutableRawPointer
        let count: Int
        let context: ExecutionContext
        func visit<D: CastScalar>(_: D.Type) throws {
            #if arch(x86_64) || arch(arm64)
            // float32 -> float16 directly: one rounding either way, but no trip through double.
            if S.self == Float.self && D.self == Float16.self {
                let from = source.assumingMemoryBound(to: Float.self)
                let to = destination.bindMemory(to: Float16.self, capacity: count)
                ElementwiseSupport.forChunks(count, context: context) { range in
                    for i in range { to[i] = Float16(from[i]) }
                }
                return
            }
            #endif
            let from = source.assumingMemoryBound(to: S.self)
            let to = destination.bindMemory(to: D.self, capacity: count)
            ElementwiseSupport.forChunks(count, context: context) { range in
                for i in range { to[i] = D(castValue: from[i].castValue) }
            }
        }
    }
}

/// A scalar value in a form every element type converts from exactly as the Cast rules say.
enum CastValue {
    case signed(Int64)
    case unsigned(UInt64)
    case floating(Double)
}

/// An element type Cast reads and writes. After specialization the `CastValue` round trip
/// folds into a direct conversion.
protocol CastScalar {
    var castValue: CastValue { get }
    init(castValue: CastValue)
}

/// Calls `visit` with the Swift element type of a tensor type.
protocol CastScalarVisitor {
    func visit<T: CastScalar>(_ type: T.Type) throws
}

/// Conversions shared by Cast and by integer Pow with a float exponent.
enum CastConversion {
    /// Float to integer as numpy does on x86-64: truncate toward zero through int64, then
    /// keep the low bits (so -1.0 → 255 as uint8); NaN and values outside int64 (and, for
    /// uint64, outside uint64) give int64.min's low bits. Never traps.
    @inline(__always)
    static func integer<T: FixedWidthInteger>(_ value: Double) -> T {
        if value >= -0x1p63 && value < 0x1p63 { return T(truncatingIfNeeded: Int64(value)) }
        if T.bitWidth == 64 && !T.isSigned && value >= 0x1p63 && value < 0x1p64 {
            return T(truncatingIfNeeded: UInt64(value))
        }
        return T(truncatingIfNeeded: Int64.min)
    }

    static func dispatch<V: CastScalarVisitor>(_ type: DataType, _ visitor: V) throws {
        switch type {
        case .float32: try visitor.visit(Float.self)
        case .float64: try visitor.visit(Double.self)
        case .float16:
            #if arch(x86_64) || arch(arm64)
            try visitor.visit(Float16.self)
            #else
            throw KernelError("float16 is not supported on this architecture")
            #endif
        case .bfloat16: try visitor.visit(BFloat16.self)
        case .int8: try visitor.visit(Int8.self)
        case .int16: try visitor.visit(Int16.self)
        case .int32: try visitor.visit(Int32.self)
        case .int64: try visitor.visit(Int64.self)
        case .uint8: try visitor.visit(UInt8.self)
        case .uint16: try visitor.visit(UInt16.self)
        case .uint32: try visitor.visit(UInt32.self)
        case .uint64: try visitor.visit(UInt64.self)
        case .bool: try visitor.visit(CastBool.self)
        case .string: throw KernelError("string tensors are not supported")
        }
    }
}

/// A bool element as its byte: any non-zero byte reads as true; writes 0 or 1.
struct CastBool: CastScalar {
    var byte: UInt8
    @inline(__always) var castValue: CastValue { .unsigned(byte != 0 ? 1 : 0) }
    @inline(__always) init(castValue: CastValue) {
        switch castValue {
        case .signed(let v): byte = v != 0 ? 1 : 0
        case .unsigned(let v): byte = v != 0 ? 1 : 0
        case .floating(let v): byte = v != 0 ? 1 : 0  // NaN is true, as in numpy
        }
    }
}

/// Shared conformance bodies, so each element type states only its category.
protocol CastSignedInteger: CastScalar, FixedWidthInteger, SignedInteger {}
protocol CastUnsignedInteger: CastScalar, FixedWidthInteger, UnsignedInteger {}
protocol CastFloatingPoint: CastScalar, BinaryFloatingPoint {}

extension CastSignedInteger {
    @inline(__always) var castValue: CastValue { .signed(Int64(self)) }
}
extension CastUnsignedInteger {
    @inline(__always) var castValue: CastValue { .unsigned(UInt64(self)) }
}
extension CastSignedInteger {
    @inline(__always) init(castValue: CastValue) { self = castInteger(castValue) }
}
extension CastUnsignedInteger {
    @inline(__always) init(castValue: CastValue) { self = castInteger(castValue) }
}
@inline(__always)
private func castInteger<T: FixedWidthInteger>(_ value: CastValue) -> T {
    switch value {
    case .signed(let v): T(truncatingIfNeeded: v)
    case .unsigned(let v): T(truncatingIfNeeded: v)
    case .floating(let v): CastConversion.integer(v)
    }
}
extension CastFloatingPoint {
    @inline(__always) var castValue: CastValue { .floating(Double(self)) }
    @inline(__always) init(castValue: CastValue) {
        switch castValue {
        case .signed(let v): self.init(v)
        case .unsigned(let v): self.init(v)
        case .floating(let v): self.init(v)
        }
    }
}

extension Int8: CastSignedInteger {}
extension Int16: CastSignedInteger {}
extension Int32: CastSignedInteger {}
extension Int64: CastSignedInteger {}
extension UInt8: CastUnsignedInteger {}
extension UInt16: CastUnsignedInteger {}
extension UInt32: CastUnsignedInteger {}
extension UInt64: CastUnsignedInteger {}
extension Float: CastFloatingPoint {}
extension Double: CastFloatingPoint {}
#if arch(x86_64) || arch(arm64)
extension Float16: CastFloatingPoint {}
#endif

extension BFloat16: CastScalar {
    @inline(__always) var castValue: CastValue { .floating(Double(floatValue)) }
    /// Through float32, rounding to nearest even (a double source rounds twice).
    @inline(__always) init(castValue: CastValue) {
        switch castValue {
        case .signed(let v): self.init(Float(v))
        case .unsigned(let v): self.init(Float(v))
        case .floating(let v): self.init(Float(v))
        }
    }
}
