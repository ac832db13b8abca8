import NXIR

/// Slice: along each listed axis keep start, start+step, … up to (not including) end.
/// Opsets 1-9 take starts/ends/axes as attributes (step 1); 10+ as inputs with optional
/// axes and steps. Starts/ends count from the end when negative and are clamped as numpy
/// does ([0, dim] going forward, [-1, dim-1] going backward).
struct SliceKernel: Kernel {
    let attributes: (starts: [Int], ends: [Int], axes: [Int]?)?

    init(_ context: KernelBuildContext) throws {
        if context.opset < 10 {
            guard let starts = try context.ints("starts"), let ends = try context.ints("ends") else {
                throw KernelError("attributes 'starts' and 'ends' are required")
            }
            attributes = (starts, ends, try context.ints("axes"))
        } else {
            attributes = nil
        }
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let data = try ShapeSupport.input(inputs, 0, "data")
        let elementSize = try ShapeSupport.elementSize(data, "data")
        let starts: [Int], ends: [Int], axesGiven: [Int]?, steps: [Int]?
        if let attributes {
            (starts, ends, axesGiven, steps) = (attributes.starts, attributes.ends, attributes.axes, nil)
        } else {
            starts = try ShapeSupport.ints(try ShapeSupport.input(inputs, 1, "starts"), "starts")
            ends = try ShapeSupport.ints(try ShapeSupport.input(inputs, 2, "ends"), "ends")
            axesGiven = try ShapeSupport.optionalInput(inputs, 3).map { try ShapeSupport.ints($0, "axes") }
            steps = try ShapeSupport.optionalInput(inputs, 4).map { try ShapeSupport.ints($0, "steps") }
        }
        let rank = data.rank
        guard starts.count == ends.count else {
            throw KernelError("starts has \(starts.count) values but ends has \(ends.count)")
        }
        let axes = try ShapeSupport.normalizedAxes(axesGiven ?? Array(0..<starts.count), rank: rank)
        guard axes.count == starts.count else { throw KernelError("axes has \(axes.count) values but starts has \(starts.count)") }
        if let steps, steps.count != starts.count {
            throw KernelError("steps has \(steps.count) values but starts has \(starts.count)")
        }

        var outputShape = data.shape
        let inputStrides = Broadcasting.strides(data.shape)
        var sourceStrides = inputStrides
        var offset = 0
        for (index, axis) in axes.enumerated() {
            let dim = data.shape[axis]
            let step = steps?[index] ?? 1
            guard step != 0 else { throw KernelError("steps[\(index)] is 0") }
            var start = starts[index], end = ends[index]
            if start < 0 { start = start &+ dim }
            if end < 0 { end = end &+ dim }
            let count: Int
            if step > 0 {
                start = min(max(start, 0), dim)
                end = min(max(end, 0), dim)
                count = end > start ? (end - start - 1) / min(step, dim + 1) + 1 : 0
            } else {
                start = min(max(start, 0), dim - 1)
                end = min(max(end, -1), dim - 1)
                count = start > end ? (start - end - 1) / min(-max(step, -Int.max), dim + 1) + 1 : 0
            }
            outputShape[axis] = count
            if count > 0 {
                offset += start * inputStrides[axis]
                sourceStrides[axis] = inputStrides[axis] * (count > 1 ? step : 1)
            }
        }
        if outputShape == data.shape && offset == 0 && sourceStrides == inputStrides {
            return [data]  // The whole tensor: share it.
        }
        let (output, pointer) = context.allocate(data.dataType, outputShape)
        StridedCopy.copy(
            shape: outputShape, source: ShapeSupport.base(data) + offset * elementSize, sourceStrides: sourceStrides,
            destination: pointer, destinationStrides: Broadcasting.strides(outputShape),
            elementSize: elementSize, context: context)
        return [output]
    }
}
