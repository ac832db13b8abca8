import Foundation
import NXIR

/// The float32 element-wise functions of one input, with their attributes parsed at load.
enum UnaryFunction: Sendable {
    case sqrt, reciprocal, neg, abs, exp, log, erf, tanh, relu, sigmoid, hardSwish, gelu, geluTanh
    case leakyRelu(alpha: Float)
    case hardSigmoid(alpha: Float, beta: Float)

    /// Floating-point operations per element, for the profiler.
    var flopsPerElement: Int {
        switch self {
        case .neg, .abs, .relu: 1
        case .sqrt, .reciprocal, .leakyRelu: 1
        case .hardSigmoid: 3
        case .hardSwish: 4
        case .exp, .log: 10
        case .sigmoid, .tanh: 14
        case .erf: 24
        case .gelu: 28
        case .geluTanh: 20
        }
    }
}

/// Sqrt, Reciprocal, Neg, Abs, Exp, Log, Erf, Tanh, Relu, LeakyRelu, Sigmoid, HardSigmoid,
/// HardSwish, Gelu: y = f(x) element by element, same shape. float32 always; Neg and Abs
/// also on int32/int64. Vectorized 16 lanes at a time, in parallel for large tensors.
struct UnaryKernel: Kernel {
    let op: String
    let function: UnaryFunction

    init(_ op: String, _ function: UnaryFunction) {
        self.op = op
        self.function = function
    }

    /// The kernel for `op`, reading its attributes from the node.
    init(_ op: String, context: KernelBuildContext) throws {
        let function: UnaryFunction
        switch op {
        case "Sqrt": function = .sqrt
        case "Reciprocal": function = .reciprocal
        case "Neg": function = .neg
        case "Abs": function = .abs
        case "Exp": function = .exp
        case "Log": function = .log
        case "Erf": function = .erf
        case "Tanh": function = .tanh
        case "Relu": function = .relu
        case "Sigmoid": function = .sigmoid
        case "HardSwish": function = .hardSwish
        case "LeakyRelu": function = .leakyRelu(alpha: try context.float("alpha", default: 0.01))
        case "HardSigmoid":
            function = .hardSigmoid(alpha: try context.float("alpha", default: 0.2), beta: try context.float("beta", default: 0.5))
        case "Gelu":
            switch try context.string("approximate", default: "none") {
            case "none": function = .gelu
            case "tanh": function = .geluTanh
            case let other: throw KernelError("Gelu approximate must be 'none' or 'tanh', got '\(other)'")
            }
        default: throw KernelError("no element-wise function named \(op)")
        }
        self.init(op, function)
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let input = try ElementwiseSupport.input(inputs, 0, op)
        switch (function, input.dataType) {
        case (_, .float32): return [mapFloats(input, context: context)]
        case (.neg, .int32): return [ElementwiseSupport.mapIntegers(input, Int32.self, context: context) { 0 &- $0 }]
        case (.neg, .int64): return [ElementwiseSupport.mapIntegers(input, Int64.self, context: context) { 0 &- $0 }]
        // |min| wraps to min, as in numpy and C.
        case (.abs, .int32): return [ElementwiseSupport.mapIntegers(input, Int32.self, context: context) { $0 < 0 ? 0 &- $0 : $0 }]
        case (.abs, .int64): return [ElementwiseSupport.mapIntegers(input, Int64.self, context: context) { $0 < 0 ? 0 &- $0 : $0 }]
        default:
            let types: [DataType]
            switch function {
            case .neg, .abs: types = [.float32, .int32, .int64]
            default: types = [.float32]
            }
            throw KernelError("\(op) does not support \(input.dataType); supported: \(types.map(\.description).joined(separator: ", "))")
        }
    }

    func flops(inputs: [Tensor?], outputs: [Tensor]) -> Int {
        guard let output = outputs.first, output.dataType == .float32 else { return 0 }
        return output.elementCount * function.flopsPerElement
    }

    private func mapFloats(_ input: Tensor, context: ExecutionContext) -> Tensor {
        let (tensor, output) = context.allocateFloats(input.shape)
        let count = input.elementCount
        guard count > 0 else { return tensor }
        let source = ElementwiseSupport.aligned(input)
        let x = ElementwiseSupport.pointer(source, as: Float.self)
        withExtendedLifetime(source) {
            ElementwiseSupport.forChunks(count, context: context) { range in
                function.map(x + range.lowerBound, output + range.lowerBound, count: range.count)
            }
        }
        return tensor
    }
}

/// Code generic over a float function, run specialized for each `UnaryFunction`
/// (`UnaryFunction.accept`): how GEMM kernels apply an activation to a tile in registers.
protocol FloatVectorFunctionVisitor {
    associatedtype Result
    func visit<F: FloatVectorFunction>(_ function: F) -> Result
}

extension UnaryFunction {
    /// Calls `visitor.visit` with this function's vector form.
    func accept<Visitor: FloatVectorFunctionVisitor>(_ visitor: Visitor) -> Visitor.Result {
        switch self {
        case .sqrt: visitor.visit(Sqrt())
        case .reciprocal: visitor.visit(Reciprocal())
        case .neg: visitor.visit(Negate())
        case .abs: visitor.visit(Absolute())
        case .exp: visitor.visit(Exp())
        case .log: visitor.visit(Log())
        case .erf: visitor.visit(Erf())
        case .tanh: visitor.visit(Tanh())
        case .relu: visitor.visit(Relu())
        case .sigmoid: visitor.visit(Sigmoid())
        case .hardSwish: visitor.visit(HardSwish())
        case .gelu: visitor.visit(Gelu())
        case .geluTanh: visitor.visit(GeluTanh())
        case .leakyRelu(let alpha): visitor.visit(LeakyRelu(alpha: alpha))
        case .hardSigmoid(let alpha, let beta): visitor.visit(HardSigmoid(alpha: alpha, beta: beta))
        }
    }

    /// output[i] = f(input[i]); `input` and `output` may be the same buffer, which is how
    /// fused kernels apply an activation to a result while it is still in cache.
    func map(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, count: Int) {
        accept(Mapping(input: input, output: output, count: count))
    }
}

private struct Mapping: FloatVectorFunctionVisitor {
    let input: UnsafePointer<Float>
    let output: UnsafeMutablePointer<Float>
    let count: Int
    func visit<F: FloatVectorFunction>(_ function: F) { ElementwiseMath.map(function, input, output, count: count) }
}

/// f(x) = x: the activation of a GEMM tile that has none.
struct IdentityFunction: FloatVectorFunction {
    @inline(__always) func callAsFunction(_ x: SIMD16<Float>) -> SIMD16<Float> { x }
}

// MARK: The float32 functions

private typealias V = SIMD16<Float>

private struct Sqrt: FloatVectorFunction {
    @inline(__always) func callAsFunction(_ x: V) -> V { x.squareRoot() }
}
private struct Reciprocal: FloatVectorFunction {
    @inline(__always) func callAsFunction(_ x: V) -> V { 1 / x }
}
private struct Negate: FloatVectorFunction {
    @inline(__always) func callAsFunction(_ x: V) -> V { -x }
}
private struct Absolute: FloatVectorFunction {
    @inline(__always) func callAsFunction(_ x: V) -> V { ElementwiseMath.abs(x) }
}
private struct Exp: FloatVectorFunction {
    @inline(__always) func callAsFunction(_ x: V) -> V { ElementwiseMath.exp(x) }
}
/// Natural log through the C library per lane (correctly rounded; not on a hot path).
private struct Log: FloatVectorFunction {
    @inline(__always) func callAsFunction(_ x: V) -> V {
        var y = V()
        for lane in 0..<16 { y[lane] = Foundation.log(x[lane]) }
        return y
    }
}
private struct Erf: FloatVectorFunction {
    @inline(__always) func callAsFunction(_ x: V) -> V { ElementwiseMath.erf(x) }
}
private struct Tanh: FloatVectorFunction {
    @inline(__always) func callAsFunction(_ x: V) -> V { ElementwiseMath.tanh(x) }
}
/// max(x, 0), keeping NaN.
private struct Relu: FloatVectorFunction {
    @inline(__always) func callAsFunction(_ x: V) -> V { x.replacing(with: 0, where: x .< 0) }
}
/// x for x >= 0, alpha·x below.
private struct LeakyRelu: FloatVectorFunction {
    let alpha: Float
    @inline(__always) func callAsFunction(_ x: V) -> V { x.replacing(with: x * alpha, where: x .< 0) }
}
private struct Sigmoid: FloatVectorFunction {
    @inline(__always) func callAsFunction(_ x: V) -> V { ElementwiseMath.sigmoid(x) }
}
/// max(0, min(1, alpha·x + beta)).
private struct HardSigmoid: FloatVectorFunction {
    let alpha: Float
    let beta: Float
    @inline(__always) func callAsFunction(_ x: V) -> V {
        ElementwiseMath.floored(ElementwiseMath.capped(x * alpha + beta, 1), 0)
    }
}
/// x · max(0, min(1, x/6 + 1/2)).
private struct HardSwish: FloatVectorFunction {
    @inline(__always) func callAsFunction(_ x: V) -> V {
        x * ElementwiseMath.floored(ElementwiseMath.capped(x * (1 / 6 as Float) + 0.5, 1), 0)
    }
}
private struct Gelu: FloatVectorFunction {
    @inline(__always) func callAsFunction(_ x: V) -> V { ElementwiseMath.gelu(x) }
}
private struct GeluTanh: FloatVectorFunction {
    @inline(__always) func callAsFunction(_ x: V) -> V { ElementwiseMath.geluTanh(x) }
}
