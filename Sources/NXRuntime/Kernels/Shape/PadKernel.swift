import NXIR

/// Pad: grows (or, with negative pads, crops) each axis by pads[begin] before and pads[end]
/// after, filling with `mode`: constant (a value), reflect (mirror without the edge), edge
/// (repeat the edge), wrap (periodic, opset 19). Pads, mode and a float value are attributes
/// before opset 11 (`paddings` in opset 1); from 11 pads and an optional constant_value are
/// inputs, and from 18 an optional `axes` input says which axes the pads are for.
///
/// Every output position along an axis maps to an input position (or to "the constant"),
/// so the output is written row by row of its innermost axis: a row whose outer position
/// falls in a constant border is filled, any other row copies its in-range middle with one
/// memcpy and maps the few border elements one by one.
struct PadKernel: Kernel {
    enum Mode: String { case constant, reflect, edge, wrap }

    let mode: Mode
    let attributePads: [Int]?
    let attributeValue: Double
    let inputsForm: Bool

    init(_ context: KernelBuildContext) throws {
        let modeName = try context.string("mode", default: "constant")
        guard let mode = Mode(rawValue: modeName) else {
            throw KernelError("mode '\(modeName)' is not one of constant, reflect, edge, wrap")
        }
        self.mode = mode
        inputsForm = context.opset >= 11
        if inputsForm {
            attributePads = nil
            attributeValue = 0
        } else {
            guard let pads = try context.ints(context.opset < 2 ? "paddings" : "pads") ?? (try context.ints("pads")) else {
                throw KernelError("attribute 'pads' is required")
            }
            attributePads = pads
            attributeValue = Double(try context.float("value", default: 0))
        }
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let data = try ShapeSupport.input(inputs, 0, "data")
        let elementSize = try ShapeSupport.elementSize(data, "data")
        let rank = data.rank
        var pads: [Int]
        var axes = Array(0..<rank)
        var fill: UInt64 = 0
        if let attributePads {
            pads = attributePads
            if mode == .constant { fill = try ShapeSupport.encode(attributeValue, as: data.dataType) }
        } else {
            pads = try ShapeSupport.ints(try ShapeSupport.input(inputs, 1, "pads"), "pads")
            if let value = ShapeSupport.optionalInput(inputs, 2), mode == .constant {
                guard value.dataType == data.dataType else {
                    throw KernelError("constant_value is \(value.dataType) but data is \(data.dataType)")
                }
                guard value.elementCount == 1 else { throw KernelError("constant_value must be one value, has shape \(value.shape)") }
                fill = ShapeSupport.firstElementBits(value)
            }
            if let axesTensor = ShapeSupport.optionalInput(inputs, 3) {
                axes = try ShapeSupport.normalizedAxes(try ShapeSupport.ints(axesTensor, "axes"), rank: rank)
            }
        }
        guard pads.count == 2 * axes.count else {
            throw KernelError("pads has \(pads.count) values; expected \(2 * axes.count) (begin and end for each of \(axes.count) axes)")
        }
        var begin = [Int](repeating: 0, count: rank), end = [Int](repeating: 0, count: rank)
        for (index, axis) in axes.enumerated() {
            begin[axis] = pads[index]
            end[axis] = pads[index + axes.count]
        }
        var outputShape = data.shape
        for axis in 0..<rank {
            outputShape[axis] = data.shape[axis] + begin[axis] + end[axis]
            guard outputShape[axis] >= 0 else {
                throw KernelError("pads \(pads) shrink axis \(axis) of shape \(data.shape) below zero")
            }
            if mode != .constant && data.shape[axis] == 0 && outputShape[axis] > 0 {
                throw KernelError("cannot \(mode.rawValue)-pad axis \(axis) of size 0 (shape \(data.shape))")
            }
        }
        let (output, pointer) = context.allocate(data.dataType, outputShape)
        let total = elementCount(outputShape)
        guard total > 0 else { return [output] }
        if rank == 0 {
            pointer.copyMemory(from: ShapeSupport.base(data), byteCount: elementSize)
            return [output]
        }
        // Per axis, the input position each output position reads (-1: the constant).
        let maps = (0..<rank).map { axis in
            (0..<outputShape[axis]).map { Self.sourceIndex($0 - begin[axis], size: data.shape[axis], mode: mode) }
        }
        let inputStrides = Broadcasting.strides(data.shape)
        let inner = rank - 1
        let rowLength = outputShape[inner], inputRowLength = data.shape[inner]
        let rows = total / rowLength
        // The output positions of the innermost axis that read input positions in order.
        let middleStart = min(max(begin[inner], 0), rowLength)
        let middleEnd = max(min(begin[inner] + inputRowLength, rowLength), middleStart)
        let innerMap = maps[inner]
        let source = ShapeSupport.base(data)
        let outerShape = Array(outputShape[..<inner])

        let work: (Range<Int>) -> Void = { range in
            var index = [Int](repeating: 0, count: inner)
            var remainder = range.lowerBound
            for axis in stride(from: inner - 1, through: 0, by: -1) {
                index[axis] = remainder % outerShape[axis]
                remainder /= outerShape[axis]
            }
            for row in range {
                let destination = pointer + row * rowLength * elementSize
                var offset = 0
                var constantRow = false
                for axis in 0..<inner {
                    let position = maps[axis][index[axis]]
                    if position < 0 { constantRow = true; break }
                    offset += position * inputStrides[axis]
                }
                if constantRow {
                    ShapeSupport.fill(destination, count: rowLength, elementSize: elementSize, pattern: fill)
                } else {
                    let rowSource = source + offset * elementSize
                    if middleEnd > middleStart {
                        (destination + middleStart * elementSize).copyMemory(
                            from: rowSource + (middleStart - begin[inner]) * elementSize,
                            byteCount: (middleEnd - middleStart) * elementSize)
                    }
                    func border(_ positions: Range<Int>) {
                        if mode == .constant {
                            // Outside the middle a constant pad reads nothing: one fill.
                            ShapeSupport.fill(
                                destination + positions.lowerBound * elementSize, count: positions.count,
                                elementSize: elementSize, pattern: fill)
                            return
                        }
                        for position in positions {
                            let target = destination + position * elementSize
                            let from = innerMap[position]
                            ShapeSupport.copyElement(from: rowSource + from * elementSize, to: target, size: elementSize)
                        }
                    }
                    border(0..<middleStart)
                    border(middleEnd..<rowLength)
                }
                // Next row.
                var axis = inner - 1
                while axis >= 0 {
                    index[axis] += 1
                    if index[axis] < outerShape[axis] { break }
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
        if total * elementSize >= StridedCopy.parallelThreshold && rows > 1 {
            context.parallelFor(rows, grain: max(1, StridedCopy.parallelThreshold / 2 / max(rowLength * elementSize, 1)), work)
        } else {
            work(0..<rows)
        }
        return [output]
    }

    /// The input position output position `shifted + begin` reads along an axis of `size`.
    static func sourceIndex(_ shifted: Int, size: Int, mode: Mode) -> Int {
        if shifted >= 0 && shifted < size { return shifted }
        switch mode {
        case .constant: return -1
        case .edge: return min(max(shifted, 0), size - 1)
        case .wrap: return ((shifted % size) + size) % size
        case .reflect:
            if size == 1 { return 0 }
            let period = 2 * (size - 1)
            let folded = ((shifted % period) + period) % period
            return folded < size ? folded : period - folded
        }
    }
}
