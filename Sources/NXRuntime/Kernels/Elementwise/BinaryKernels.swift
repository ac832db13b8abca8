import NXIR

/// Add, Sub, Mul, Div (two inputs) and Min, Max (one or more inputs, folded left to right),
/// with numpy broadcasting, on float32, int32 and int64; all inputs of one type.
struct ArithmeticKernel: Kernel {
    enum Operator: String, Sendable {
        case add = "Add", sub = "Sub", mul = "Mul", div = "Div", min = "Min", max = "Max"
        var isVariadic: Bool { self == .min || self == .max }
    }

    let op: Operator

    init(_ op: Operator) { self.op = op }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let name = op.rawValue
        if op.isVariadic {
            guard !inputs.isEmpty else { throw KernelError("\(name) needs at least one input") }
        } else if inputs.count != 2 {
            throw KernelError("\(name) takes 2 inputs, got \(inputs.count)")
        }
        var result = try ElementwiseSupport.input(inputs, 0, name)
        try ElementwiseSupport.check(result, name, input: 0, types: [.float32, .int32, .int64])
        if inputs.count == 1 { return [result] }
        for index in 1..<inputs.count {
            let next = try ElementwiseSupport.input(inputs, index, name)
            guard next.dataType == result.dataType else {
                throw KernelError("\(name) inputs must share one type: input 0 is \(result.dataType), input \(index) is \(next.dataType)")
            }
            result = try combine(result, next, context: context)
        }
        return [result]
    }

    private func combine(_ a: Tensor, _ b: Tensor, context: ExecutionContext) throws -> Tensor {
        switch a.dataType {
        case .float32:
            switch op {
            case .add: return try apply(FloatAdd.self, a, b, context)
            case .sub: return try apply(FloatSub.self, a, b, context)
            case .mul: return try apply(FloatMul.self, a, b, context)
            case .div: return try apply(FloatDiv.self, a, b, context)
            case .min: return try apply(FloatMin.self, a, b, context)
            case .max: return try apply(FloatMax.self, a, b, context)
            }
        case .int32: return try integer(Int32.self, a, b, context)
        case .int64: return try integer(Int64.self, a, b, context)
        default: throw KernelError("\(op.rawValue) does not support \(a.dataType)")
        }
    }

    private func integer<T: FixedWidthInteger>(_: T.Type, _ a: Tensor, _ b: Tensor, _ context: ExecutionContext) throws -> Tensor {
        switch op {
        case .add: try apply(IntegerAdd<T>.self, a, b, context)
        case .sub: try apply(IntegerSub<T>.self, a, b, context)
        case .mul: try apply(IntegerMul<T>.self, a, b, context)
        case .div: try apply(IntegerDiv<T>.self, a, b, context)
        case .min: try apply(IntegerMin<T>.self, a, b, context)
        case .max: try apply(IntegerMax<T>.self, a, b, context)
        }
    }

    private func apply<Op: BinaryOperation>(_ operation: Op.Type, _ a: Tensor, _ b: Tensor, _ context: ExecutionContext) throws -> Tensor {
        try BinaryBroadcast.apply(operation, a, b, outputType: a.dataType, op: op.rawValue, context: context)
    }

    func flops(inputs: [Tensor?], outputs: [Tensor]) -> Int {
        guard let output = outputs.first, output.dataType == .float32 else { return 0 }
        return output.elementCount * max(1, inputs.count - 1)
    }
}

/// Equal, Less, Greater: bool output of numpy-broadcast comparisons, on float32, int32 and
/// int64 (and bool for Equal); both inputs of one type.
struct ComparisonKernel: Kernel {
    enum Operator: String, Sendable {
        case equal = "Equal", less = "Less", greater = "Greater"
    }

    let op: Operator

    init(_ op: Operator) { self.op = op }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let name = op.rawValue
        guard inputs.count == 2 else { throw KernelError("\(name) takes 2 inputs, got \(inputs.count)") }
        let a = try ElementwiseSupport.input(inputs, 0, name)
        let b = try ElementwiseSupport.input(inputs, 1, name)
        guard a.dataType == b.dataType else {
            throw KernelError("\(name) inputs must share one type: \(a.dataType) and \(b.dataType)")
        }
        switch (a.dataType, op) {
        case (.float32, _): return [try compare(Float.self, a, b, context)]
        case (.int32, _): return [try compare(Int32.self, a, b, context)]
        case (.int64, _): return [try compare(Int64.self, a, b, context)]
        case (.bool, .equal): return [try apply(CompareEqualBool.self, a, b, context)]
        default:
            let types: [DataType] = op == .equal ? [.float32, .int32, .int64, .bool] : [.float32, .int32, .int64]
            throw KernelError("\(name) does not support \(a.dataType); supported: \(types.map(\.description).joined(separator: ", "))")
        }
    }

    private func compare<T: Comparable>(_: T.Type, _ a: Tensor, _ b: Tensor, _ context: ExecutionContext) throws -> Tensor {
        switch op {
        case .equal: try apply(CompareEqual<T>.self, a, b, context)
        case .less: try apply(CompareLess<T>.self, a, b, context)
        case .greater: try apply(CompareGreater<T>.self, a, b, context)
        }
    }

    private func apply<Op: BinaryOperation>(_ operation: Op.Type, _ a: Tensor, _ b: Tensor, _ context: ExecutionContext) throws -> Tensor {
        try BinaryBroadcast.apply(operation, a, b, outputType: .bool, op: op.rawValue, context: context)
    }
}

/// Pow: base ** exponent with numpy broadcasting; the output has the base's type. Bases
/// float32, int32, int64; exponents float32, int32, int64 (opset 12+ allows them to differ).
/// float32 ** 2 takes a multiply instead of powf.
struct PowKernel: Kernel {
    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        guard inputs.count == 2 else { throw KernelError("Pow takes 2 inputs, got \(inputs.count)") }
        let base = try ElementwiseSupport.input(inputs, 0, "Pow")
        let exponent = try ElementwiseSupport.input(inputs, 1, "Pow")
        let types: [DataType] = [.float32, .int32, .int64]
        try ElementwiseSupport.check(base, "Pow", input: 0, types: types)
        try ElementwiseSupport.check(exponent, "Pow", input: 1, types: types)
        func apply<Op: BinaryOperation>(_ operation: Op.Type) throws -> [Tensor] {
            [try BinaryBroadcast.apply(operation, base, exponent, outputType: base.dataType, op: "Pow", context: context)]
        }
        switch (base.dataType, exponent.dataType) {
        case (.float32, .float32):
            if exponent.elementCount == 1, exponent.storage.bytes.loadUnaligned(as: Float.self) == 2 {
                return try apply(FloatSquare.self)
            }
            return try apply(FloatPow.self)
        case (.float32, .int32): return try apply(FloatIntegerPow<Int32>.self)
        case (.float32, .int64): return try apply(FloatIntegerPow<Int64>.self)
        case (.int32, .float32): return try apply(IntegerFloatPow<Int32>.self)
        case (.int32, .int32): return try apply(IntegerPow<Int32, Int32>.self)
        case (.int32, .int64): return try apply(IntegerPow<Int32, Int64>.self)
        case (.int64, .float32): return try apply(IntegerFloatPow<Int64>.self)
        case (.int64, .int32): return try apply(IntegerPow<Int64, Int32>.self)
        case (.int64, .int64): return try apply(IntegerPow<Int64, Int64>.self)
        default: throw KernelError("Pow does not support \(base.dataType) ** \(exponent.dataType)")
        }
    }

    func flops(inputs: [Tensor?], outputs: [Tensor]) -> Int {
        guard let output = outputs.first, output.dataType == .float32 else { return 0 }
        return output.elementCount * 10
    }
}
