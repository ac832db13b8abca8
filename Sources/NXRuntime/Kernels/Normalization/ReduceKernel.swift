import NXIR

/// ONNX ReduceSum, ReduceMean and ReduceMax over float32, int32, int64 (and bool for
/// ReduceMax, opset 20). Axes come from the `axes` attribute before the op's switch opset
/// (13 for ReduceSum, 18 for the others) and from the optional second input after; empty or
/// absent axes reduce every axis, or, with `noop_with_empty_axes = 1`, return the input as
/// is. Negative axes count from the end; `keepdims` keeps reduced axes as size 1. Reducing
/// an empty set gives 0 (sum), NaN (float mean; 0 for integers) or the lowest value (max),
/// as ONNX's reference does.
///
/// Axes are first simplified: size-1 dimensions dropped and neighbouring dimensions of the
/// same kind (reduced or kept) merged. Each step then reduces the last reduced group, seen as
/// [outer, length, inner]: inner = 1 is a contiguous row per output (vector reduction along
/// it), inner > 1 accumulates whole rows of `inner` outputs (vectors across them).
struct ReduceKernel: Kernel {
    /// Which reduction: ReduceSum, ReduceMean or ReduceMax.
    enum Operation: Sendable { case sum, mean, max }

    let operation: Operation
    let keepdims: Bool
    let noopWithEmptyAxes: Bool
    /// Axes known at load (attribute, constant input, or no axes input); nil: read at run.
    let fixedAxes: [Int]?

    init(_ context: KernelBuildContext, operation: Operation, axesInputFrom: Int) throws {
        self.operation = operation
        keepdims = try context.int("keepdims", default: 1) != 0
        if context.opset >= axesInputFrom {
            noopWithEmptyAxes = try context.int("noop_with_empty_axes", default: 0) != 0
            if !context.hasInput(1) {
                fixedAxes = []
            } else if let constant = context.constantInput(1) {
                fixedAxes = try Self.axes(from: constant)
            } else {
                fixedAxes = nil
            }
        } else {
            noopWithEmptyAxes = false
            fixedAxes = try context.ints("axes") ?? []
        }
    }

    static func axes(from tensor: Tensor) throws -> [Int] {
        guard tensor.dataType == .int64 || tensor.dataType == .int32 else {
            throw KernelError("axes must be int64, is \(tensor.dataType)")
        }
        guard tensor.rank <= 1 else { throw KernelError("axes must be 1-D, has shape \(tensor.shape)") }
        return try tensor.intValues()
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        guard let x = inputs.first ?? nil else { throw KernelError("input data is missing") }
        let supported: [DataType] = operation == .max ? [.float32, .int32, .int64, .bool] : [.float32, .int32, .int64]
        guard supported.contains(x.dataType) else {
            throw KernelError("data must be one of \(supported.map(\.description).joined(separator: ", ")), is \(x.dataType)")
        }
        var axes: [Int]
        if let fixedAxes {
            axes = fixedAxes
        } else {
            axes = try (inputs.count > 1 ? inputs[1] : nil).map(Self.axes(from:)) ?? []
        }
        if axes.isEmpty {
            if noopWithEmptyAxes { return [x] }
            axes = Array(0..<x.rank)
        }
        let rank = x.rank
        var reduced = [Bool](repeating: false, count: rank)
        for axis in axes {
            let resolved = try normalizedAxis(axis, rank: rank, name: "axes entry")
            if rank == 0 { continue }
            guard !reduced[resolved] else { throw KernelError("axis \(axis) appears twice in axes \(axes) for rank \(rank)") }
            reduced[resolved] = true
        }
        if rank == 0 { return [x] }

        let outputShape = keepdims
            ? x.shape.indices.map { reduced[$0] ? 1 : x.shape[$0] }
            : x.shape.indices.filter { !reduced[$0] }.map { x.shape[$0] }
        let reducedCount = x.shape.indices.filter { reduced[$0] }.reduce(1) { $0 * x.shape[$1] }
        // Size-1 dimensions change nothing; merge runs of the same kind.
        var groups: [(size: Int, reduced: Bool)] = []
        for (size, isReduced) in zip(x.shape, reduced) where size != 1 {
            if let last = groups.last, last.reduced == isReduced {
                groups[groups.count - 1].size *= size
            } else {
                groups.append((size, isReduced))
            }
        }

        let (output, outputData) = context.allocate(x.dataType, outputShape)
        let outputCount = NXIR.elementCount(outputShape)
        switch x.dataType {
        case .float32:
            reduce(FloatReduction.self, x, groups: groups, reducedCount: reducedCount, outputCount: outputCount, output: outputData, context: context)
        case .int32:
            reduce(Int32Reduction.self, x, groups: groups, reducedCount: reducedCount, outputCount: outputCount, output: outputData, context: context)
        case .int64:
            reduce(Int64Reduction.self, x, groups: groups, reducedCount: reducedCount, outputCount: outputCount, output: outputData, context: context)
        default:  // bool, ReduceMax only
            reduce(BoolReduction.self, x, groups: groups, reducedCount: reducedCount, outputCount: outputCount, output: outputData, context: context)
        }
        return [output]
    }

    private func reduce<R: ReductionElement>(
        _: R.Type, _ x: Tensor, groups: [(size: Int, reduced: Bool)], reducedCount: Int, outputCount: Int,
        output: UnsafeMutableRawPointer, context: ExecutionContext
    ) {
        guard outputCount > 0 else { return }
        let destination = output.assumingMemoryBound(to: R.Scalar.self)
        if x.elementCount == 0 {
            // A reduced axis is empty: every output is the reduction of an empty set.
            let value: R.Scalar = switch operation {
            case .sum: R.zero
            case .mean: R.mean(sum: R.zero, count: 0)
            case .max: R.lowest
            }
            destination.initialize(repeating: value, count: outputCount)
            return
        }
        let source = x.storage.bytes.baseAddress!
        guard groups.contains(where: \.reduced) else {
            // Only size-1 axes are reduced: the values are unchanged.
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: x.elementCount * MemoryLayout<R.Scalar>.stride)
            return
        }
        var groups = groups
        var current = source
        var temporaries: [Tensor] = []  // keeps intermediate buffers alive until the end
        let maximum = operation == .max
        while let index = groups.lastIndex(where: \.reduced) {
            let outer = groups[..<index].reduce(1) { $0 * $1.size }
            let length = groups[index].size
            let inner = groups[(index + 1)...].reduce(1) { $0 * $1.size }
            var next = Array(groups[..<index])
            if let last = next.last, !last.reduced {
                next[next.count - 1].size *= inner
            } else if inner > 1 {
                next.append((inner, false))
            }
            let target: UnsafeMutablePointer<R.Scalar>
            if next.contains(where: \.reduced) {
                let (tensor, data) = context.allocate(x.dataType, [outer * inner])
                temporaries.append(tensor)
                target = data.assumingMemoryBound(to: R.Scalar.self)
            } else {
                target = destination
            }
            R.reduceStep(current, target, outer: outer, length: length, inner: inner, maximum: maximum, context: context)
            current = UnsafeRawPointer(target)
            groups = next
        }
        if operation == .mean {
            for i in 0..<outputCount { destination[i] = R.mean(sum: destination[i], count: reducedCount) }
        }
        withExtendedLifetime(temporaries) {}
    }

    func flops(inputs: [Tensor?], outputs: [Tensor]) -> Int { inputs.first??.elementCount ?? 0 }
}

/// How one element type is reduced: identities, the combining ops, and the step kernel
/// (a scalar default; Float overrides it with vector code). Booleans are bytes 0/1 whose
/// max is a logical or.
protocol ReductionElement {
    associatedtype Scalar: BitwiseCopyable & Comparable
    static var zero: Scalar { get }
    static var lowest: Scalar { get }
    static func plus(_ a: Scalar, _ b: Scalar) -> Scalar
    static func mean(sum: Scalar, count: Int) -> Scalar
    static func reduceStep(
        _ source: UnsafeRawPointer, _ target: UnsafeMutablePointer<Scalar>, outer: Int, length: Int, inner: Int, maximum: Bool,
        context: ExecutionContext)
}

extension ReductionElement {
    /// Scalar step: target[o, j] = reduce over r of source[o, r, j].
    static func reduceStep(
        _ source: UnsafeRawPointer, _ target: UnsafeMutablePointer<Scalar>, outer: Int, length: Int, inner: Int, maximum: Bool,
        context: ExecutionContext
    ) {
        let stride = MemoryLayout<Scalar>.stride
        context.parallelFor(outer, grain: max(1, 16_384 / max(length * inner, 1))) { range in
            for o in range {
                let base = o * length * inner
                for j in 0..<inner {
                    var accumulator = source.loadUnaligned(fromByteOffset: (base + j) * stride, as: Scalar.self)
                    for r in 1..<length {
                        let value = source.loadUnaligned(fromByteOffset: (base + r * inner + j) * stride, as: Scalar.self)
                        accumulator = maximum ? Swift.max(accumulator, value) : plus(accumulator, value)
                    }
                    target[o * inner + j] = accumulator
                }
            }
        }
    }
}

/// int32: wrapping sums, means truncated toward zero (as numpy casts them), min as lowest.
enum Int32Reduction: ReductionElement {
    static var zero: Int32 { 0 }
    static var lowest: Int32 { .min }
    static func plus(_ a: Int32, _ b: Int32) -> Int32 { a &+ b }
    static func mean(sum: Int32, count: Int) -> Int32 { count == 0 ? 0 : sum / Int32(truncatingIfNeeded: count) }
}

/// int64: wrapping sums, means truncated toward zero (as numpy casts them), min as lowest.
enum Int64Reduction: ReductionElement {
    static var zero: Int64 { 0 }
    static var lowest: Int64 { .min }
    static func plus(_ a: Int64, _ b: Int64) -> Int64 { a &+ b }
    static func mean(sum: Int64, count: Int) -> Int64 { count == 0 ? 0 : sum / Int64(count) }
}

/// bool as bytes 0/1: max is a logical or, false the lowest.
enum BoolReduction: ReductionElement {
    static var zero: UInt8 { 0 }
    static var lowest: UInt8 { 0 }
    static func plus(_ a: UInt8, _ b: UInt8) -> UInt8 { a | b }
    static func mean(sum: UInt8, count: Int) -> UInt8 { sum }
}

/// float32: -infinity the lowest, mean of nothing NaN, vector steps.
enum FloatReduction: ReductionElement {
    static var zero: Float { 0 }
    static var lowest: Float { -.infinity }
    static func plus(_ a: Float, _ b: Float) -> Float { a + b }
    static func mean(sum: Float, count: Int) -> Float { sum / Float(count) }

    /// Vector step: rows reduced along their length, or runs of 256 outputs accumulated
    /// row by row (the run stays in L1 while the rows stream past).
    static func reduceStep(
        _ source: UnsafeRawPointer, _ target: UnsafeMutablePointer<Float>, outer: Int, length: Int, inner: Int, maximum: Bool,
        context: ExecutionContext
    ) {
        if inner == 1 {
            context.parallelFor(outer, grain: max(1, 16_384 / length)) { range in
                for o in range {
                    let row = source + o * length * 4
                    target[o] = maximum ? NormSIMD.maximum(row, count: length) : NormSIMD.sum(row, count: length)
                }
            }
            return
        }
        let runWidth = 256
        let runs = (inner + runWidth - 1) / runWidth
        let output = UnsafeMutableRawPointer(target)
        context.parallelFor(outer * runs, grain: max(1, 16_384 / (runWidth * length))) { range in
            for item in range {
                let (o, run) = item.quotientAndRemainder(dividingBy: runs)
                let first = run * runWidth
                let width = min(runWidth, inner - first)
                let out = output + (o * inner + first) * 4
                let base = source + (o * length * inner + first) * 4
                out.copyMemory(from: base, byteCount: width * 4)
                for r in 1..<length {
                    let row = base + r * inner * 4
                    var j = 0
                    while j + 16 <= width {
                        let a = NormSIMD.load(out, j), b = NormSIMD.load(row, j)
                        NormSIMD.store(maximum ? NormSIMD.vmax(a, b) : a + b, out, j)
                        j += 16
                    }
                    let typed = out.assumingMemoryBound(to: Float.self)
                    while j < width {
                        let b = NormSIMD.scalar(row, j)
                        typed[j] = maximum ? Swift.max(typed[j], b) : typed[j] + b
                        j += 1
                    }
                }
            }
        }
    }
}
