import NXIR

/// Constant: the tensor held in its one value attribute — `value` (a tensor), or from opset
/// 12 `value_float` (scalar float32), `value_floats` (1-D float32), `value_int` (scalar
/// int64), `value_ints` (1-D int64). Strings and sparse tensors are outside our subset.
/// Built once at load; every run returns the same immutable tensor without copying.
struct ConstantKernel: Kernel {
    let value: Tensor

    init(_ context: KernelBuildContext) throws {
        let attributes = context.node.attributes
        if let tensor = try context.tensor("value") {
            if let problem = tensor.sizeProblem { throw KernelError("attribute 'value': \(problem)") }
            value = tensor
        } else if attributes["value_float"] != nil {
            value = Tensor(scalar: try context.float("value_float", default: 0))
        } else if let floats = try context.floats("value_floats") {
            value = Tensor(shape: [floats.count], scalars: floats)
        } else if let int = try context.int("value_int") {
            value = Tensor(scalar: Int64(int))
        } else if let ints = try context.ints("value_ints") {
            value = Tensor(shape: [ints.count], scalars: ints.map(Int64.init))
        } else if attributes["value_string"] != nil || attributes["value_strings"] != nil {
            throw KernelError("string constants are not supported")
        } else {
            throw KernelError("Constant needs one of the attributes value, value_float, value_floats, value_int, value_ints")
        }
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] { [value] }
}

/// ConstantOfShape (opset 9+): a tensor of the shape given by the 1-D int64 input, every
/// element the one-element `value` attribute (default float32 0); an empty shape gives a scalar.
struct ConstantOfShapeKernel: Kernel {
    let dataType: DataType
    let elementSize: Int
    let pattern: UInt64

    init(_ context: KernelBuildContext) throws {
        if let value = try context.tensor("value") {
            guard value.elementCount == 1 else {
                throw KernelError("attribute 'value' must hold one element, has shape \(value.shape)")
            }
            elementSize = try ShapeSupport.elementSize(value, "attribute 'value'")
            dataType = value.dataType
            pattern = ShapeSupport.firstElementBits(value)
        } else {
            dataType = .float32
            elementSize = 4
            pattern = 0
        }
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let shapeTensor = try ShapeSupport.input(inputs, 0, "input")
        guard shapeTensor.rank == 1 else { throw KernelError("'input' must be a 1-D shape, has shape \(shapeTensor.shape)") }
        let shape = try ShapeSupport.ints(shapeTensor, "input")
        guard !shape.contains(where: { $0 < 0 }) else { throw KernelError("shape \(shape) has a negative dimension") }
        let (output, data) = context.allocate(dataType, shape)
        ShapeSupport.fill(data, count: output.elementCount, elementSize: elementSize, pattern: pattern)
        return [output]
    }
}

/// Shape: the input's dimensions as a 1-D int64 tensor; from opset 15 only those in
/// [start, end), both clamped to [0, rank] after negative values count from the end.
struct ShapeKernel: Kernel {
    let start: Int
    let end: Int?

    init(_ context: KernelBuildContext) throws {
        start = context.opset >= 15 ? try context.int("start", default: 0) : 0
        end = context.opset >= 15 ? try context.int("end") : nil
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let data = try ShapeSupport.input(inputs, 0, "data")
        let rank = data.rank
        func clamp(_ value: Int) -> Int { min(max(value < 0 ? value + rank : value, 0), rank) }
        let first = clamp(start), last = clamp(end ?? rank)
        let dims = first < last ? Array(data.shape[first..<last]) : []
        let (output, pointer) = context.allocate(.int64, [dims.count])
        for (index, size) in dims.enumerated() { pointer.storeBytes(of: Int64(size), toByteOffset: index * 8, as: Int64.self) }
        return [output]
    }
}
