import NXIR

/// Input checks and typed element access shared by the element-wise kernels.
enum ElementwiseSupport {
    /// Element counts above this are split over `ExecutionContext.parallelFor` (chunks of at
    /// least half of it, so two threads start at about 64K elements).
    static let parallelGrain = 32_768

    /// Input `index`, or a clear error when the node omitted it.
    static func input(_ inputs: [Tensor?], _ index: Int, _ op: String) throws -> Tensor {
        guard index < inputs.count, let tensor = inputs[index] else {
            throw KernelError("\(op) needs input \(index), which is missing")
        }
        if let problem = tensor.sizeProblem { throw KernelError("\(op) input \(index): \(problem)") }
        return tensor
    }

    /// Throws unless `tensor` has one of `types`.
    static func check(_ tensor: Tensor, _ op: String, input index: Int, types: [DataType]) throws {
        guard types.contains(tensor.dataType) else {
            throw KernelError(
                "\(op) does not support \(tensor.dataType) (input \(index)); supported: \(types.map(\.description).joined(separator: ", "))")
        }
    }

    /// `tensor` with storage aligned for its element type: mapped weights can sit at any file
    /// offset, and typed (and vector) loads want natural alignment, so such a tensor is copied
    /// once into an owned aligned buffer. Pool and owned buffers are 64-byte aligned already.
    static func aligned(_ tensor: Tensor) -> Tensor {
        guard let base = tensor.storage.bytes.baseAddress, let size = tensor.dataType.byteSize,
            Int(bitPattern: base) % size != 0
        else { return tensor }
        return Tensor(dataType: tensor.dataType, shape: tensor.shape, storage: TensorStorage(copying: tensor.storage.bytes))
    }

    /// Typed pointer to the elements of an `aligned` tensor with at least one element. The
    /// caller keeps the tensor alive while using it.
    static func pointer<T>(_ tensor: Tensor, as _: T.Type) -> UnsafePointer<T> {
        tensor.storage.bytes.baseAddress!.assumingMemoryBound(to: T.self)
    }

    /// Calls `body` over `0..<count`, in parallel chunks when `count` is large.
    @inline(__always)
    static func forChunks(_ count: Int, context: ExecutionContext, _ body: (Range<Int>) -> Void) {
        if count < 2 * parallelGrain || context.threads == 1 {
            body(0..<count)
        } else {
            context.parallelFor(count, grain: parallelGrain, body)
        }
    }

    /// The single element of a one-element tensor of type `T` (a scalar input such as
    /// Clip's min), read without alignment assumptions.
    static func scalar<T>(_ tensor: Tensor, as _: T.Type, _ op: String, name: String) throws -> T {
        guard tensor.elementCount == 1 else {
            throw KernelError("\(op) \(name) must be a scalar, has shape \(tensor.shape)")
        }
        return tensor.storage.bytes.loadUnaligned(as: T.self)
    }

    /// y = f(x) over a float32 tensor into a new one, vectorized and chunked over threads.
    static func mapFloats<F: FloatVectorFunction>(_ input: Tensor, _ context: ExecutionContext, _ f: F) -> Tensor {
        let (tensor, output) = context.allocateFloats(input.shape)
        let count = input.elementCount
        guard count > 0 else { return tensor }
        let source = aligned(input)
        let x = pointer(source, as: Float.self)
        withExtendedLifetime(source) {
            forChunks(count, context: context) { range in
                ElementwiseMath.map(f, x + range.lowerBound, output + range.lowerBound, count: range.count)
            }
        }
        return tensor
    }

    /// y = f(x) over an integer tensor into a new one of the same type.
    static func mapIntegers<T: FixedWidthInteger>(
        _ input: Tensor, _: T.Type, context: ExecutionContext, _ f: (T) -> T
    ) -> Tensor {
        let (tensor, raw) = context.allocate(input.dataType, input.shape)
        let count = input.elementCount
        guard count > 0 else { return tensor }
        let source = aligned(input)
        let x = pointer(source, as: T.self)
        let y = raw.bindMemory(to: T.self, capacity: count)
        withExtendedLifetime(source) {
            forChunks(count, context: context) { range in
                for i in range { y[i] = f(x[i]) }
            }
        }
        return tensor
    }
}
