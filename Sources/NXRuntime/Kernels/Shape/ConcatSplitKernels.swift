import NXIR

/// Concat: the inputs joined along `axis` (negative from opset 11; default 1 before opset 4,
/// required after). Every input has the same type and rank and equal sizes off the axis.
/// Each input lands as `outer` contiguous blocks of its axis-length × inner elements.
struct ConcatKernel: Kernel {
    let axis: Int

    init(_ context: KernelBuildContext) throws {
        if context.opset < 4 {
            axis = try context.int("axis", default: 1)
        } else {
            guard let axis = try context.int("axis") else { throw KernelError("attribute 'axis' is required") }
            self.axis = axis
        }
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        guard !inputs.isEmpty else { throw KernelError("Concat needs at least one input") }
        let tensors = try inputs.enumerated().map { try ShapeSupport.input(inputs, $0.offset, "inputs[\($0.offset)]") }
        let first = tensors[0]
        let elementSize = try ShapeSupport.elementSize(first, "inputs[0]")
        let rank = first.rank
        guard rank > 0 else { throw KernelError("cannot concatenate scalars (rank 0)") }
        let axis = try normalizedAxis(self.axis, rank: rank)
        var outputShape = first.shape
        outputShape[axis] = 0
        for (index, tensor) in tensors.enumerated() {
            guard tensor.dataType == first.dataType else {
                throw KernelError("inputs[\(index)] is \(tensor.dataType), inputs[0] is \(first.dataType)")
            }
            if let problem = tensor.sizeProblem { throw KernelError("inputs[\(index)]: \(problem)") }
            guard tensor.rank == rank,
                tensor.shape.enumerated().allSatisfy({ $0.offset == axis || $0.element == first.shape[$0.offset] })
            else {
                throw KernelError("cannot concatenate shapes \(tensors.map(\.shape)) along axis \(axis): inputs[\(index)] differs off the axis")
            }
            outputShape[axis] += tensor.shape[axis]
        }
        let (output, data) = context.allocate(first.dataType, outputShape)
        let outer = outputShape[..<axis].reduce(1, *)
        let inner = outputShape[(axis + 1)...].reduce(1, *)
        let outputBlock = outputShape[axis] * inner
        var offset = 0
        for tensor in tensors {
            let block = tensor.shape[axis] * inner
            StridedCopy.copy(
                shape: [outer, block], source: ShapeSupport.base(tensor), sourceStrides: [block, 1],
                destination: data + offset * elementSize, destinationStrides: [outputBlock, 1],
                elementSize: elementSize, context: context)
            offset += block
        }
        return [output]
    }
}

/// Split: the input cut along `axis` into the node's outputs. Sizes come from `split`
/// (attribute before opset 13, input from 13; also an input in opset 1), else from
/// `num_outputs` (opset 18+: ceil(dim / n) each, the last smaller), else equal parts.
struct SplitKernel: Kernel {
    let axis: Int
    let outputCount: Int
    let splitAttribute: [Int]?
    let splitFromInput: Bool
    let numOutputs: Int?

    init(_ context: KernelBuildContext) throws {
        axis = try context.int("axis", default: 0)
        outputCount = context.node.outputs.count
        splitFromInput = context.opset >= 13 || context.opset < 2
        splitAttribute = context.opset >= 13 ? nil : try context.ints("split")
        numOutputs = context.opset >= 18 ? try context.int("num_outputs") : nil
        if let numOutputs, numOutputs != outputCount {
            throw KernelError("num_outputs is \(numOutputs) but the node has \(outputCount) outputs")
        }
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let input = try ShapeSupport.input(inputs, 0, "input")
        let elementSize = try ShapeSupport.elementSize(input, "input")
        let axis = try normalizedAxis(self.axis, rank: input.rank)
        let dim = input.shape[axis]
        var sizes = splitAttribute
        if splitFromInput, let tensor = ShapeSupport.optionalInput(inputs, 1), sizes == nil {
            sizes = try ShapeSupport.ints(tensor, "split")
        }
        if let given = sizes {
            guard given.count == outputCount else {
                throw KernelError("split \(given) has \(given.count) parts but the node has \(outputCount) outputs")
            }
            guard given.allSatisfy({ $0 >= 0 }), given.reduce(0, +) == dim else {
                throw KernelError("split \(given) does not add up to dimension \(axis) of shape \(input.shape) (\(dim))")
            }
        } else if let numOutputs {
            let chunk = (dim + numOutputs - 1) / numOutputs
            let last = dim - chunk * (numOutputs - 1)
            guard last >= 0 else {
                throw KernelError("cannot split dimension \(dim) into \(numOutputs) parts of \(chunk) with a smaller last part")
            }
            sizes = Array(repeating: chunk, count: numOutputs - 1) + [last]
        } else {
            guard outputCount > 0, dim % outputCount == 0 else {
                throw KernelError("cannot split dimension \(axis) of shape \(input.shape) into \(outputCount) equal parts")
            }
            sizes = Array(repeating: dim / outputCount, count: outputCount)
        }
        let outer = input.shape[..<axis].reduce(1, *)
        let inner = input.shape[(axis + 1)...].reduce(1, *)
        let inputBlock = dim * inner
        let source = ShapeSupport.base(input)
        var offset = 0
        return sizes!.map { size in
            var shape = input.shape
            shape[axis] = size
            let (output, data) = context.allocate(input.dataType, shape)
            let block = size * inner
            StridedCopy.copy(
                shape: [outer, block], source: source + offset * elementSize, sourceStrides: [inputBlock, 1],
                destination: data, destinationStrides: [block, 1], elementSize: elementSize, context: context)
            offset += block
            return output
        }
    }
}
