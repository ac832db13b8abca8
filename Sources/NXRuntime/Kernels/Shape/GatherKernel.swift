import NXIR

/// Gather: along `axis` (default 0, negative allowed), picks the slices of `data` named by
/// `indices` (int32 or int64, negative counting from the end). Output shape is
/// data.shape[..<axis] + indices.shape + data.shape[(axis+1)...]; each picked slice is one
/// contiguous block of the inner dimensions, moved with memcpy.
struct GatherKernel: Kernel {
    let axis: Int

    init(_ context: KernelBuildContext) throws {
        axis = try context.int("axis", default: 0)
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let data = try ShapeSupport.input(inputs, 0, "data")
        let elementSize = try ShapeSupport.elementSize(data, "data")
        let indicesTensor = try ShapeSupport.input(inputs, 1, "indices")
        guard indicesTensor.dataType == .int64 || indicesTensor.dataType == .int32 else {
            throw KernelError("'indices' must be int32 or int64, is \(indicesTensor.dataType)")
        }
        guard data.rank > 0 else { throw KernelError("cannot gather from a scalar (rank 0)") }
        let axis = try normalizedAxis(self.axis, rank: data.rank)
        let dim = data.shape[axis]
        var indices = try ShapeSupport.ints(indicesTensor, "indices")
        for (position, index) in indices.enumerated() {
            guard index >= -dim && index < dim else {
                throw KernelError("index \(index) is out of range for axis \(axis) of size \(dim) (data shape \(data.shape))")
            }
            if index < 0 { indices[position] = index + dim }
        }
        let outputShape = Array(data.shape[..<axis]) + indicesTensor.shape + Array(data.shape[(axis + 1)...])
        let (output, pointer) = context.allocate(data.dataType, outputShape)
        let outer = data.shape[..<axis].reduce(1, *)
        let blockBytes = data.shape[(axis + 1)...].reduce(1, *) * elementSize
        let count = indices.count
        guard outer * count * blockBytes > 0 else { return [output] }
        let source = ShapeSupport.base(data)
        indices.withUnsafeBufferPointer { indices in
            // Work items are (outer, index) pairs, each one block; blocks of one element move
            // as one load and store rather than a memcpy call.
            func move<T: FixedWidthInteger>(_: T.Type, _ range: Range<Int>) {
                let out = pointer.assumingMemoryBound(to: T.self)
                var o = range.lowerBound / count, j = range.lowerBound % count
                for item in range {
                    out[item] = source.loadUnaligned(fromByteOffset: (o * dim + indices[j]) * blockBytes, as: T.self)
                    j += 1
                    if j == count { j = 0; o += 1 }
                }
            }
            let work: (Range<Int>) -> Void = { range in
                switch blockBytes {
                case 1: move(UInt8.self, range)
                case 2: move(UInt16.self, range)
                case 4: move(UInt32.self, range)
                case 8: move(UInt64.self, range)
                default:
                    for item in range {
                        let o = item / count, j = item % count
                        (pointer + item * blockBytes).copyMemory(
                            from: source + (o * dim + indices[j]) * blockBytes, byteCount: blockBytes)
                    }
                }
            }
            let total = outer * count
            if total * blockBytes >= StridedCopy.parallelThreshold {
                context.parallelFor(total, grain: max(1, StridedCopy.parallelThreshold / 2 / blockBytes), work)
            } else {
                work(0..<total)
            }
        }
        return [output]
    }
}
