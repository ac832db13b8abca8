/// A dense, row-major tensor: element type, concrete shape and the bytes behind it.
///
/// The storage may be larger or smaller than the shape implies when the tensor was read from
/// a malformed file; `validate` reports that instead of the reader crashing, so a tool can
/// list every problem of a model at once.
public struct Tensor: Sendable, CustomStringConvertible {
    public let dataType: DataType
    public let shape: [Int]
    public let storage: TensorStorage

    public init(dataType: DataType, shape: [Int], storage: TensorStorage) {
        self.dataType = dataType
        self.shape = shape
        self.storage = storage
    }

    /// Copies raw little-endian element bytes.
    public init(dataType: DataType, shape: [Int], bytes: some Collection<UInt8>) {
        let array = Array(bytes)
        self.init(dataType: dataType, shape: shape, storage: array.withUnsafeBytes(TensorStorage.init(copying:)))
    }

    public init<T: TensorScalar>(shape: [Int], scalars: [T]) {
        precondition(NXIR.elementCount(shape) == scalars.count, "\(scalars.count) values for shape \(shape)")
        self.init(dataType: T.dataType, shape: shape, storage: scalars.withUnsafeBytes(TensorStorage.init(copying:)))
    }

    /// A scalar (rank 0) tensor.
    public init<T: TensorScalar>(scalar: T) { self.init(shape: [], scalars: [scalar]) }

    public var rank: Int { shape.count }
    public var elementCount: Int { NXIR.elementCount(shape) }
    public var byteCount: Int { storage.count }

    /// Bytes the shape and type call for; `nil` for strings.
    public var expectedByteCount: Int? { dataType.byteSize.map { $0 * elementCount } }

    /// Describes a disagreement between shape and bytes, or `nil` when they agree.
    public var sizeProblem: String? {
        if shape.contains(where: { $0 < 0 }) { return "negative dimension in shape \(shape)" }
        guard let expected = expectedByteCount else { return "string tensors are not supported" }
        if expected != byteCount {
            return "shape \(shape) of \(dataType) needs \(expected) bytes but \(byteCount) are stored"
        }
        return nil
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(storage.bytes)
    }

    /// The elements, copied out as `T`, which must match `dataType`.
    public func scalars<T: TensorScalar>(as type: T.Type = T.self) throws(IRError) -> [T] {
        guard T.dataType == dataType else {
            throw IRError.tensor("", "holds \(dataType), read as \(T.dataType)")
        }
        if let problem = sizeProblem { throw IRError.tensor("", problem) }
        let count = elementCount
        // Copy rather than bind: a mapped tensor may sit at an unaligned file offset.
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: storage.bytes) }
            initialized = count
        }
    }

    /// Elements widened to Float from any floating or integer type: what loaders need to
    /// accept float16/bfloat16/float64 checkpoints.
    public func floatValues() throws(IRError) -> [Float] {
        if let problem = sizeProblem { throw IRError.tensor("", problem) }
        let raw = storage.bytes
        func load<T>(_: T.Type, _ convert: (T) -> Float) -> [Float] {
            (0..<elementCount).map { convert(raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.stride, as: T.self)) }
        }
        switch dataType {
        case .float32: return try scalars(as: Float.self)  // one copy, not an element-wise map
        case .float64: return load(Double.self) { Float($0) }
        case .float16:
            #if arch(x86_64) || arch(arm64)
            return load(Float16.self) { Float($0) }
            #else
            throw IRError.tensor("", "float16 is not supported on this architecture")
            #endif
        case .bfloat16: return load(UInt16.self) { BFloat16(bitPattern: $0).floatValue }
        case .int8: return load(Int8.self) { Float($0) }
        case .uint8: return load(UInt8.self) { Float($0) }
        case .int16: return load(Int16.self) { Float($0) }
        case .uint16: return load(UInt16.self) { Float($0) }
        case .int32: return load(Int32.self) { Float($0) }
        case .uint32: return load(UInt32.self) { Float($0) }
        case .int64: return load(Int64.self) { Float($0) }
        case .uint64: return load(UInt64.self) { Float($0) }
        case .bool: return load(UInt8.self) { $0 != 0 ? 1 : 0 }
        case .string: throw IRError.tensor("", "string tensors are not supported")
        }
    }

    /// Integer elements widened to Int (shapes, axes, indices).
    public func intValues() throws(IRError) -> [Int] {
        if let problem = sizeProblem { throw IRError.tensor("", problem) }
        let raw = storage.bytes
        func load<T: BinaryInteger>(_: T.Type) -> [Int] {
            (0..<elementCount).map { Int(raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.stride, as: T.self)) }
        }
        switch dataType {
        case .int64: return load(Int64.self)
        case .int32: return load(Int32.self)
        case .int16: return load(Int16.self)
        case .int8: return load(Int8.self)
        case .uint8, .bool: return load(UInt8.self)
        case .uint16: return load(UInt16.self)
        case .uint32: return load(UInt32.self)
        case .uint64: return load(UInt64.self)
        default: throw IRError.tensor("", "holds \(dataType), expected integers")
        }
    }

    /// The same bytes seen with another shape of equal element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(NXIR.elementCount(newShape) == elementCount, "cannot reshape \(shape) to \(newShape)")
        return Tensor(dataType: dataType, shape: newShape, storage: storage)
    }

    public var description: String { "Tensor<\(dataType)>\(shape)" }
}

extension Tensor: Equatable {
    /// Equal when type, shape and every byte agree (NaNs with equal bits are equal).
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        lhs.dataType == rhs.dataType && lhs.shape == rhs.shape
            && lhs.storage.bytes.elementsEqual(rhs.storage.bytes)
    }
}
