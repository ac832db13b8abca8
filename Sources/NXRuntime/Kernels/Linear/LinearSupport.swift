import NXIR

/// Float32 access and integer arithmetic shared by the linear-algebra, convolution and
/// pooling kernels. Namespaced so other op families' helpers cannot collide with it.
enum LinearSupport {
    /// Throws unless `tensor` is float32 with as many bytes as its shape needs.
    static func requireFloat32(_ tensor: Tensor, _ name: String) throws {
        guard tensor.dataType == .float32 else {
            throw KernelError("\(name) is \(tensor.dataType); only float32 is supported")
        }
        if let problem = tensor.sizeProblem { throw KernelError("\(name): \(problem)") }
    }

    /// Calls `body` with a typed pointer to the tensor's floats. Tensors in memory are
    /// aligned and read in place; a mapped weight at an odd file offset is copied first,
    /// since binding misaligned memory to `Float` is undefined.
    static func withFloats<R>(_ tensor: Tensor, _ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        if let base = tensor.storage.bytes.baseAddress, Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 {
            return try body(base.assumingMemoryBound(to: Float.self))
        }
        let copy = copiedFloats(tensor)
        return try copy.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }

    /// The tensor's floats where they lie, aligned or not: for code that reads each element
    /// once, such as weight packing, which then needs no aligned copy first.
    static func unalignedFloats(_ tensor: Tensor) -> UnalignedFloats {
        UnalignedFloats(tensor.storage.bytes.baseAddress ?? UnsafeRawPointer(bitPattern: MemoryLayout<Float>.alignment)!)
    }

    /// The tensor's floats copied into an array (never empty, so its pointer is non-nil).
    static func copiedFloats(_ tensor: Tensor) -> [Float] {
        let raw = tensor.storage.bytes
        let count = tensor.elementCount
        guard count > 0 else { return [0] }
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<(count * 4)]))
            initialized = count
        }
    }

    /// Floor of a / b for b > 0, also for negative a (Swift's `/` truncates toward zero).
    @inline(__always)
    static func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }

    /// Ceiling of a / b for b > 0.
    @inline(__always)
    static func ceilDiv(_ a: Int, _ b: Int) -> Int { -floorDiv(-a, b) }

    /// Writes `value` to `count` floats.
    @inline(__always)
    static func fill(_ pointer: UnsafeMutablePointer<Float>, _ count: Int, _ value: Float) {
        if count > 0 { pointer.update(repeating: value, count: count) }
    }

    /// Sets each of `rows` rows of `columns` floats to its bias (or zero without one): the
    /// starting value of an output that a GEMM then accumulates into with beta = 1.
    static func fillRows(_ y: UnsafeMutablePointer<Float>, rows: Int, columns: Int, bias: UnsafePointer<Float>?) {
        for row in 0..<rows { fill(y + row * columns, columns, bias?[row] ?? 0) }
    }
}

/// A constant float32 weight as a kernel reads it at every run: the initializer's own
/// storage when it is aligned for `Float` (a view into the mapped model file, or a buffer
/// the optimizer made), so a weight lives in memory once; a copy made at load otherwise (a
/// `raw_data` payload at an odd offset, as PyTorch exports place them), after which the
/// file's pages of it are dropped from memory. Read-only: constants are never written, by
/// kernels or by the session (see `TensorStorage`).
struct PackedFloats: Sendable {
    let shape: [Int]
    /// Elements (the shape's product).
    let count: Int
    private let storage: TensorStorage

    /// `tensor` must be float32 with as many bytes as its shape needs (`requireFloat32`).
    init(_ tensor: Tensor) {
        shape = tensor.shape
        count = tensor.elementCount
        let source = tensor.storage
        if let base = source.bytes.baseAddress, Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 {
            storage = source
        } else {
            // Never empty, so the pointer handed out is never nil; populated because every
            // page is written right away.
            let buffer = PageMemory.allocate(max(count, 1) * 4, populated: true)
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source.bytes[0..<(count * 4)]))
            storage = TensorStorage(lending: buffer, count: count * 4) { PageMemory.deallocate($0) }
            source.dropResidentPages()
        }
    }

    func withPointer<R>(_ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        try body(storage.bytes.baseAddress!.assumingMemoryBound(to: Float.self))
    }
}

extension LinearSupport {
    /// The floats of a weight: its copy packed at load when the input was a constant,
    /// otherwise the tensor given at run time.
    static func withFloats<R>(_ packed: PackedFloats?, _ tensor: Tensor, _ body: (UnsafePointer<Float>) -> R) -> R {
        if let packed { return packed.withPointer(body) }
        return withFloats(tensor, body)
    }

    /// The same for an optional input such as a bias (`nil` when absent).
    static func withFloats<R>(_ packed: PackedFloats?, _ tensor: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
        if let packed { return packed.withPointer(body) }
        guard let tensor else { return body(nil) }
        return withFloats(tensor, body)
    }
}

/// Floats read in place from bytes that need not be 4-byte aligned. Weights in a single-file
/// .onnx sit at whatever offset protobuf put them (most of ours and PyTorch's are misaligned);
/// x86 and ARM64 load misaligned floats at full speed, so packing reads them straight from
/// the mapped file instead of copying each weight to an aligned array first (ConvNeXt-B:
/// 350 MB of copies and page faults at load).
struct UnalignedFloats {
    let base: UnsafeRawPointer

    init(_ base: UnsafeRawPointer) { self.base = base }
    init(_ base: UnsafePointer<Float>) { self.base = UnsafeRawPointer(base) }

    @inline(__always) subscript(index: Int) -> Float {
        base.loadUnaligned(fromByteOffset: index &* MemoryLayout<Float>.stride, as: Float.self)
    }

    @inline(__always) static func + (floats: UnalignedFloats, offset: Int) -> UnalignedFloats {
        UnalignedFloats(floats.base + offset * MemoryLayout<Float>.stride)
    }
}
