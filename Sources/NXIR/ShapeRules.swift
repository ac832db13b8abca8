/// Output shapes of standard ONNX operators from their input shapes, attributes and constant
/// arguments, and the elements of small integer results (the shape arithmetic exporters emit),
/// accepting every opset's form of an op (attributes that later became inputs are read from
/// wherever the node has them). Ops not listed are unknown, never guessed.
enum ShapeRules {
    /// One output's shape, and its elements when it is a small integer tensor known statically.
    struct Output {
        var shape: [Int]
        var values: [Int]? = nil
    }

    /// What a rule found: the outputs, or why they cannot be known statically.
    enum Outcome {
        /// One entry per node output (nil: not worked out, e.g. an unused training output).
        case outputs([Output?])
        case unresolved(String)
    }

    static func infer(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        let node = c.node
        guard node.domain.isEmpty || node.domain == "ai.onnx" else {
            return .unresolved("operator \(node.domain).\(node.opType) is not known to shape inference")
        }
        let op = node.opType
        if unaryOps.contains(op) { return .outputs([Output(shape: try c.shape(0))]) }
        if broadcastOps.contains(op) { return try elementwise(c) }
        if reduceOps.contains(op) { return try reduce(c) }
        switch op {
        case "Identity", "Cast", "CastLike": return try passThrough(c)
        case "Dropout":
            let x = try c.shape(0)
            return .outputs([Output(shape: x), Output(shape: x)])
        case "BatchNormalization": return try batchNormalization(c)
        case "LayerNormalization": return try layerNormalization(c)
        case "Conv": return try conv(c)
        case "ConvTranspose": return try convTranspose(c)
        case "MatMul": return try matMul(c)
        case "Gemm": return try gemm(c)
        case "MaxPool", "AveragePool", "LpPool": return try pool(c)
        case "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool": return try globalPool(c)
        case "ArgMax", "ArgMin": return try argReduce(c)
        case "Transpose": return try transpose(c)
        case "Reshape": return try reshape(c)
        case "Flatten": return try flatten(c)
        case "Concat": return try concat(c)
        case "Split": return try split(c)
        case "Slice": return try slice(c)
        case "Squeeze": return try squeeze(c)
        case "Unsqueeze": return try unsqueeze(c)
        case "Pad": return try pad(c)
        case "Resize", "Upsample": return try resize(c)
        case "Shape": return try shapeOp(c)
        case "Size": return try size(c)
        case "Gather": return try gather(c)
        case "Expand": return try expand(c)
        case "Tile": return try tile(c)
        case "ConstantOfShape": return try constantOfShape(c)
        case "Range": return try range(c)
        case "TopK": return try topK(c)
        case "DepthToSpace": return try depthToSpace(c)
        case "SpaceToDepth": return try spaceToDepth(c)
        default: return .unresolved("operator \(op) is not known to shape inference")
        }
    }

    private static let unaryOps: Set = [
        "Relu", "Sigmoid", "Tanh", "Erf", "Gelu", "Exp", "Log", "Sqrt", "Neg", "Abs", "Reciprocal", "Floor", "Ceil",
        "Round", "Sign", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh",
        "LeakyRelu", "Elu", "Selu", "Celu", "HardSigmoid", "HardSwish", "Softplus", "Softsign", "Mish", "ThresholdedRelu",
        "Clip", "Not", "IsNaN", "IsInf", "Softmax", "LogSoftmax", "Hardmax", "LRN", "Shrink", "Trilu", "CumSum",
        "InstanceNormalization", "GroupNormalization", "LpNormalization", "MeanVarianceNormalization", "BitwiseNot",
    ]
    private static let broadcastOps: Set = [
        "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "Mod", "Equal", "Less", "LessOrEqual", "Greater",
        "GreaterOrEqual", "And", "Or", "Xor", "Where", "PRelu", "BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor",
    ]
    private static let reduceOps: Set = [
        "ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum",
        "ReduceLogSumExp", "ReduceSumSquare",
    ]

    // MARK: Element-wise

    private static func passThrough(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        var output = Output(shape: try c.shape(0), values: c.integers(0))
        if c.node.opType == "Cast", let to = c.node.attributes["to"]?.intValue,
            let type = DataType(rawValue: Int32(to)), type.isFloatingPoint
        {
            output.values = nil
        }
        return .outputs([output])
    }

    /// ONNX's multidirectional (numpy) broadcasting.
    static func broadcast(_ shapes: [[Int]]) throws(ShapeRuleError) -> [Int] {
        let rank = shapes.map(\.count).max() ?? 0
        var result = [Int](repeating: 1, count: rank)
        for shape in shapes {
            let offset = rank - shape.count
            for (axis, size) in shape.enumerated() {
                let target = offset + axis
                if result[target] == 1 {
                    result[target] = size
                } else if size != 1 && size != result[target] {
                    throw ShapeRuleError("shapes \(shapes.map { "\($0)" }.joined(separator: " and ")) do not broadcast")
                }
            }
        }
        return result
    }

    private static func elementwise(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        guard c.inputCount >= 1 else { throw ShapeRuleError("no inputs") }
        var shapes: [[Int]] = []
        for index in 0..<c.inputCount { shapes.append(try c.shape(index)) }
        let shape = try broadcast(shapes)
        return .outputs([Output(shape: shape, values: integerArithmetic(c, shape: shape))])
    }

    /// Elements of integer Add/Sub/Mul/Div/Max/Min/Mod when both operands are known.
    private static func integerArithmetic(_ c: ShapeRuleContext, shape: [Int]) -> [Int]? {
        let operations: [String: (Int, Int) -> Int?] = [
            "Add": { $0 + $1 }, "Sub": { $0 - $1 }, "Mul": { $0 * $1 }, "Max": { max($0, $1) }, "Min": { min($0, $1) },
            "Div": { $1 == 0 ? nil : $0 / $1 }, "Mod": { $1 == 0 ? nil : $0 % $1 },
        ]
        guard c.inputCount == 2, let operation = operations[c.node.opType],
            let a = c.integers(0), let b = c.integers(1)
        else { return nil }
        let count = elementCount(shape)
        // Same size, or one side a single element: all shape arithmetic needs.
        guard (a.count == count || a.count == 1) && (b.count == count || b.count == 1) else { return nil }
        var values: [Int] = []
        for index in 0..<count {
            guard let value = operation(a[a.count == 1 ? 0 : index], b[b.count == 1 ? 0 : index]) else { return nil }
            values.append(value)
        }
        return values
    }

    // MARK: Normalization

    private static func batchNormalization(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        let x = try c.shape(0)
        guard x.count >= 2 else { throw ShapeRuleError("input rank \(x.count) is below 2") }
        // Before opset 9, spatial = 0 gave per-element statistics; otherwise all are [C].
        if c.node.attributes["spatial"] == nil {
            for index in 1..<min(c.inputCount, 5) {
                let parameter = try c.shape(index)
                guard parameter == [x[1]] else {
                    throw ShapeRuleError("input \(index) has shape \(parameter), expected [\(x[1])] for \(x[1]) channels")
                }
            }
        }
        // Training mode's running mean and variance outputs are [C].
        return .outputs([Output(shape: x), Output(shape: [x[1]]), Output(shape: [x[1]])])
    }

    private static func layerNormalization(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        let x = try c.shape(0)
        let axis = try c.normalized(axis: try c.int("axis", default: -1), rank: x.count)
        let normalized = Array(x[axis...])
        for index in 1..<min(c.inputCount, 3) where c.has(index) {
            let parameter = try c.shape(index)
            if (try? broadcast([normalized, parameter])) != normalized {
                throw ShapeRuleError("input \(index) of shape \(parameter) does not fit the normalized shape \(normalized)")
            }
        }
        let statistics = Array(x[..<axis]) + [Int](repeating: 1, count: x.count - axis)
        return .outputs([Output(shape: x), Output(shape: statistics), Output(shape: statistics)])
    }

    // MARK: Convolution and linear algebra

    /// Per spatial axis: strides, dilations, pads begin/end, with ONNX defaults and auto_pad.
    private struct Window {
        var kernel: [Int]
        var strides: [Int]
        var dilations: [Int]
        var padsBegin: [Int]
        var padsEnd: [Int]
        var autoPad: String

        init(_ c: ShapeRuleContext, kernel: [Int]) throws(ShapeRuleError) {
            let rank = kernel.count
            self.kernel = kernel
            strides = try c.ints("strides") ?? [Int](repeating: 1, count: rank)
            dilations = try c.ints("dilations") ?? [Int](repeating: 1, count: rank)
            let pads = try c.ints("pads") ?? [Int](repeating: 0, count: 2 * rank)
            autoPad = try c.string("auto_pad", default: "NOTSET")
            guard strides.count == rank, dilations.count == rank, pads.count == 2 * rank else {
                throw ShapeRuleError("strides \(strides), dilations \(dilations) or pads \(pads) do not fit \(rank) spatial axes")
            }
            guard strides.allSatisfy({ $0 >= 1 }), dilations.allSatisfy({ $0 >= 1 }), kernel.allSatisfy({ $0 >= 1 }) else {
                throw ShapeRuleError("kernel \(kernel), strides \(strides) and dilations \(dilations) must be positive")
            }
            padsBegin = Array(pads[..<rank])
            padsEnd = Array(pads[rank...])
            if autoPad == "VALID" {
                padsBegin = [Int](repeating: 0, count: rank)
                padsEnd = padsBegin
            }
        }

        var isSame: Bool { autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" }

        /// Output size of a convolution or pooling window over `input`.
        func output(_ input: [Int], ceilMode: Bool = false) throws(ShapeRuleError) -> [Int] {
            var result: [Int] = []
            for axis in input.indices {
                if isSame {
                    result.append((input[axis] + strides[axis] - 1) / strides[axis])
                    continue
                }
                let span = dilations[axis] * (kernel[axis] - 1) + 1
                let padded = input[axis] + padsBegin[axis] + padsEnd[axis]
                guard padded >= span else {
                    throw ShapeRuleError("a window of \(span) does not fit the padded input \(padded) on spatial axis \(axis)")
                }
                var size = (padded - span) / strides[axis] + 1
                if ceilMode {
                    size = (padded - span + strides[axis] - 1) / strides[axis] + 1
                    // The last window must start inside the input or the begin padding (torch, ONNX).
                    if (size - 1) * strides[axis] >= input[axis] + padsBegin[axis] { size -= 1 }
                }
                result.append(size)
            }
            return result
        }
    }

    private static func conv(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        let x = try c.shape(0), w = try c.shape(1)
        guard x.count >= 3, w.count == x.count else { throw ShapeRuleError("input \(x) and weight \(w) need equal ranks of 3 or more") }
        let group = try c.int("group", default: 1)
        guard group >= 1, x[1] == w[1] * group, w[0] % group == 0 else {
            throw ShapeRuleError("input channels \(x[1]) do not match weight \(w) with group \(group)")
        }
        let kernel = try c.ints("kernel_shape") ?? Array(w[2...])
        guard kernel == Array(w[2...]) else { throw ShapeRuleError("kernel_shape \(kernel) differs from the weight's \(Array(w[2...]))") }
        if c.has(2), try c.shape(2) != [w[0]] { throw ShapeRuleError("bias shape \(try c.shape(2)) is not [\(w[0])]") }
        let spatial = try Window(c, kernel: kernel).output(Array(x[2...]))
        return .outputs([Output(shape: [x[0], w[0]] + spatial)])
    }

    private static func convTranspose(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        let x = try c.shape(0), w = try c.shape(1)
        guard x.count >= 3, w.count == x.count else { throw ShapeRuleError("input \(x) and weight \(w) need equal ranks of 3 or more") }
        let group = try c.int("group", default: 1)
        guard group >= 1, x[1] == w[0], w[0] % group == 0 else {
            throw ShapeRuleError("input channels \(x[1]) do not match weight \(w) with group \(group)")
        }
        let outChannels = w[1] * group
        if c.has(2), try c.shape(2) != [outChannels] { throw ShapeRuleError("bias shape \(try c.shape(2)) is not [\(outChannels)]") }
        let kernel = try c.ints("kernel_shape") ?? Array(w[2...])
        let window = try Window(c, kernel: kernel)
        let input = Array(x[2...])
        let rank = input.count
        if var requested = try c.ints("output_shape") {
            if requested.count == rank + 2 { requested = Array(requested[2...]) }
            guard requested.count == rank else { throw ShapeRuleError("output_shape has \(requested.count) values for \(rank) spatial axes") }
            return .outputs([Output(shape: [x[0], outChannels] + requested)])
        }
        let extra = try c.ints("output_padding") ?? [Int](repeating: 0, count: rank)
        guard extra.count == rank else { throw ShapeRuleError("output_padding has \(extra.count) values for \(rank) spatial axes") }
        var spatial: [Int] = []
        for axis in 0..<rank {
            let size = window.isSame
                ? input[axis] * window.strides[axis]
                : window.strides[axis] * (input[axis] - 1) + extra[axis] + (kernel[axis] - 1) * window.dilations[axis] + 1
                    - window.padsBegin[axis] - window.padsEnd[axis]
            guard size >= 1 else { throw ShapeRuleError("output size \(size) on spatial axis \(axis) is not positive") }
            spatial.append(size)
        }
        return .outputs([Output(shape: [x[0], outChannels] + spatial)])
    }

    private static func matMul(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        let a = try c.shape(0), b = try c.shape(1)
        guard !a.isEmpty, !b.isEmpty else { throw ShapeRuleError("MatMul of a scalar") }
        // numpy: a vector is a row on the left and a column on the right, dropped afterwards.
        let left = a.count == 1 ? [1] + a : a
        let right = b.count == 1 ? b + [1] : b
        let k = left[left.count - 1]
        guard k == right[right.count - 2] else { throw ShapeRuleError("inner dimensions of \(a) and \(b) differ") }
        var shape = try broadcast([Array(left.dropLast(2)), Array(right.dropLast(2))])
        if a.count > 1 { shape.append(left[left.count - 2]) }
        if b.count > 1 { shape.append(right[right.count - 1]) }
        return .outputs([Output(shape: shape)])
    }

    private static func gemm(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        let a = try c.shape(0), b = try c.shape(1)
        guard a.count == 2, b.count == 2 else { throw ShapeRuleError("Gemm needs matrices, got \(a) and \(b)") }
        let (m, ka) = try c.int("transA", default: 0) != 0 ? (a[1], a[0]) : (a[0], a[1])
        let (kb, n) = try c.int("transB", default: 0) != 0 ? (b[1], b[0]) : (b[0], b[1])
        guard ka == kb else { throw ShapeRuleError("inner dimensions \(ka) and \(kb) differ") }
        if c.has(2) {
            let bias = try c.shape(2)
            if (try? broadcast([[m, n], bias])) != [m, n] { throw ShapeRuleError("C of shape \(bias) does not broadcast to [\(m), \(n)]") }
        }
        return .outputs([Output(shape: [m, n])])
    }

    // MARK: Pooling and reduction

    private static func pool(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        let x = try c.shape(0)
        guard x.count >= 3 else { throw ShapeRuleError("input rank \(x.count) is below 3") }
        guard let kernel = try c.ints("kernel_shape"), kernel.count == x.count - 2 else {
            throw ShapeRuleError("kernel_shape is missing or does not fit input \(x)")
        }
        let spatial = try Window(c, kernel: kernel).output(Array(x[2...]), ceilMode: try c.int("ceil_mode", default: 0) != 0)
        let shape = Array(x[..<2]) + spatial
        return .outputs([Output(shape: shape), Output(shape: shape)])
    }

    private static func globalPool(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        let x = try c.shape(0)
        guard x.count >= 3 else { throw ShapeRuleError("input rank \(x.count) is below 3") }
        return .outputs([Output(shape: Array(x[..<2]) + [Int](repeating: 1, count: x.count - 2))])
    }

    private static func reduce(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        let x = try c.shape(0)
        var axes: [Int]
        if let attribute = try c.ints("axes") {
            axes = attribute
        } else if c.has(1) {
            guard let values = c.integers(1) else { return .unresolved("axes input '\(c.inputName(1))' is not a constant") }
            axes = values
        } else {
            axes = []
        }
        if axes.isEmpty {
            if try c.int("noop_with_empty_axes", default: 0) != 0 { return .outputs([Output(shape: x)]) }
            axes = Array(x.indices)
        }
        var reduced = Set<Int>()
        for axis in axes { reduced.insert(try c.normalized(axis: axis, rank: x.count, name: "axes entry")) }
        let keep = try c.int("keepdims", default: 1) != 0
        let shape = x.indices.compactMap { axis in reduced.contains(axis) ? (keep ? 1 : nil) : x[axis] }
        return .outputs([Output(shape: shape)])
    }

    private static func argReduce(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        let x = try c.shape(0)
        let axis = try c.normalized(axis: try c.int("axis", default: 0), rank: x.count)
        var shape = x
        if try c.int("keepdims", default: 1) != 0 { shape[axis] = 1 } else { shape.remove(at: axis) }
        return .outputs([Output(shape: shape)])
    }

    // MARK: Shape manipulation

    private static func transpose(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        let x = try c.shape(0)
        let perm = try c.ints("perm") ?? Array(x.indices.reversed())
        guard perm.sorted() == Array(x.indices) else { throw ShapeRuleError("perm \(perm) is not a permutation of rank \(x.count)") }
        return .outputs([Output(shape: perm.map { x[$0] })])
    }

    private static func reshape(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        let x = try c.shape(0)
        var target: [Int]
        if let attribute = try c.ints("shape") {
            target = attribute  // opset 1-4
        } else {
            guard let values = c.integers(1) else { return .unresolved("shape input '\(c.inputName(1))' is not a constant") }
            target = values
        }
        let allowZero = try c.int("allowzero", default: 0) != 0
        for (axis, size) in target.enumerated() where size == 0 && !allowZero {
            guard axis < x.count else { throw ShapeRuleError("shape \(target) copies axis \(axis) of \(x), which does not exist") }
            target[axis] = x[axis]
        }
        let count = elementCount(x)
        let inferred = target.indices.filter { target[$0] == -1 }
        guard inferred.count <= 1, target.allSatisfy({ $0 >= -1 }) else { throw ShapeRuleError("invalid target shape \(target)") }
        if let axis = inferred.first {
            let known = target.filter { $0 != -1 }.reduce(1, *)
            guard known > 0, count % known == 0 else { throw ShapeRuleError("cannot reshape \(x) to \(target)") }
            target[axis] = count / known
        }
        guard elementCount(target) == count else { throw ShapeRuleError("cannot reshape \(x) (\(count) elements) to \(target)") }
        return .outputs([Output(shape: target, values: c.integers(0))])
    }

    private static func flatten(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        let x = try c.shape(0)
        var axis = try c.int("axis", default: 1)
        guard axis >= -x.count && axis <= x.count else { throw ShapeRuleError("axis \(axis) is outside rank \(x.count)") }
        if axis < 0 { axis += x.count }
        return .outputs([Output(shape: [x[..<axis].reduce(1, *), x[axis...].reduce(1, *)], values: c.integers(0))])
    }

    private static func concat(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        let first = try c.shape(0)
        let axis = try c.normalized(axis: try c.int("axis", default: 0), rank: max(first.count, 1))
        var shape = first
        var values: [Int]? = first.count == 1 ? [] : nil
        for index in 0..<c.inputCount {
            let other = try c.shape(index)
            guard other.count == first.count,
                other.indices.allSatisfy({ $0 == axis || other[$0] == first[$0] })
            else { throw ShapeRuleError("input shapes \(first) and \(other) differ off axis \(axis)") }
            if index > 0 { shape[axis] += other[axis] }
            if let known = values { values = c.integers(index).map { known + $0 } }
        }
        return .outputs([Output(shape: shape, values: values)])
    }

    private static func split(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        let x = try c.shape(0)
        let axis = try c.normalized(axis: try c.int("axis", default: 0), rank: x.count)
        let size = x[axis]
        var parts: [Int]
        if c.has(1) {
            guard let values = c.integers(1) else { return .unresolved("split input '\(c.inputName(1))' is not a constant") }
            parts = values
        } else if let attribute = try c.ints("split") {
            parts = attribute
        } else {
            let count = try c.int("num_outputs", default: c.node.outputs.count)
            guard count >= 1 else { throw ShapeRuleError("splitting into \(count) parts") }
            // Opset 18: equal chunks of ceil(size / count), the last one smaller.
            let chunk = (size + count - 1) / count
            parts = (0..<count).map { max(0, min(chunk, size - $0 * chunk)) }
        }
        guard parts.reduce(0, +) == size, parts.allSatisfy({ $0 >= 0 }) else {
            throw ShapeRuleError("split \(parts) does not add up to \(size) on axis \(axis)")
        }
        return .outputs(parts.map { part in
            var shape = x
            shape[axis] = part
            return Output(shape: shape)
        })
    }

    private static func slice(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        let x = try c.shape(0)
        var starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?
        if let attribute = try c.ints("starts") {
            // Opset 1-9: attributes.
            starts = attribute
            ends = try c.ints("ends") ?? []
            axes = try c.ints("axes")
            steps = nil
        } else {
            for index in 1..<min(c.inputCount, 5) where c.has(index) && c.integers(index) == nil {
                return .unresolved("input '\(c.inputName(index))' is not a constant")
            }
            starts = c.integers(1) ?? []
            ends = c.integers(2) ?? []
            axes = c.has(3) ? c.integers(3) : nil
            steps = c.has(4) ? c.integers(4) : nil
        }
        let axisList = axes ?? Array(0..<starts.count)
        let stepList = steps ?? [Int](repeating: 1, count: starts.count)
        guard ends.count == starts.count, axisList.count == starts.count, stepList.count == starts.count else {
            throw ShapeRuleError("starts \(starts), ends \(ends), axes \(axisList) and steps \(stepList) differ in length")
        }
        var shape = x
        var ranges: [(axis: Int, start: Int, step: Int)] = []
        for index in starts.indices {
            let axis = try c.normalized(axis: axisList[index], rank: x.count, name: "axes entry")
            let dim = x[axis], step = stepList[index]
            guard step != 0 else { throw ShapeRuleError("step 0 on axis \(axis)") }
            var start = starts[index], end = ends[index]
            if start < 0 { start += dim }
            if end < 0 { end += dim }
            // ONNX clamping: [0, dim] going forward, [-1, dim - 1] going backward.
            if step > 0 {
                start = min(max(start, 0), dim)
                end = min(max(end, 0), dim)
                shape[axis] = max(0, (end - start + step - 1) / step)
            } else {
                start = min(max(start, 0), dim - 1)
                end = min(max(end, -1), dim - 1)
                shape[axis] = max(0, (start - end + (-step) - 1) / -step)
            }
            ranges.append((axis, start, step))
        }
        var values: [Int]?
        if x.count == 1, let data = c.integers(0) {
            let range = ranges.first ?? (axis: 0, start: 0, step: 1)
            values = (0..<shape[0]).map { data[range.start + $0 * range.step] }
        }
        return .outputs([Output(shape: shape, values: values)])
    }

    /// Axes of Squeeze/Unsqueeze: listed, left out, or computed at run time.
    private enum AxesArgument {
        case given([Int])
        case absent
        case notConstant
    }

    /// Axes from the attribute (before opset 13) or the second input.
    private static func axesArgument(_ c: ShapeRuleContext) throws(ShapeRuleError) -> AxesArgument {
        if let attribute = try c.ints("axes") { return .given(attribute) }
        guard c.has(1) else { return .absent }
        return c.integers(1).map(AxesArgument.given) ?? .notConstant
    }

    private static func squeeze(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        let x = try c.shape(0)
        var removed = Set<Int>()
        switch try axesArgument(c) {
        case .notConstant: return .unresolved("axes input '\(c.inputName(1))' is not a constant")
        case .absent: removed = Set(x.indices.filter { x[$0] == 1 })
        case .given(let axes):
            for axis in axes {
                let normalized = try c.normalized(axis: axis, rank: x.count, name: "axes entry")
                guard x[normalized] == 1 else { throw ShapeRuleError("cannot squeeze axis \(axis) of size \(x[normalized])") }
                removed.insert(normalized)
            }
        }
        return .outputs([Output(shape: x.indices.filter { !removed.contains($0) }.map { x[$0] }, values: c.integers(0))])
    }

    private static func unsqueeze(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        let x = try c.shape(0)
        let axes: [Int]
        switch try axesArgument(c) {
        case .notConstant: return .unresolved("axes input '\(c.inputName(1))' is not a constant")
        case .absent: throw ShapeRuleError("axes are missing")
        case .given(let given): axes = given
        }
        let rank = x.count + axes.count
        var inserted = Set<Int>()
        for axis in axes {
            guard inserted.insert(try c.normalized(axis: axis, rank: rank, name: "axes entry")).inserted else {
                throw ShapeRuleError("axes \(axes) repeat an axis")
            }
        }
        var remaining = x[...]
        let shape = (0..<rank).map { inserted.contains($0) ? 1 : remaining.popFirst()! }
        return .outputs([Output(shape: shape, values: c.integers(0))])
    }

    private static func pad(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        let x = try c.shape(0)
        let pads: [Int]
        if let attribute = try c.ints("pads") {
            pads = attribute  // before opset 11
        } else {
            guard let values = c.integers(1) else { return .unresolved("pads input '\(c.inputName(1))' is not a constant") }
            pads = values
        }
        var axes = Array(x.indices)
        if c.has(3) {
            guard let values = c.integers(3) else { return .unresolved("axes input '\(c.inputName(3))' is not a constant") }
            axes = []
            for axis in values { axes.append(try c.normalized(axis: axis, rank: x.count, name: "axes entry")) }
        }
        guard pads.count == 2 * axes.count else { throw ShapeRuleError("\(pads.count) pads for \(axes.count) axes") }
        var shape = x
        for (index, axis) in axes.enumerated() {
            shape[axis] += pads[index] + pads[index + axes.count]
            guard shape[axis] >= 0 else { throw ShapeRuleError("pads \(pads) make axis \(axis) negative") }
        }
        return .outputs([Output(shape: shape)])
    }

    private static func resize(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        let x = try c.shape(0)
        // Upsample-7 and Resize-10 take (X, scales); Resize-11 and later (X, roi, scales, sizes).
        let scalesIndex = (c.node.opType == "Upsample" || c.inputCount == 2) ? 1 : 2
        let sizesIndex = c.node.opType == "Upsample" ? -1 : 3
        var scales: [Float]?
        var sizes: [Int]?
        if let attribute = c.node.attributes["scales"]?.floatsValue { scales = attribute }
        if sizesIndex > 0, c.has(sizesIndex), (c.inputShapes[sizesIndex].map(elementCount) ?? 0) > 0 {
            guard let values = c.integers(sizesIndex) else { return .unresolved("sizes input '\(c.inputName(sizesIndex))' is not a constant") }
            sizes = values
        } else if c.has(scalesIndex), (c.inputShapes[scalesIndex].map(elementCount) ?? 0) > 0 {
            guard let values = c.floats(scalesIndex) else { return .unresolved("scales input '\(c.inputName(scalesIndex))' is not a constant") }
            scales = values
        }
        var axes = Array(x.indices)
        if let attribute = try c.ints("axes") {
            axes = []
            for axis in attribute { axes.append(try c.normalized(axis: axis, rank: x.count, name: "axes entry")) }
        }
        var shape = x
        if let sizes {
            guard sizes.count == axes.count else { throw ShapeRuleError("\(sizes.count) sizes for \(axes.count) axes") }
            let policy = try c.string("keep_aspect_ratio_policy", default: "stretch")
            if policy == "stretch" {
                for (index, axis) in axes.enumerated() { shape[axis] = sizes[index] }
            } else {
                let ratios = axes.indices.map { Double(sizes[$0]) / Double(x[axes[$0]]) }
                guard let scale = policy == "not_larger" ? ratios.min() : ratios.max() else { return .outputs([Output(shape: x)]) }
                for axis in axes { shape[axis] = Int((scale * Double(x[axis])).rounded()) }
            }
        } else if let scales {
            guard scales.count == axes.count else { throw ShapeRuleError("\(scales.count) scales for \(axes.count) axes") }
            for (index, axis) in axes.enumerated() {
                guard scales[index] > 0 else { throw ShapeRuleError("scale \(scales[index]) is not positive") }
                shape[axis] = Int((Double(x[axis]) * Double(scales[index])).rounded(.down))
            }
        } else {
            throw ShapeRuleError("neither scales nor sizes given")
        }
        return .outputs([Output(shape: shape)])
    }

    // MARK: Shapes as values

    private static func shapeOp(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        let x = try c.shape(0)
        let rank = x.count
        func clamp(_ value: Int) -> Int { min(max(value < 0 ? value + rank : value, 0), rank) }
        let start = clamp(try c.int("start", default: 0))
        let end = clamp(try c.int("end", default: rank))
        let values = start < end ? Array(x[start..<end]) : []
        return .outputs([Output(shape: [values.count], values: values)])
    }

    private static func size(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        .outputs([Output(shape: [], values: [elementCount(try c.shape(0))])])
    }

    private static func gather(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        let data = try c.shape(0), indices = try c.shape(1)
        guard !data.isEmpty else { throw ShapeRuleError("Gather from a scalar") }
        let axis = try c.normalized(axis: try c.int("axis", default: 0), rank: data.count)
        let shape = Array(data[..<axis]) + indices + Array(data[(axis + 1)...])
        var values: [Int]?
        if let elements = c.integers(0), let picks = c.integers(1) {
            let outer = data[..<axis].reduce(1, *), inner = data[(axis + 1)...].reduce(1, *), dim = data[axis]
            var gathered: [Int] = []
            for o in 0..<outer {
                for pick in picks {
                    let index = pick < 0 ? pick + dim : pick
                    guard index >= 0 && index < dim else { throw ShapeRuleError("index \(pick) is outside axis size \(dim)") }
                    let base = (o * dim + index) * inner
                    gathered.append(contentsOf: elements[base..<(base + inner)])
                }
            }
            values = gathered
        }
        return .outputs([Output(shape: shape, values: values)])
    }

    private static func expand(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        let x = try c.shape(0)
        guard let target = c.integers(1) else { return .unresolved("shape input '\(c.inputName(1))' is not a constant") }
        return .outputs([Output(shape: try broadcast([x, target]))])
    }

    private static func tile(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        let x = try c.shape(0)
        guard let repeats = c.integers(1) else { return .unresolved("repeats input '\(c.inputName(1))' is not a constant") }
        guard repeats.count == x.count, repeats.allSatisfy({ $0 >= 0 }) else { throw ShapeRuleError("repeats \(repeats) do not fit \(x)") }
        return .outputs([Output(shape: zip(x, repeats).map { $0 * $1 })])
    }

    private static func constantOfShape(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        guard let shape = c.integers(0) else { return .unresolved("shape input '\(c.inputName(0))' is not a constant") }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw ShapeRuleError("negative dimension in \(shape)") }
        // The default fill is a float zero; only an integer fill gives shape arithmetic values.
        var values: [Int]?
        if let value = c.node.attributes["value"]?.tensorValue, !value.dataType.isFloatingPoint,
            elementCount(shape) <= Graph.trackedIntegerElements, let fill = try? value.intValues(), fill.count == 1
        {
            values = [Int](repeating: fill[0], count: elementCount(shape))
        }
        return .outputs([Output(shape: shape, values: values)])
    }

    private static func range(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        if let start = c.integers(0)?.first, let limit = c.integers(1)?.first, let delta = c.integers(2)?.first {
            guard delta != 0 else { throw ShapeRuleError("delta 0") }
            let count = max(0, (limit - start + delta + (delta > 0 ? -1 : 1)) / delta)
            return .outputs([Output(shape: [count], values: (0..<count).map { start + $0 * delta })])
        }
        if let start = c.floats(0)?.first, let limit = c.floats(1)?.first, let delta = c.floats(2)?.first, delta != 0 {
            return .outputs([Output(shape: [max(0, Int(((Double(limit) - Double(start)) / Double(delta)).rounded(.up)))])])
        }
        return .unresolved("start, limit and delta are not all constants")
    }

    private static func topK(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        let x = try c.shape(0)
        let axis = try c.normalized(axis: try c.int("axis", default: -1), rank: x.count)
        let k: Int
        if let attribute = c.node.attributes["k"]?.intValue {
            k = attribute
        } else {
            guard let values = c.integers(1), values.count == 1 else { return .unresolved("k input '\(c.inputName(1))' is not a constant") }
            k = values[0]
        }
        guard k >= 0 && k <= x[axis] else { throw ShapeRuleError("k \(k) is outside axis size \(x[axis])") }
        var shape = x
        shape[axis] = k
        return .outputs([Output(shape: shape), Output(shape: shape)])
    }

    private static func depthToSpace(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        let x = try c.shape(0)
        let block = try c.int("blocksize", default: 0)
        guard x.count == 4, block >= 1, x[1] % (block * block) == 0 else { throw ShapeRuleError("blocksize \(block) does not fit \(x)") }
        return .outputs([Output(shape: [x[0], x[1] / (block * block), x[2] * block, x[3] * block])])
    }

    private static func spaceToDepth(_ c: ShapeRuleContext) throws(ShapeRuleError) -> Outcome {
        let x = try c.shape(0)
        let block = try c.int("blocksize", default: 0)
        guard x.count == 4, block >= 1, x[2] % block == 0, x[3] % block == 0 else { throw ShapeRuleError("blocksize \(block) does not fit \(x)") }
        return .outputs([Output(shape: [x[0], x[1] * block * block, x[2] / block, x[3] / block])])
    }

    // MARK: Constant

    /// The tensor a Constant node produces; nil for the kinds this pass does not read
    /// (strings, sparse tensors).
    static func constantValue(_ node: Node) -> Tensor? {
        if let tensor = node.attributes["value"]?.tensorValue { return tensor }
        if let value = node.attributes["value_float"]?.floatValue { return Tensor(scalar: value) }
        if let values = node.attributes["value_floats"]?.floatsValue { return Tensor(shape: [values.count], scalars: values) }
        if let value = node.attributes["value_int"]?.intValue { return Tensor(scalar: Int64(value)) }
        if let values = node.attributes["value_ints"]?.intsValue {
            return Tensor(shape: [values.count], scalars: values.map(Int64.init))
        }
        return nil
    }
}
