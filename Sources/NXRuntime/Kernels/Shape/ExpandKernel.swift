import NXIR

/// Expand (opset 8+): the input broadcast, numpy style in both directions, with the `shape`
/// input; a dimension of 1 in `shape` keeps the input's size. Broadcast dimensions read with
/// stride 0, so the copy repeats values without materializing anything in between; an
/// expansion that changes nothing shares the input.
struct ExpandKernel: Kernel {
    init(_ context: KernelBuildContext) throws {}

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let data = try ShapeSupport.input(inputs, 0, "input")
        let elementSize = try ShapeSupport.elementSize(data, "input")
        let shapeTensor = try ShapeSupport.input(inputs, 1, "shape")
        guard shapeTensor.rank == 1 else { throw KernelError("'shape' must be 1-D, has shape \(shapeTensor.shape)") }
        let requested = try ShapeSupport.ints(shapeTensor, "shape")
        guard !requested.contains(where: { $0 < 0 }) else { throw KernelError("shape \(requested) has a negative dimension") }
        guard let outputShape = Broadcasting.shape([data.shape, requested]) else {
            throw KernelError("cannot expand shape \(data.shape) to \(requested): dimensions differ and neither is 1")
        }
        if outputShape == data.shape { return [data] }
        let (output, pointer) = context.allocate(data.dataType, outputShape)
        StridedCopy.copy(
            shape: outputShape, source: ShapeSupport.base(data),
            sourceStrides: Broadcasting.broadcastStrides(data.shape, to: outputShape),
            destination: pointer, destinationStrides: Broadcasting.strides(outputShape),
            elementSize: elementSize, context: context)
        return [output]
    }
}
