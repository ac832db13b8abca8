/// Vectorized float32 transcendental functions (exp, erf, tanh, sigmoid, GELU) on 16 lanes,
/// accurate to about 1e-7 relative error (a couple of ulp), with NaN propagated and the
/// infinities handled. Shared by the element-wise kernels and the fused kernels (GELU in GEMM
/// epilogues), so a model computes the same values fused or not.
///
/// Why hand-written: Foundation's scalar `exp`/`erf` cost a function call per element and
/// never vectorize; these are plain arithmetic on `SIMD16<Float>` (one AVX-512 register, or
/// four SSE registers on baseline x86-64), with no rounding instructions or libm calls, so
/// they compile to straight vector code on any target. Polynomials step with `addingProduct`
/// (one fused multiply-add; Swift never contracts `p * r + c` by itself).
enum ElementwiseMath {
    typealias Vector = SIMD16<Float>
    typealias Bits = SIMD16<UInt32>

    // MARK: Bit helpers

    @inline(__always) static func bits(_ x: Vector) -> Bits { unsafeBitCast(x, to: Bits.self) }
    @inline(__always) static func float(_ b: Bits) -> Vector { unsafeBitCast(b, to: Vector.self) }

    /// |x|: clears the sign bit (keeps NaN a NaN).
    @inline(__always) static func abs(_ x: Vector) -> Vector { float(bits(x) & Bits(repeating: 0x7FFF_FFFF)) }

    /// `magnitude` with the sign bit of `sign`.
    @inline(__always) static func copySign(_ magnitude: Vector, _ sign: Vector) -> Vector {
        float((bits(magnitude) & Bits(repeating: 0x7FFF_FFFF)) | (bits(sign) & Bits(repeating: 0x8000_0000)))
    }

    /// Lanes above `limit` set to `limit`; NaN lanes stay NaN (a comparison with NaN is false).
    @inline(__always) static func capped(_ x: Vector, _ limit: Float) -> Vector {
        x.replacing(with: limit, where: x .> Vector(repeating: limit))
    }

    /// Lanes below `limit` set to `limit`; NaN lanes stay NaN.
    @inline(__always) static func floored(_ x: Vector, _ limit: Float) -> Vector {
        x.replacing(with: limit, where: x .< Vector(repeating: limit))
    }

    // MARK: exp

    /// e^x with at most ~1 ulp error: x = n·ln2 + r, |r| <= ln2/2, e^r by Cephes' degree-7
    /// polynomial, then scaled by 2^n in two halves so results down to the subnormals (and
    /// overflow to +inf) come out right without a branch.
    @inline(__always) static func exp(_ x: Vector) -> Vector {
        // Beyond these, e^x is +inf or 0 anyway; the clamp keeps n within [-150, 129].
        let v = floored(capped(x, 89), -104)
        // Round v·log2(e) to the nearest integer by adding 1.5·2^23: the integer then sits
        // in the low mantissa bits (no rounding instruction needed on SSE2).
        let magic = Vector(repeating: 12_582_912)  // 1.5 * 2^23
        let shifted = v * 1.442_695_04 + magic
        let nFloat = shifted - magic
        let n = unsafeBitCast(bits(shifted) &- Bits(repeating: 0x4B40_0000), to: SIMD16<Int32>.self)
        // r = v - n·ln2, with ln2 split in two so n·high is exact.
        var r = v - nFloat * 0.693_359_375
        r = r - nFloat * -2.121_944_4e-4
        let p = expReduced(r)
        // 2^n = 2^n1 · 2^n2 with both halves in the normal range.
        let n1 = n &>> 1
        let n2 = n &- n1
        let scale1 = float(unsafeBitCast((n1 &+ 127) &<< 23, to: Bits.self))
        let scale2 = float(unsafeBitCast((n2 &+ 127) &<< 23, to: Bits.self))
        return p * scale1 * scale2
    }

    /// e^r for |r| <= ln2/2: 1 + r + r²·P(r), Cephes' degree-5 P.
    @inline(__always) private static func expReduced(_ r: Vector) -> Vector {
        var p = Vector(repeating: 1.987_569_15e-4)
        p = Vector(repeating: 1.398_199_95e-3).addingProduct(p, r)
        p = Vector(repeating: 8.333_451_9e-3).addingProduct(p, r)
        p = Vector(repeating: 4.166_579_59e-2).addingProduct(p, r)
        p = Vector(repeating: 1.666_666_55e-1).addingProduct(p, r)
        p = Vector(repeating: 5.000_000_12e-1).addingProduct(p, r)
        return (r + 1).addingProduct(p, r * r)
    }

    // MARK: erf

    /// erf(x) to ~2e-7 relative error (1.5 ulp). |x| < 1: x·P(x²) (degree-6 minimax in x², so
    /// tiny x keep full relative accuracy). |x| >= 1: 1 - erfc(|x|) with the sign restored.
    @inline(__always) static func erf(_ x: Vector) -> Vector {
        let small = erfSmall(x)
        let isLarge = .!(abs(x) .< 1)  // NaN lanes take this branch, which propagates NaN
        if !any(isLarge) { return small }
        return small.replacing(with: copySign(1 - erfc(large: abs(x)), x), where: isLarge)
    }

    /// erf(x) for |x| < 1: x·P(x²), a degree-6 minimax in x², so tiny x keep full relative
    /// accuracy.
    @inline(__always) private static func erfSmall(_ x: Vector) -> Vector {
        let t = x * x
        var p = Vector(repeating: 7.853_867_282_392_457e-05)
        p = Vector(repeating: -0.000_801_019_545_178_860_4).addingProduct(p, t)
        p = Vector(repeating: 0.005_188_327_748_328_447).addingProduct(p, t)
        p = Vector(repeating: -0.026_853_812_858_462_334).addingProduct(p, t)
        p = Vector(repeating: 0.112_835_854_291_915_9).addingProduct(p, t)
        p = Vector(repeating: -0.376_126_259_565_353_4).addingProduct(p, t)
        p = Vector(repeating: 1.128_379_106_521_606_4).addingProduct(p, t)
        return x * p
    }

    /// erf(u) on [-4, 4] (beyond, ±1) as the odd rational z·P(z²)/Q(z²), fitted by
    /// Converters/python/fit_gelu.py to within a few float32 ulps: one division and 12
    /// multiply-adds, against erf's short polynomial plus the exp-based erfc for |u| >= 1.
    /// GELU uses it where 1 + erf does not cancel much (u >= -1.75), which is most vectors of
    /// real activations: 0.75 against 1.28 ns an element for N(0, 1) inputs.
    @inline(__always) private static func erfRational(_ u: Vector) -> Vector {
        // (Masked replacement, not pointwiseMin/Max, which Swift runs lane by lane.)
        let z = u.replacing(with: 4, where: u .> 4).replacing(with: -4, where: u .< -4)
        let w = z * z
        var numerator = Vector(repeating: -1.366_450_419_482_134_7e-08)
        numerator = Vector(repeating: 4.780_050_403_496_716e-06).addingProduct(numerator, w)
        numerator = Vector(repeating: 0.000_382_677_651_941_776_3).addingProduct(numerator, w)
        numerator = Vector(repeating: 0.003_839_633_893_221_616_7).addingProduct(numerator, w)
        numerator = Vector(repeating: 0.054_332_692_176_103_59).addingProduct(numerator, w)
        numerator = Vector(repeating: 0.184_714_153_409_004_2).addingProduct(numerator, w)
        numerator = Vector(repeating: 1.128_379_225_730_896).addingProduct(numerator, w)
        var denominator = Vector(repeating: 6.400_468_555_511_907e-05)
        denominator = Vector(repeating: 0.001_309_581_217_356_026_2).addingProduct(denominator, w)
        denominator = Vector(repeating: 0.015_453_671_105_206_013).addingProduct(denominator, w)
        denominator = Vector(repeating: 0.113_827_519_118_785_86).addingProduct(denominator, w)
        denominator = Vector(repeating: 0.497_032_195_329_666_14).addingProduct(denominator, w)
        denominator = Vector(repeating: 1).addingProduct(denominator, w)
        let ratio = z * numerator / denominator
        return ratio.replacing(with: 1, where: ratio .> 1).replacing(with: -1, where: ratio .< -1)
    }

    /// erfc(a) for a >= 1 as e^(-a²)·Q(t), t = 1/(1 + a/2), Q a degree-7 fit of erfcx on
    /// [1, 9.5] (relative error 5e-8, plus the rounding of a² for large a). a is capped at
    /// 9.5, beyond which erfc underflows float32.
    @inline(__always) private static func erfc(large a: Vector) -> Vector {
        let b = capped(a, 9.5)
        let u = 1 / (b * 0.5 + 1)
        var q = Vector(repeating: 0.076_551_042_497_158_05)
        q = Vector(repeating: -0.335_237_085_819_244_4).addingProduct(q, u)
        q = Vector(repeating: 0.380_931_764_841_079_7).addingProduct(q, u)
        q = Vector(repeating: 0.030_198_620_632_290_84).addingProduct(q, u)
        q = Vector(repeating: 0.289_750_635_623_931_9).addingProduct(q, u)
        q = Vector(repeating: 0.274_586_051_702_499_4).addingProduct(q, u)
        q = Vector(repeating: 0.282_816_201_448_440_55).addingProduct(q, u)
        q = Vector(repeating: -2.925_995_431_724_004_4e-05).addingProduct(q, u)
        return exp(-(b * b)) * q
    }

    // MARK: tanh

    /// tanh(x) to ~2e-7 relative error. |x| < 0.625: x + x³·P(x²) (degree-5 minimax);
    /// otherwise 1 - 2/(e^(2|x|) + 1) with the sign restored; |x| is capped at 9.5, where
    /// tanh is 1 in float32.
    @inline(__always) static func tanh(_ x: Vector) -> Vector {
        let a = abs(x)
        let t = x * x
        var p = Vector(repeating: 0.002_142_974_175_512_790_7)
        p = Vector(repeating: -0.008_177_413_605_153_56).addingProduct(p, t)
        p = Vector(repeating: 0.021_700_710_058_212_28).addingProduct(p, t)
        p = Vector(repeating: -0.053_946_763_277_053_83).addingProduct(p, t)
        p = Vector(repeating: 0.133_332_058_787_345_9).addingProduct(p, t)
        p = Vector(repeating: -0.333_333_313_465_118_4).addingProduct(p, t)
        let small = x + x * t * p
        let isLarge = .!(a .< 0.625)
        if !any(isLarge) { return small }
        let e = exp(capped(a, 9.5) * 2)
        let large = copySign(1 - 2 / (e + 1), x)
        return small.replacing(with: large, where: isLarge)
    }

    // MARK: sigmoid and GELU

    /// 1/(1 + e^-x), computed from e = e^-|x| so neither side loses relative accuracy:
    /// x >= 0 gives 1/(1+e), x < 0 gives e/(1+e).
    @inline(__always) static func sigmoid(_ x: Vector) -> Vector {
        let e = exp(-abs(x))
        let r = 1 / (e + 1)
        return (e * r).replacing(with: r, where: x .>= 0)
    }

    /// Exact GELU, x·Φ(x) with Φ the normal CDF, to about 1.5e-7 absolute (relative for
    /// |GELU| > 1) and 1.5e-5 relative in the negative tail down to x = -12.7, below which
    /// it is -0 (the true value is below 1e-36 there).
    ///
    /// It runs in the epilogue of ConvNeXt's largest GEMMs, so it is built for speed. Lanes
    /// with |x| < √2 use erf's small-argument polynomial (a vector of only those skips the
    /// rest). The others use one branch-free path: e = erfc(a)/2, a = |x|/√2, as
    /// t·exp(P(t) - a²) with t = 1/(1 + a/2) and P a degree-9 fit of
    /// log(erfc(a)/t) + a² - log 2 on a in [0, 9.2] (Converters/python/fit_gelu.py), then
    /// Φ = e for x < 0 and 1 - e otherwise, so neither side cancels. exp needs no range
    /// handling there (its argument lies in [-83, -0.69]), and a is capped where e would
    /// turn subnormal (a microcode assist costing ~150 cycles a vector). In cache, 0.7 ns an
    /// element on wide inputs against 0.86 for 1 + erf(x/√2) (and 9.6 once subnormals
    /// appeared), 0.2 on narrow ones.
    /// Exact GELU, x·Φ(x) = x/2·(1 + erf(x/√2)), in three tiers by what a vector's lanes
    /// need: erf's short polynomial when every |u| < 1; a rational erf when every u >= -1.75;
    /// otherwise the exp-based erfc path, which keeps relative accuracy in the negative tail
    /// where 1 + erf cancels, for the lanes that need it.
    @inline(__always) static func gelu(_ x: Vector) -> Vector {
        let u = x * 0.707_106_781_186_547_5
        // 1 + erf(u) cannot cancel for |u| < 1.
        let isSmall = abs(u) .< 1
        if all(isSmall) { return x * 0.5 * (1 + erfSmall(u)) }
        if all(u .>= -1.75) { return x * 0.5 * (1 + erfRational(u)) }
        let short = x * 0.5 * (1 + erfSmall(u))
        let isShort = isSmall
        // Beyond |x| = 12.7, e would be subnormal: a is capped, the negative side flushed.
        let a = abs(u).replacing(with: 8.98, where: abs(x) .> 12.7)
        let t = 1 / Vector(repeating: 1).addingProduct(a, 0.5)
        var p = Vector(repeating: 0.135_363_474_488_258_36)
        p = Vector(repeating: -0.628_398_180_007_934_6).addingProduct(p, t)
        p = Vector(repeating: 1.032_538_771_629_333_5).addingProduct(p, t)
        p = Vector(repeating: -0.529_805_958_271_026_6).addingProduct(p, t)
        p = Vector(repeating: -0.218_948_915_600_776_67).addingProduct(p, t)
        p = Vector(repeating: 0.075_504_690_408_706_67).addingProduct(p, t)
        p = Vector(repeating: 0.009_148_636_832_833_29).addingProduct(p, t)
        p = Vector(repeating: 0.392_012_864_351_272_6).addingProduct(p, t)
        p = Vector(repeating: 0.998_001_277_446_746_8).addingProduct(p, t)
        p = Vector(repeating: -1.958_563_804_626_464_8).addingProduct(p, t)
        let e = t * expNonPositive(p.addingProduct(-a, a))
        let phi = (1 - e).replacing(with: e, where: x .< 0)
        return (x * phi).replacing(with: -0.0, where: x .< -12.7).replacing(with: short, where: isShort)
    }

    /// e^v for v in [-87, 0] (a normal result), without exp's clamps and two-step scaling.
    @inline(__always) private static func expNonPositive(_ v: Vector) -> Vector {
        let magic = Vector(repeating: 12_582_912)  // 1.5 * 2^23: see `exp`
        let shifted = magic.addingProduct(v, 1.442_695_04)
        let nFloat = shifted - magic
        let n = unsafeBitCast(bits(shifted) &- Bits(repeating: 0x4B40_0000), to: SIMD16<Int32>.self)
        var r = v.addingProduct(nFloat, -0.693_359_375)
        r = r.addingProduct(nFloat, 2.121_944_4e-4)
        return expReduced(r) * float(unsafeBitCast((n &+ 127) &<< 23, to: Bits.self))
    }

    /// GELU's tanh approximation, x/2 · (1 + tanh(y)) with y = √(2/π)·(x + 0.044715·x³),
    /// evaluated as x · sigmoid(2y) (the same function): cheaper, and no cancellation in
    /// the negative tail.
    @inline(__always) static func geluTanh(_ x: Vector) -> Vector {
        let inner = (x + x * x * x * 0.044_715) * (2 * 0.797_884_560_802_865_4)
        return x * sigmoid(inner)
    }

    // MARK: Scalar forms (same arithmetic as the vector lanes)

    static func exp(_ x: Float) -> Float { exp(Vector(repeating: x))[0] }
    static func erf(_ x: Float) -> Float { erf(Vector(repeating: x))[0] }
    static func tanh(_ x: Float) -> Float { tanh(Vector(repeating: x))[0] }
    static func sigmoid(_ x: Float) -> Float { sigmoid(Vector(repeating: x))[0] }
    static func gelu(_ x: Float) -> Float { gelu(Vector(repeating: x))[0] }
    static func geluTanh(_ x: Float) -> Float { geluTanh(Vector(repeating: x))[0] }

    // MARK: Array map

    /// output[i] = f(input[i]) for i in 0..<count, 16 lanes at a time; the last partial
    /// vector is padded with zeros, computed whole and stored partially, so every element
    /// goes through exactly the same arithmetic. `input` and `output` may be the same buffer.
    @inline(__always)
    static func map<F: FloatVectorFunction>(
        _ f: F, _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, count: Int
    ) {
        var index = 0
        while index + 16 <= count {
            let v = UnsafeRawPointer(input + index).loadUnaligned(as: Vector.self)
            UnsafeMutableRawPointer(output + index).storeBytes(of: f(v), as: Vector.self)
            index += 16
        }
        if index < count {
            var v = Vector()
            for lane in 0..<(count - index) { v[lane] = input[index + lane] }
            let r = f(v)
            for lane in 0..<(count - index) { output[index + lane] = r[lane] }
        }
    }
}

/// A float function on 16 lanes, carried as a value so attributes (alpha, bounds) travel with
/// it and generic callers get it specialized and inlined.
protocol FloatVectorFunction {
    func callAsFunction(_ x: SIMD16<Float>) -> SIMD16<Float>
}
