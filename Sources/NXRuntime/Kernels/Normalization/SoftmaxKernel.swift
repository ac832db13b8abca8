import Foundation
import NXIR

/// ONNX Softmax and LogSoftmax, float32. From opset 13 they work along the single axis
/// `axis` (default -1); before 13 the input is read as a 2-D matrix [prod(dims before axis),
/// prod(dims from axis)] (default axis 1) and each row of that is normalized. Both subtract the
/// row maximum first, so large inputs do not overflow.
///
/// A contiguous row (the last axis, or any pre-13 coercion) is reduced with vectors along the
/// row; an inner axis is handled 16 columns at a time, the lanes of a vector holding 16
/// independent softmaxes that walk down the axis together.
struct SoftmaxKernel: Kernel {
    let axis: Int
    let coercesTo2D: Bool
    let logarithmic: Bool

    init(_ context: KernelBuildContext, logarithmic: Bool) throws {
        coercesTo2D = context.opset < 13
        axis = try context.int("axis", default: coercesTo2D ? 1 : -1)
        self.logarithmic = logarithmic
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        guard let x = inputs.first ?? nil else { throw KernelError("input is missing") }
        guard x.dataType == .float32 else { throw KernelError("input must be float32, is \(x.dataType)") }
        let a = try normalizedAxis(axis, rank: x.rank)
        let outer = normProduct(x.shape[..<min(a, x.rank)])
        let length: Int, inner: Int
        if coercesTo2D || x.rank == 0 {
            (length, inner) = (normProduct(x.shape[min(a, x.rank)...]), 1)
        } else {
            (length, inner) = (x.shape[a], normProduct(x.shape[(a + 1)...]))
        }
        let (y, yData) = context.allocateFloats(x.shape)
        guard x.elementCount > 0 else { return [y] }
        let xData = x.storage.bytes.baseAddress!
        let output = UnsafeMutableRawPointer(yData)
        let logarithmic = logarithmic
        if inner == 1 {
            context.parallelFor(outer, grain: max(1, 8192 / length)) { range in
                Self.rows(xData, output, rows: range, length: length, logarithmic: logarithmic)
            }
        } else {
            let strips = (inner + 15) / 16
            context.parallelFor(outer * strips, grain: max(1, 8192 / (16 * length))) { range in
                for item in range {
                    let (slab, strip) = item.quotientAndRemainder(dividingBy: strips)
                    let first = slab * length * inner + strip * 16
                    Self.columns(
                        xData, output, first: first, stride: inner, length: length, count: min(16, inner - strip * 16),
                        logarithmic: logarithmic)
                }
            }
        }
        return [y]
    }

    /// Softmax of contiguous rows, eight at a time phase by phase (maxima, then exp and sums,
    /// then outputs): each row's max -> sum -> 1/sum chain is serial, so interleaving
    /// independent rows keeps the pipeline busy for short rows.
    static func rows(_ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, rows: Range<Int>, length: Int, logarithmic: Bool) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { scratch in
            var first = rows.lowerBound
            while first < rows.upperBound {
                let count = min(8, rows.upperBound - first)
                for k in 0..<count {
                    scratch[k] = NormSIMD.maximum(x + (first + k) * length * 4, count: length)
                }
                for k in 0..<count {
                    let offset = (first + k) * length * 4
                    scratch[8 + k] = exponentialSum(x + offset, y + offset, count: length, maximum: scratch[k], store: !logarithmic)
                }
                for k in 0..<count {
                    let offset = (first + k) * length * 4
                    finish(x + offset, y + offset, count: length, maximum: scratch[k], sum: scratch[8 + k], logarithmic: logarithmic)
                }
                first += count
            }
        }
    }

    /// Sum of exp(x - maximum) over a row, storing the terms into y when `store`.
    @inline(__always)
    static func exponentialSum(_ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, count: Int, maximum: Float, store: Bool) -> Float {
        typealias V = NormSIMD.Vector
        let m = V(repeating: maximum)
        var s0 = V(), s1 = V()
        var i = 0
        while i + 32 <= count {
            let e0 = NormSIMD.exp(NormSIMD.load(x, i) - m), e1 = NormSIMD.exp(NormSIMD.load(x, i + 16) - m)
            if store {
                NormSIMD.store(e0, y, i)
                NormSIMD.store(e1, y, i + 16)
            }
            s0 += e0
            s1 += e1
            i += 32
        }
        if i + 16 <= count {
            let e = NormSIMD.exp(NormSIMD.load(x, i) - m)
            if store { NormSIMD.store(e, y, i) }
            s0 += e
            i += 16
        }
        if i < count {
            let remaining = count - i
            if count >= 16 {
                // The row's last 16 (rewriting some terms with the same values); only the
                // new lanes 16 - remaining ..< 16 count.
                let e = NormSIMD.exp(NormSIMD.load(x, count - 16) - m)
                if store { NormSIMD.store(e, y, count - 16) }
                s1 += e.replacing(with: 0, where: NormSIMD.firstLanes(16 - remaining))
            } else {
                let e = NormSIMD.exp(NormSIMD.loadPartial(x, i, count: remaining, fill: 0) - m)
                if store { NormSIMD.storePartial(e, y, i, count: remaining) }
                s1 += e.replacing(with: 0, where: .!NormSIMD.firstLanes(remaining))
            }
        }
        return NormSIMD.horizontalSum(s0 + s1)
    }

    /// Softmax: y *= 1 / sum. LogSoftmax: y = x - (maximum + log(sum)).
    @inline(__always)
    static func finish(_ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, count: Int, maximum: Float, sum: Float, logarithmic: Bool) {
        typealias V = NormSIMD.Vector
        var i = 0
        if logarithmic {
            let shift = V(repeating: maximum + Float(Foundation.log(Double(sum))))
            while i + 16 <= count {
                NormSIMD.store(NormSIMD.load(x, i) - shift, y, i)
                i += 16
            }
            if i < count {
                if count >= 16 {
                    NormSIMD.store(NormSIMD.load(x, count - 16) - shift, y, count - 16)
                } else {
                    NormSIMD.storePartial(NormSIMD.loadPartial(x, i, count: count - i, fill: 0) - shift, y, i, count: count - i)
                }
            }
        } else {
            let scale = V(repeating: 1 / sum)
            // Scaling is not idempotent: read the last (overlapping) 16 before scaling any.
            let last = count >= 16 && count % 16 != 0 ? NormSIMD.load(y, count - 16) : V()
            while i + 16 <= count {
                NormSIMD.store(NormSIMD.load(y, i) * scale, y, i)
                i += 16
            }
            if i < count {
                if count >= 16 {
                    NormSIMD.store(last * scale, y, count - 16)
                } else {
                    NormSIMD.storePartial(NormSIMD.loadPartial(y, i, count: count - i, fill: 0) * scale, y, i, count: count - i)
                }
            }
        }
    }

    /// `count` (<= 16) side-by-side softmaxes down an axis of `length` elements `stride` apart,
    /// starting at element `first`.
    static func columns(
        _ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, first: Int, stride: Int, length: Int, count: Int, logarithmic: Bool
    ) {
        typealias V = NormSIMD.Vector
        let full = count == 16
        @inline(__always) func load(_ base: UnsafeRawPointer, _ offset: Int) -> V {
            full ? NormSIMD.load(base, offset) : NormSIMD.loadPartial(base, offset, count: count, fill: 0)
        }
        @inline(__always) func store(_ value: V, _ offset: Int) {
            if full { NormSIMD.store(value, y, offset) } else { NormSIMD.storePartial(value, y, offset, count: count) }
        }
        var m = V(repeating: -.infinity)
        var offset = first
        for _ in 0..<length {
            m = NormSIMD.vmax(m, load(x, offset))
            offset += stride
        }
        var s = V()
        offset = first
        for _ in 0..<length {
            let e = NormSIMD.exp(load(x, offset) - m)
            if !logarithmic { store(e, offset) }
            s += e
            offset += stride
        }
        offset = first
        if logarithmic {
            var shift = m
            for lane in 0..<count { shift[lane] += Float(Foundation.log(Double(s[lane]))) }
            for _ in 0..<length {
                store(load(x, offset) - shift, offset)
                offset += stride
            }
        } else {
            let scale = 1 / s
            for _ in 0..<length {
                store(load(UnsafeRawPointer(y), offset) * scale, offset)
                offset += stride
            }
        }
    }

    func flops(inputs: [Tensor?], outputs: [Tensor]) -> Int { 12 * (inputs.first??.elementCount ?? 0) }
}
