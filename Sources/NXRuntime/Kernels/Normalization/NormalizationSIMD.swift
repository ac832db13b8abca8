import NXIR

/// Vector building blocks of the normalization family: unaligned 16-float loads and stores
/// (inputs may be mapped weights at any address), a vector exp, and the reductions of one
/// contiguous float row (sum, max, sum of squared deviations) with four independent
/// accumulators so the adds pipeline.
enum NormSIMD {
    typealias Vector = SIMD16<Float>

    @_transparent
    static func load(_ base: UnsafeRawPointer, _ index: Int) -> Vector {
        base.loadUnaligned(fromByteOffset: index &* 4, as: Vector.self)
    }

    @_transparent
    static func store(_ value: Vector, _ base: UnsafeMutableRawPointer, _ index: Int) {
        base.storeBytes(of: value, toByteOffset: index &* 4, as: Vector.self)
    }

    @_transparent
    static func scalar(_ base: UnsafeRawPointer, _ index: Int) -> Float {
        base.loadUnaligned(fromByteOffset: index &* 4, as: Float.self)
    }

    /// Lanes `0..<count` (count < 16) from memory, the others `fill`.
    /// The sum of `count` vectors `stride` floats apart from `start`, in two add chains.
    @inline(__always)
    static func stridedSum(_ x: UnsafeRawPointer, start: Int, stride: Int, count: Int) -> Vector {
        var s0 = Vector(), s1 = Vector()
        var offset = start
        for _ in 0..<(count / 2) {
            s0 += load(x, offset)
            s1 += load(x, offset &+ stride)
            offset &+= 2 &* stride
        }
        if count % 2 == 1 { s0 += load(x, offset) }
        return s0 + s1
    }

    /// Over the same vectors, the sums of d = v - mean and of d²: a LayerNorm's corrected
    /// two-pass variance is E[d²] - E[d]².
    @inline(__always)
    static func stridedDeviations(
        _ x: UnsafeRawPointer, start: Int, stride: Int, count: Int, mean m: Vector
    ) -> (deviations: Vector, squares: Vector) {
        var c0 = Vector(), c1 = Vector(), v0 = Vector(), v1 = Vector()
        var offset = start
        for _ in 0..<(count / 2) {
            let d0 = load(x, offset) - m, d1 = load(x, offset &+ stride) - m
            c0 += d0
            c1 += d1
            v0 += d0 * d0
            v1 += d1 * d1
            offset &+= 2 &* stride
        }
        if count % 2 == 1 {
            let d = load(x, offset) - m
            c0 += d
            v0 += d * d
        }
        return (c0 + c1, v0 + v1)
    }

    @inline(__always)
    static func loadPartial(_ base: UnsafeRawPointer, _ index: Int, count: Int, fill: Float) -> Vector {
        var value = Vector(repeating: fill)
        for lane in 0..<count { value[lane] = scalar(base, index &+ lane) }
        return value
    }

    @inline(__always)
    static func storePartial(_ value: Vector, _ base: UnsafeMutableRawPointer, _ index: Int, count: Int) {
        for lane in 0..<count { base.storeBytes(of: value[lane], toByteOffset: (index &+ lane) &* 4, as: Float.self) }
    }

    /// The last `remaining` (< 16) elements of a row of `count` floats, for reductions: when
    /// the row has 16 or more, one full load of its last 16 elements with the lanes already
    /// counted set to `fill` (lanes 16 - remaining ..< 16 hold the tail); else a partial load.
    /// Lane order does not matter to a sum or a max.
    @inline(__always)
    static func tail(_ base: UnsafeRawPointer, count: Int, remaining: Int, fill: Float) -> Vector {
        if count >= 16 {
            return load(base, count &- 16).replacing(with: fill, where: firstLanes(16 &- remaining))
        }
        return loadPartial(base, count &- remaining, count: remaining, fill: fill)
    }

    /// Mask of lanes 0 ..< n. (Compared vector to vector: comparing with a scalar compiles to
    /// a lane-by-lane loop.)
    @_transparent
    static func firstLanes(_ n: Int) -> SIMDMask<SIMD16<Int32>> {
        let lanes = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
        return lanes .< SIMD16<Int32>(repeating: Int32(truncatingIfNeeded: n))
    }

    // Swift's generic SIMD helpers (pointwiseMax, clamped, max(), squareRoot()) compile to
    // lane-by-lane loops with NaN checks; comparisons with `replacing` and arithmetic do not.
    // The small helpers are @_transparent: @inline(__always) left some of them as calls, and
    // a SIMD16 crosses a call as four xmm registers.

    /// Lane-wise maximum (b where a < b).
    @_transparent
    static func vmax(_ a: Vector, _ b: Vector) -> Vector { a.replacing(with: b, where: a .< b) }

    /// Lane-wise minimum (b where b < a).
    @_transparent
    static func vmin(_ a: Vector, _ b: Vector) -> Vector { a.replacing(with: b, where: b .< a) }

    /// Largest lane: two shuffled vector maxima, then scalars (SIMD8/SIMD4 masks compile
    /// badly; lane-permuting initializers become shuffles).
    @_transparent
    static func horizontalMax(_ v: Vector) -> Float {
        let s = Vector(v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15], v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7])
        let a = vmax(v, s)
        let t = Vector(a[4], a[5], a[6], a[7], a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[0], a[1], a[2], a[3])
        let b = vmax(a, t)
        let c = b[0] < b[1] ? b[1] : b[0], d = b[2] < b[3] ? b[3] : b[2]
        return c < d ? d : c
    }

    /// Sum of the lanes by halving (`SIMD.sum()` adds the 16 lanes one after the other, a
    /// dependency chain that costs more than the whole row for short rows).
    @_transparent
    static func horizontalSum(_ v: Vector) -> Float {
        let a = v.lowHalf + v.highHalf
        let b = a.lowHalf + a.highHalf
        let c = b.lowHalf + b.highHalf
        return c[0] + c[1]
    }

    /// 1 / sqrt(v) lane by lane with the scalar square root instruction.
    @inline(__always)
    static func inverseSquareRoot(_ v: Vector) -> Vector {
        var result = Vector()
        for lane in 0..<16 { result[lane] = 1 / v[lane].squareRoot() }
        return result
    }

    /// e^x to about 2 ulp (Cephes' expf polynomial). Inputs are clamped to the range where
    /// the result is a normal float, so very negative inputs give ~1e-38 rather than 0 and
    /// very large ones ~3e38 rather than infinity: softmax only feeds values <= 0 here.
    @_transparent  // must inline: as a call, SIMD16 crosses the ABI as four xmm registers
    static func exp(_ input: Vector) -> Vector {
        let x = vmin(vmax(input, Vector(repeating: -87.33654)), Vector(repeating: 88.37626))
        // Round x / ln 2 to the nearest integer with the 1.5 * 2^23 trick: the integer lands
        // in the low mantissa bits of `shifted`, so no float-to-int conversion is needed.
        let magic = Vector(repeating: 12_582_912)
        let shifted = x * 1.442_695_04 + magic
        let n = shifted - magic
        let r = x - n * 0.693_359_375 - n * -2.121_944_4e-4
        var p = Vector(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        let e = p * (r * r) + r + 1
        let integer = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000
        let twoToN = unsafeBitCast((integer &+ 127) &<< 23, to: Vector.self)
        return e * twoToN
    }

    /// Sum of `count` floats from `base`.
    static func sum(_ base: UnsafeRawPointer, count: Int) -> Float {
        var a0 = Vector(), a1 = Vector(), a2 = Vector(), a3 = Vector()
        var i = 0
        while i &+ 64 <= count {
            a0 += load(base, i)
            a1 += load(base, i &+ 16)
            a2 += load(base, i &+ 32)
            a3 += load(base, i &+ 48)
            i &+= 64
        }
        while i &+ 16 <= count {
            a0 += load(base, i)
            i &+= 16
        }
        if i < count { a1 += tail(base, count: count, remaining: count &- i, fill: 0) }
        return horizontalSum((a0 + a1) + (a2 + a3))
    }

    /// Sums of d = x - mean and of d^2 over `count` floats: the second pass of a two-pass
    /// variance, which stays accurate when the mean is large next to the spread. The sum of
    /// d corrects the rounding error of the first pass's mean.
    static func deviationSums(_ base: UnsafeRawPointer, count: Int, mean: Float) -> (sum: Float, squares: Float) {
        let m = Vector(repeating: mean)
        var d0 = Vector(), d1 = Vector(), q0 = Vector(), q1 = Vector()
        var i = 0
        while i &+ 32 <= count {
            let a = load(base, i) - m, b = load(base, i &+ 16) - m
            d0 += a
            d1 += b
            q0 += a * a
            q1 += b * b
            i &+= 32
        }
        while i &+ 16 <= count {
            let a = load(base, i) - m
            d0 += a
            q0 += a * a
            i &+= 16
        }
        if i < count {
            let b = tail(base, count: count, remaining: count &- i, fill: mean) - m
            d1 += b
            q1 += b * b
        }
        return (horizontalSum(d0 + d1), horizontalSum(q0 + q1))
    }

    /// Mean and 1 / sqrt(variance + epsilon) of a contiguous row by the corrected two-pass
    /// algorithm (the row is in cache for the second pass at the sizes that matter). The
    /// mean comes as a float `rough` plus a small `correction`: x - rough is exact when x is
    /// near the mean, so computing (x - rough) - correction keeps the deviations' digits even
    /// when the mean is large next to the spread (a single float mean is off by up to half
    /// an ulp of itself, which is 1e-3 of the spread for 1e4 + noise of unit size).
    static func statistics(_ base: UnsafeRawPointer, count: Int, epsilon: Float) -> RowStatistics {
        let n = Float(count)
        let rough = sum(base, count: count) / n
        let deviations = deviationSums(base, count: count, mean: rough)
        let correction = deviations.sum / n
        let variance = max(0, deviations.squares / n - correction * correction)
        return RowStatistics(rough: rough, correction: correction, inverseDeviation: 1 / (variance + epsilon).squareRoot())
    }

    /// A row's mean as rough + correction, and 1 / sqrt(variance + epsilon).
    struct RowStatistics {
        let rough: Float
        let correction: Float
        let inverseDeviation: Float
        var mean: Float { rough + correction }
    }

    /// Largest of `count` (> 0) floats.
    static func maximum(_ base: UnsafeRawPointer, count: Int) -> Float {
        let lowest = Vector(repeating: -.infinity)
        var a0 = lowest, a1 = lowest, a2 = lowest, a3 = lowest
        var i = 0
        while i &+ 64 <= count {
            a0 = vmax(a0, load(base, i))
            a1 = vmax(a1, load(base, i &+ 16))
            a2 = vmax(a2, load(base, i &+ 32))
            a3 = vmax(a3, load(base, i &+ 48))
            i &+= 64
        }
        while i &+ 16 <= count {
            a0 = vmax(a0, load(base, i))
            i &+= 16
        }
        if i < count { a1 = vmax(a1, tail(base, count: count, remaining: count &- i, fill: -.infinity)) }
        return horizontalMax(vmax(vmax(a0, a1), vmax(a2, a3)))
    }

    /// y = ((x - center) - centerCorrection) * scale + shift over a row (batch and instance
    /// normalization planes); subtracting the center first keeps precision when it is large
    /// next to the spread (see `statistics`).
    static func affine(
        _ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, count: Int, center: Float, centerCorrection: Float = 0,
        scale: Float, shift: Float
    ) {
        let c = Vector(repeating: center), l = Vector(repeating: centerCorrection)
        let a = Vector(repeating: scale), b = Vector(repeating: shift)
        var i = 0
        while i &+ 16 <= count {
            store((load(x, i) - c - l) * a + b, y, i)
            i &+= 16
        }
        if i < count {
            // Recompute the last 16 (rewriting some with the same values) rather than a partial vector.
            if count >= 16 {
                store((load(x, count &- 16) - c - l) * a + b, y, count &- 16)
            } else {
                storePartial((loadPartial(x, i, count: count &- i, fill: 0) - c - l) * a + b, y, i, count: count &- i)
            }
        }
    }
}

/// A float parameter (scale, bias, mean, variance) copied out of its tensor, so it can be
/// read aligned and, when the tensor is an initializer, packed once at load.
struct FloatParameter: Sendable {
    let values: [Float]
    let shape: [Int]

    init(_ tensor: Tensor, name: String) throws {
        guard tensor.dataType == .float32 else {
            throw KernelError("\(name) must be float32, is \(tensor.dataType)")
        }
        if let problem = tensor.sizeProblem { throw KernelError("\(name): \(problem)") }
        values = try tensor.scalars(as: Float.self)
        shape = tensor.shape
    }

    /// The values laid out densely over `target`, broadcasting the parameter numpy-style
    /// onto it; throws when the parameter does not broadcast onto `target` alone.
    func dense(over target: [Int], name: String, role: String) throws -> [Float] {
        // Extra leading dimensions would make the parameter vary per row: only 1s may be there.
        let extra = max(0, shape.count - target.count)
        let trimmed = Array(shape.dropFirst(extra))
        guard !shape.prefix(extra).contains(where: { $0 != 1 }),
            let joined = Broadcasting.shape([trimmed, target]), joined == target
        else {
            throw KernelError("\(name) has shape \(shape), which does not broadcast to the \(role) \(target)")
        }
        let count = NXIR.elementCount(target)
        if values.count == count { return values }
        let strides = Broadcasting.broadcastStrides(trimmed, to: target)
        let targetStrides = Broadcasting.strides(target)
        return (0..<count).map { flat in
            var offset = 0
            for d in target.indices { offset += (flat / targetStrides[d]) % target[d] * strides[d] }
            return values[offset]
        }
    }
}

/// Product of a shape's dimensions (1 for an empty slice).
@inline(__always)
func normProduct(_ dims: ArraySlice<Int>) -> Int { dims.reduce(1, *) }
