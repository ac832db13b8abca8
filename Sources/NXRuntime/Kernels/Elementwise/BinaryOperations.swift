import Foundation
import NXIR

/// One element-wise binary function as a loop over a run: `output[i] = f(a[i·aStep],
/// b[i·bStep])` for `i in 0..<count`, each step 0 (broadcast) or 1. Op types are
/// uninhabited enums so generic callers are specialized per op and type.
protocol BinaryOperation {
    associatedtype Left
    associatedtype Right
    associatedtype Output
    static func run(
        _ a: UnsafePointer<Left>, _ aStep: Int, _ b: UnsafePointer<Right>, _ bStep: Int,
        _ output: UnsafeMutablePointer<Output>, _ count: Int)
}

/// A binary operation defined per element; the loops are split by step so each is a plain
/// loop the compiler can vectorize.
protocol ScalarBinaryOperation: BinaryOperation {
    associatedtype Left
    associatedtype Right
    associatedtype Output
    static func apply(_ a: Left, _ b: Right) -> Output
}

extension ScalarBinaryOperation {
    @inline(__always)
    static func run(
        _ a: UnsafePointer<Left>, _ aStep: Int, _ b: UnsafePointer<Right>, _ bStep: Int,
        _ output: UnsafeMutablePointer<Output>, _ count: Int
    ) {
        switch (aStep, bStep) {
        case (1, 1): for i in 0..<count { output[i] = apply(a[i], b[i]) }
        case (1, _):
            let y = b[0]
            for i in 0..<count { output[i] = apply(a[i], y) }
        case (_, 1):
            let x = a[0]
            for i in 0..<count { output[i] = apply(x, b[i]) }
        default:
            let value = apply(a[0], b[0])
            for i in 0..<count { output[i] = value }
        }
    }
}

/// A float32 binary operation on 16 lanes at a time; the tail is padded (with ones, so a
/// division in the padding cannot trap or matter) and stored partially.
protocol FloatBinaryOperation: BinaryOperation where Left == Float, Right == Float, Output == Float {
    static func vector(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float>
}

extension FloatBinaryOperation {
    @inline(__always)
    static func run(
        _ a: UnsafePointer<Float>, _ aStep: Int, _ b: UnsafePointer<Float>, _ bStep: Int,
        _ output: UnsafeMutablePointer<Float>, _ count: Int
    ) {
        typealias V = SIMD16<Float>
        @inline(__always) func load(_ p: UnsafePointer<Float>, _ i: Int) -> V { UnsafeRawPointer(p + i).loadUnaligned(as: V.self) }
        @inline(__always) func store(_ v: V, _ i: Int) { UnsafeMutableRawPointer(output + i).storeBytes(of: v, as: V.self) }
        let whole = count & ~15
        switch (aStep, bStep) {
        case (1, 1): for i in stride(from: 0, to: whole, by: 16) { store(vector(load(a, i), load(b, i)), i) }
        case (1, _):
            let y = V(repeating: b[0])
            for i in stride(from: 0, to: whole, by: 16) { store(vector(load(a, i), y), i) }
        case (_, 1):
            let x = V(repeating: a[0])
            for i in stride(from: 0, to: whole, by: 16) { store(vector(x, load(b, i)), i) }
        default:
            let value = vector(V(repeating: a[0]), V(repeating: b[0]))[0]
            for i in 0..<count { output[i] = value }
            return
        }
        guard whole < count else { return }
        var x = V(repeating: 1)
        var y = V(repeating: 1)
        for lane in 0..<(count - whole) {
            x[lane] = a[(whole + lane) * aStep]
            y[lane] = b[(whole + lane) * bStep]
        }
        let r = vector(x, y)
        for lane in 0..<(count - whole) { output[whole + lane] = r[lane] }
    }
}

// MARK: float32 arithmetic

enum FloatAdd: FloatBinaryOperation {
    @inline(__always) static func vector(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> { a + b }
}
enum FloatSub: FloatBinaryOperation {
    @inline(__always) static func vector(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> { a - b }
}
enum FloatMul: FloatBinaryOperation {
    @inline(__always) static func vector(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> { a * b }
}
enum FloatDiv: FloatBinaryOperation {
    @inline(__always) static func vector(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> { a / b }
}
/// numpy's fmin-less `minimum`: NaN in either operand gives NaN.
enum FloatMin: FloatBinaryOperation {
    @inline(__always) static func vector(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
        a.replacing(with: b, where: (b .< a) .| (b .!= b))
    }
}
/// numpy's `maximum`: NaN in either operand gives NaN.
enum FloatMax: FloatBinaryOperation {
    @inline(__always) static func vector(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
        a.replacing(with: b, where: (b .> a) .| (b .!= b))
    }
}

// MARK: integer arithmetic (wrapping, as numpy and ONNX Runtime do)

enum IntegerAdd<T: FixedWidthInteger>: ScalarBinaryOperation {
    @inline(__always) static func apply(_ a: T, _ b: T) -> T { a &+ b }
}
enum IntegerSub<T: FixedWidthInteger>: ScalarBinaryOperation {
    @inline(__always) static func apply(_ a: T, _ b: T) -> T { a &- b }
}
enum IntegerMul<T: FixedWidthInteger>: ScalarBinaryOperation {
    @inline(__always) static func apply(_ a: T, _ b: T) -> T { a &* b }
}
/// Truncating division (C semantics, as ONNX's tests expect). Division by zero gives 0 and
/// min / -1 wraps, instead of trapping.
enum IntegerDiv<T: FixedWidthInteger>: ScalarBinaryOperation {
    @inline(__always) static func apply(_ a: T, _ b: T) -> T {
        b == 0 ? 0 : a.dividedReportingOverflow(by: b).partialValue
    }
}
enum IntegerMin<T: FixedWidthInteger>: ScalarBinaryOperation {
    @inline(__always) static func apply(_ a: T, _ b: T) -> T { Swift.min(a, b) }
}
enum IntegerMax<T: FixedWidthInteger>: ScalarBinaryOperation {
    @inline(__always) static func apply(_ a: T, _ b: T) -> T { Swift.max(a, b) }
}

// MARK: comparisons (bool output)

enum CompareEqual<T: Equatable>: ScalarBinaryOperation {
    @inline(__always) static func apply(_ a: T, _ b: T) -> Bool { a == b }
}
enum CompareLess<T: Comparable>: ScalarBinaryOperation {
    @inline(__always) static func apply(_ a: T, _ b: T) -> Bool { a < b }
}
enum CompareGreater<T: Comparable>: ScalarBinaryOperation {
    @inline(__always) static func apply(_ a: T, _ b: T) -> Bool { a > b }
}
/// Equal on bool tensors, read as bytes: any non-zero byte is true.
enum CompareEqualBool: ScalarBinaryOperation {
    @inline(__always) static func apply(_ a: UInt8, _ b: UInt8) -> Bool { (a != 0) == (b != 0) }
}

// MARK: Pow

/// float32 ** float32: powf.
enum FloatPow: ScalarBinaryOperation {
    @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { Foundation.pow(a, b) }
}
/// float32 ** integer: powf(base, Float(exponent)), as numpy does for float32 ** int.
enum FloatIntegerPow<E: BinaryInteger>: ScalarBinaryOperation {
    @inline(__always) static func apply(_ a: Float, _ b: E) -> Float { Foundation.pow(a, Float(b)) }
}
/// float32 ** 2 (LayerNorm's variance in decomposed graphs): the same rounding as powf.
enum FloatSquare: FloatBinaryOperation {
    @inline(__always) static func vector(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> { a * a }
}
/// Integer base, integer exponent: exact, wrapping repeated squaring. A negative exponent
/// gives the truncated value (1 for base 1, ±1 for base -1, else 0) instead of numpy's error.
enum IntegerPow<T: FixedWidthInteger, E: FixedWidthInteger>: ScalarBinaryOperation {
    @inline(__always) static func apply(_ base: T, _ exponent: E) -> T {
        if exponent < 0 {
            if base == 1 { return 1 }
            if base == -1 { return exponent & 1 == 0 ? 1 : T(truncatingIfNeeded: -1) }
            return 0
        }
        var result: T = 1
        var square = base
        var e = exponent
        while e > 0 {
            if e & 1 == 1 { result = result &* square }
            e >>= 1
            if e > 0 { square = square &* square }
        }
        return result
    }
}
/// Integer base, float exponent: pow in double, truncated toward zero (saturating) back
/// to the base's type, like `np.power(x, y).astype(x.dtype)`.
enum IntegerFloatPow<T: FixedWidthInteger>: ScalarBinaryOperation {
    @inline(__always) static func apply(_ a: T, _ b: Float) -> T {
        CastConversion.integer(Foundation.pow(Double(a), Double(b)))
    }
}

// MARK: Running a binary operation

extension BinaryBroadcast {
    /// `Op` applied to `a` and `b` broadcast together, into a new tensor of `outputType`
    /// (whose element layout must be `Op.Output`).
    static func apply<Op: BinaryOperation>(
        _: Op.Type, _ a: Tensor, _ b: Tensor, outputType: DataType, op: String, context: ExecutionContext
    ) throws -> Tensor {
        guard let plan = BinaryBroadcast([a.shape, b.shape]) else {
            throw KernelError("\(op): shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        let (tensor, raw) = context.allocate(outputType, plan.shape)
        guard plan.count > 0 else { return tensor }
        let a = ElementwiseSupport.aligned(a)
        let b = ElementwiseSupport.aligned(b)
        let pa = ElementwiseSupport.pointer(a, as: Op.Left.self)
        let pb = ElementwiseSupport.pointer(b, as: Op.Right.self)
        let output = raw.bindMemory(to: Op.Output.self, capacity: plan.count)
        let steps = plan.steps
        withExtendedLifetime((a, b)) {
            plan.run(context: context) { offsets, start, length in
                Op.run(pa + offsets[0], steps[0], pb + offsets[1], steps[1], output + start, length)
            }
        }
        return tensor
    }
}
