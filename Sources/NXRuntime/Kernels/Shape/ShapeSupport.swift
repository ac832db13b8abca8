import NXIR

/// Helpers shared by the shape and data-movement kernels: element sizes, reading small
/// integer/float inputs (shapes, axes, pads), and encoding one scalar in any element type.
enum ShapeSupport {
    /// Every element type with a fixed size: what the byte-moving kernels accept.
    static let fixedSizeTypes: Set<DataType> = Set(DataType.allCases.filter { $0.byteSize != nil })

    /// Bytes per element of `tensor`, or a clear error for strings, which we cannot move.
    static func elementSize(_ tensor: Tensor, _ role: String = "input") throws -> Int {
        guard let size = tensor.dataType.byteSize else {
            throw KernelError("\(role) has element type \(tensor.dataType), which is not supported (fixed-size types only)")
        }
        if let problem = tensor.sizeProblem { throw KernelError("\(role): \(problem)") }
        return size
    }

    /// The required input `index`, or an error naming it.
    static func input(_ inputs: [Tensor?], _ index: Int, _ name: String) throws -> Tensor {
        guard index < inputs.count, let tensor = inputs[index] else {
            throw KernelError("missing required input \(index) ('\(name)')")
        }
        return tensor
    }

    /// The optional input `index` (nil when omitted or absent).
    static func optionalInput(_ inputs: [Tensor?], _ index: Int) -> Tensor? {
        index < inputs.count ? inputs[index] : nil
    }

    /// The elements of an integer tensor (int32/int64 and other integer types) as Ints.
    static func ints(_ tensor: Tensor, _ name: String) throws -> [Int] {
        guard !tensor.dataType.isFloatingPoint, tensor.dataType != .string else {
            throw KernelError("'\(name)' must be an integer tensor, is \(tensor.dataType)")
        }
        do { return try tensor.intValues() } catch { throw KernelError("'\(name)': \(error)") }
    }

    /// The elements of a numeric tensor widened to Double (scales, roi, ratio).
    static func doubles(_ tensor: Tensor, _ name: String) throws -> [Double] {
        if tensor.dataType == .float64 {
            do { return try tensor.scalars(as: Double.self) } catch { throw KernelError("'\(name)': \(error)") }
        }
        do { return try tensor.floatValues().map(Double.init) } catch { throw KernelError("'\(name)': \(error)") }
    }

    /// `axes` resolved against `rank`, rejecting out-of-range and repeated axes.
    static func normalizedAxes(_ axes: [Int], rank: Int, name: String = "axes") throws -> [Int] {
        var seen = Set<Int>()
        return try axes.map { axis in
            let resolved = axis < 0 ? axis + rank : axis
            guard resolved >= 0 && resolved < rank else {
                throw KernelError("\(name) value \(axis) is out of range for rank \(rank)")
            }
            guard seen.insert(resolved).inserted else { throw KernelError("\(name) \(axes) repeats axis \(resolved)") }
            return resolved
        }
    }

    /// `value` encoded as one element of `type`, little-endian, in the low bytes of the
    /// result (ints truncate toward zero as a C cast does; bool is value != 0).
    static func encode(_ value: Double, as type: DataType) throws -> UInt64 {
        switch type {
        case .float32: return UInt64(Float(value).bitPattern)
        case .float64: return value.bitPattern
        case .float16:
            #if arch(x86_64) || arch(arm64)
            return UInt64(Float16(Float(value)).bitPattern)
            #else
            throw KernelError("float16 is not supported on this architecture")
            #endif
        case .bfloat16: return UInt64(BFloat16(Float(value)).bitPattern)
        case .bool: return value != 0 ? 1 : 0
        case .int8, .int16, .int32, .int64:
            guard value.isFinite, abs(value) < 9.2e18 else { throw KernelError("value \(value) does not fit \(type)") }
            return UInt64(bitPattern: Int64(value))
        case .uint8, .uint16, .uint32, .uint64:
            guard value.isFinite, value > -9.2e18, value < 1.8e19 else { throw KernelError("value \(value) does not fit \(type)") }
            return value < 0 ? UInt64(bitPattern: Int64(value)) : UInt64(value)
        case .string: throw KernelError("string values are not supported")
        }
    }

    /// Fills `count` elements of `elementSize` bytes at `destination` with the low bytes of `pattern`.
    static func fill(_ destination: UnsafeMutableRawPointer, count: Int, elementSize: Int, pattern: UInt64) {
        guard count > 0 else { return }
        if pattern == 0 {
            destination.initializeMemory(as: UInt8.self, repeating: 0, count: count * elementSize)
            return
        }
        switch elementSize {
        case 1: destination.initializeMemory(as: UInt8.self, repeating: UInt8(truncatingIfNeeded: pattern), count: count)
        case 2: fillTyped(destination, count, UInt16(truncatingIfNeeded: pattern))
        case 4: fillTyped(destination, count, UInt32(truncatingIfNeeded: pattern))
        default: fillTyped(destination, count, pattern)
        }
    }

    private static func fillTyped<T: FixedWidthInteger>(_ destination: UnsafeMutableRawPointer, _ count: Int, _ value: T) {
        if Int(bitPattern: destination) % MemoryLayout<T>.alignment == 0 {
            destination.assumingMemoryBound(to: T.self).update(repeating: value, count: count)
        } else {
            for index in 0..<count { destination.storeBytes(of: value, toByteOffset: index * MemoryLayout<T>.size, as: T.self) }
        }
    }

    /// Copies one element of `size` bytes (a typed move for the usual sizes: cheaper than a
    /// memcpy call when elements are moved one at a time).
    @inline(__always)
    static func copyElement(from source: UnsafeRawPointer, to destination: UnsafeMutableRawPointer, size: Int) {
        switch size {
        case 1: destination.storeBytes(of: source.load(as: UInt8.self), as: UInt8.self)
        case 2: destination.storeBytes(of: source.loadUnaligned(as: UInt16.self), as: UInt16.self)
        case 4: destination.storeBytes(of: source.loadUnaligned(as: UInt32.self), as: UInt32.self)
        case 8: destination.storeBytes(of: source.loadUnaligned(as: UInt64.self), as: UInt64.self)
        default: destination.copyMemory(from: source, byteCount: size)
        }
    }

    /// The first element of `tensor` as raw bits (for a pad or fill value given as a tensor).
    static func firstElementBits(_ tensor: Tensor) -> UInt64 {
        var bits: UInt64 = 0
        let size = min(tensor.dataType.byteSize ?? 0, 8, tensor.storage.count)
        if size > 0, let base = tensor.storage.bytes.baseAddress {
            withUnsafeMutableBytes(of: &bits) { $0.baseAddress!.copyMemory(from: base, byteCount: size) }
        }
        return bits
    }

    /// A tensor that shares `tensor`'s bytes under a new shape (no copy).
    static func view(_ tensor: Tensor, _ shape: [Int]) -> Tensor {
        Tensor(dataType: tensor.dataType, shape: shape, storage: tensor.storage)
    }

    /// Read-only base address of a tensor's bytes (a dummy for empty tensors, never read).
    static func base(_ tensor: Tensor) -> UnsafeRawPointer {
        tensor.storage.bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 64)!
    }
}
