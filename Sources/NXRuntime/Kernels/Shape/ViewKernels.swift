import NXIR

// Ops that only change how the same bytes are seen: each returns a tensor sharing the
// input's storage under a new shape, never copying (tensors are immutable, so sharing is safe).

/// Reshape: the target shape comes from the `shape` input (opset 5+) or attribute (1-4);
/// 0 copies the input's dimension (unless `allowzero`, opset 14+, makes it a real 0) and
/// one -1 is inferred from the element count.
struct ReshapeKernel: Kernel {
    let shapeAttribute: [Int]?
    let allowZero: Bool

    init(_ context: KernelBuildContext) throws {
        shapeAttribute = context.opset < 5 ? (try context.ints("shape")) ?? [] : nil
        let allowZero = try context.int("allowzero", default: 0)
        self.allowZero = context.opset >= 14 && allowZero != 0
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let data = try ShapeSupport.input(inputs, 0, "data")
        _ = try ShapeSupport.elementSize(data, "data")
        let requested: [Int]
        if let shapeAttribute {
            requested = shapeAttribute
        } else {
            let shapeTensor = try ShapeSupport.input(inputs, 1, "shape")
            guard shapeTensor.rank == 1 else { throw KernelError("'shape' must be 1-D, has shape \(shapeTensor.shape)") }
            requested = try ShapeSupport.ints(shapeTensor, "shape")
        }
        return [ShapeSupport.view(data, try Self.resolve(requested, input: data.shape, allowZero: allowZero))]
    }

    /// The concrete shape `requested` asks for, or an error naming both shapes.
    static func resolve(_ requested: [Int], input: [Int], allowZero: Bool) throws -> [Int] {
        let count = elementCount(input)
        func failure(_ why: String = "") -> KernelError {
            KernelError("cannot reshape \(input) (\(count) elements) to \(requested)\(why)")
        }
        var shape = requested
        var inferred: Int?
        for (index, size) in requested.enumerated() {
            switch size {
            case -1:
                guard inferred == nil else { throw failure(": more than one -1") }
                inferred = index
            case 0 where !allowZero:
                guard index < input.count else { throw failure(": 0 at position \(index) has no input dimension to copy") }
                shape[index] = input[index]
            case ..<0: throw failure(": negative dimension \(size)")
            default: break
            }
        }
        if allowZero && inferred != nil && requested.contains(0) {
            throw failure(": -1 cannot be inferred when allowzero keeps a 0 dimension")
        }
        if let inferred {
            let known = shape.enumerated().reduce(1) { $1.offset == inferred ? $0 : $0 * $1.element }
            guard known != 0, count % known == 0 else { throw failure() }
            shape[inferred] = count / known
        }
        guard elementCount(shape) == count else { throw failure() }
        return shape
    }
}

/// Flatten: [d0…d(axis-1)] and [d(axis)…] collapsed into a 2-D [outer, inner]; axis in
/// [-rank, rank] (negative from opset 11), default 1.
struct FlattenKernel: Kernel {
    let axis: Int

    init(_ context: KernelBuildContext) throws {
        axis = try context.int("axis", default: 1)
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let data = try ShapeSupport.input(inputs, 0, "input")
        _ = try ShapeSupport.elementSize(data, "input")
        let rank = data.rank
        let resolved = axis < 0 ? axis + rank : axis
        guard resolved >= 0 && resolved <= rank else {
            throw KernelError("axis \(axis) is out of range for input of rank \(rank) (allowed \(-rank)...\(rank))")
        }
        let outer = data.shape[..<resolved].reduce(1, *)
        let inner = data.shape[resolved...].reduce(1, *)
        return [ShapeSupport.view(data, [outer, inner])]
    }
}

/// Squeeze: removes the listed size-1 axes (attribute before opset 13, input from 13), or
/// every size-1 axis when none are listed.
struct SqueezeKernel: Kernel {
    let axesAttribute: [Int]?
    let axesFromInput: Bool

    init(_ context: KernelBuildContext) throws {
        axesFromInput = context.opset >= 13
        axesAttribute = axesFromInput ? nil : try context.ints("axes")
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let data = try ShapeSupport.input(inputs, 0, "data")
        _ = try ShapeSupport.elementSize(data, "data")
        var axes = axesAttribute
        if axesFromInput, let tensor = ShapeSupport.optionalInput(inputs, 1) {
            axes = try ShapeSupport.ints(tensor, "axes")
        }
        guard let axes else { return [ShapeSupport.view(data, data.shape.filter { $0 != 1 })] }
        let resolved = Set(try ShapeSupport.normalizedAxes(axes, rank: data.rank))
        for axis in resolved.sorted() where data.shape[axis] != 1 {
            throw KernelError("cannot squeeze axis \(axis) of shape \(data.shape): its size is \(data.shape[axis]), not 1")
        }
        let shape = data.shape.enumerated().filter { !resolved.contains($0.offset) }.map(\.element)
        return [ShapeSupport.view(data, shape)]
    }
}

/// Unsqueeze: inserts size-1 axes at the listed positions of the output (attribute before
/// opset 13, input from 13; negative positions count from the output's end).
struct UnsqueezeKernel: Kernel {
    let axesAttribute: [Int]?
    let axesFromInput: Bool

    init(_ context: KernelBuildContext) throws {
        axesFromInput = context.opset >= 13
        axesAttribute = axesFromInput ? nil : try context.ints("axes")
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let data = try ShapeSupport.input(inputs, 0, "data")
        _ = try ShapeSupport.elementSize(data, "data")
        let axes: [Int]
        if axesFromInput {
            axes = try ShapeSupport.ints(try ShapeSupport.input(inputs, 1, "axes"), "axes")
        } else {
            guard let axesAttribute else { throw KernelError("attribute 'axes' is required") }
            axes = axesAttribute
        }
        let outputRank = data.rank + axes.count
        let inserted = Set(try ShapeSupport.normalizedAxes(axes, rank: outputRank))
        var remaining = data.shape.makeIterator()
        let shape = (0..<outputRank).map { inserted.contains($0) ? 1 : remaining.next()! }
        return [ShapeSupport.view(data, shape)]
    }
}

/// Identity: the input itself.
struct IdentityKernel: Kernel {
    init(_ context: KernelBuildContext) throws {}

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        [try ShapeSupport.input(inputs, 0, "input")]
    }
}
