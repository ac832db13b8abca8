/// Direct depthwise convolution (one input and one output channel per group) over the two
/// inner dimensions of a lifted geometry (`d0` must be the unit dimension):
/// `y[p][oy][ox] = bias[c] + sum over (ky, kx) of w[c][ky][kx] * x[p][iy][ix]`, for each
/// plane p = n * channels + c. GEMM would see one-row matrices here, so this is done
/// directly: each plane is copied into a zero-bordered scratch plane, which removes every
/// bounds check from the inner loop, then a vector of output columns at a time (16, or 8
/// for narrow planes such as ConvNeXt's last stage at 7x7) is accumulated, several output
/// rows at once to keep independent accumulators in flight. `addProduct` is a fused
/// multiply-add: Swift never contracts `a += w * x` into one on its own.
enum DepthwiseConv2D {
    static func run(
        x: UnsafePointer<Float>, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, planes: Int, channels: Int, geometry g: ConvGeometry,
        context: ExecutionContext
    ) {
        let rows = g.d1, columns = g.d2
        let vectorized = columns.stride == 1
        let lanes = columns.output <= 8 ? 8 : 16
        let sevenBySeven = vectorized && rows.kernel == 7 && columns.kernel == 7 && rows.stride == 1
            && rows.dilation == 1 && columns.dilation == 1
        // The scratch plane covers every position a window reads; vectorized rows are also
        // wide enough for whole vectors past the last output column, and for 7x7 kernels
        // tall enough for whole bands.
        let bands = BandPlan(height: rows.output)
        let bandRows = sevenBySeven ? bands.coveredRows : rows.output
        let paddedHeight = (bandRows - 1) * rows.stride + rows.dilatedKernel
        let paddedWidth = vectorized
            ? (columns.output + lanes - 1) / lanes * lanes + (columns.kernel - 1) * columns.dilation
            : (columns.output - 1) * columns.stride + columns.dilatedKernel
        let taps = rows.kernel * columns.kernel
        let inputPlane = rows.input * columns.input
        let outputPlane = rows.output * columns.output
        let work = outputPlane * taps
        context.parallelFor(planes, grain: max(1, 65536 / max(work, 1))) { range in
            ScratchPool.shared.withFloats(paddedHeight * paddedWidth) { scratch in
                // The borders are zeroed once: every plane overwrites the same interior.
                LinearSupport.fill(scratch, paddedHeight * paddedWidth, 0)
                // Vector reads may run past a row into the next plane, never past X; vector
                // stores past a row into the next plane of this range, never past it.
                let inputEnd = x + planes * inputPlane, outputEnd = y + range.upperBound * outputPlane
                for plane in range {
                    let channel = plane % channels
                    pad(x + plane * inputPlane, rows, columns, into: scratch, height: paddedHeight, width: paddedWidth, readableEnd: inputEnd)
                    let w = weights + channel * taps
                    let b = bias?[channel] ?? 0
                    let out = y + plane * outputPlane
                    if sevenBySeven && lanes == 8 {
                        convolve7x7(SIMD8<Float>.self, scratch, paddedWidth, w, b, out, outputEnd, bands, rows.output, columns.output, columns.kernel)
                    } else if sevenBySeven {
                        convolve7x7(SIMD16<Float>.self, scratch, paddedWidth, w, b, out, outputEnd, bands, rows.output, columns.output, columns.kernel)
                    } else if vectorized && lanes == 8 {
                        convolveVectorized(SIMD8<Float>.self, scratch, paddedWidth, w, b, out, outputEnd, rows, columns)
                    } else if vectorized {
                        convolveVectorized(SIMD16<Float>.self, scratch, paddedWidth, w, b, out, outputEnd, rows, columns)
                    } else {
                        convolveScalar(scratch, paddedWidth, w, b, out, rows, columns)
                    }
                }
            }
        }
    }

    /// Copies one input plane into the scratch plane's interior at (padBegin, padBegin); the
    /// zero border around it is the caller's, set once. Rows are copied inline: a library
    /// call per 14-float row of ConvNeXt's 14x14 planes cost more than the row.
    private static func pad(
        _ source: UnsafePointer<Float>, _ rows: ConvDim, _ columns: ConvDim, into scratch: UnsafeMutablePointer<Float>,
        height: Int, width: Int, readableEnd: UnsafePointer<Float>
    ) {
        let left = min(columns.padBegin, width)
        let copied = max(0, min(columns.input, width - left))
        for iy in 0..<max(0, min(rows.input, height - rows.padBegin)) where copied > 0 {
            copyRow(
                source + iy * columns.input, into: scratch + (iy + rows.padBegin) * width + left, count: copied,
                readable: readableEnd - (source + iy * columns.input), writable: width - left)
        }
    }

    /// `count` floats in whole vectors. A row's tail goes as one vector with its extra lanes
    /// zeroed when `readable` floats may be read and `writable` written (what lies right of
    /// a scratch row's interior is its zero border, so zeros there change nothing); only
    /// tails at the end of a plane go float by float.
    @inline(__always)
    private static func copyRow(
        _ from: UnsafePointer<Float>, into line: UnsafeMutablePointer<Float>, count: Int, readable: Int, writable: Int
    ) {
        var j = 0
        while j + 16 <= count {
            UnsafeMutableRawPointer(line + j).storeBytes(of: load(from + j) as SIMD16<Float>, as: SIMD16<Float>.self)
            j += 16
        }
        let tail = count - j
        guard tail > 0 else { return }
        if j + 16 <= min(readable, writable) {
            let v: SIMD16<Float> = load(from + j)
            UnsafeMutableRawPointer(line + j).storeBytes(of: keepingLanes(v, below: tail, as: SIMD16<Int32>.self), as: SIMD16<Float>.self)
        } else if tail <= 8 && j + 8 <= min(readable, writable) {
            let v: SIMD8<Float> = load(from + j)
            UnsafeMutableRawPointer(line + j).storeBytes(of: keepingLanes(v, below: tail, as: SIMD8<Int32>.self), as: SIMD8<Float>.self)
        } else {
            for column in j..<count { line[column] = from[column] }
        }
    }

    /// `v` with lanes from `count` on set to +0. Built from integer arithmetic: the stdlib's
    /// lane comparisons (`.>=`) compile to a loop over the lanes.
    @inline(__always)
    private static func keepingLanes<V: SIMD, Bits: SIMD>(_ v: V, below count: Int, as _: Bits.Type) -> V
    where V.Scalar == Float, Bits.Scalar == Int32 {
        var indices = Bits()
        for lane in 0..<Bits.scalarCount { indices[lane] = Int32(lane) }
        // Lane index - count is negative (sign bit set) exactly for the lanes kept.
        let keep = (indices &- Int32(truncatingIfNeeded: count)) &>> 31
        return unsafeBitCast(unsafeBitCast(v, to: Bits.self) & keep, to: V.self)
    }

    @inline(__always)
    private static func load<Vector: SIMD>(_ pointer: UnsafePointer<Float>) -> Vector where Vector.Scalar == Float {
        UnsafeRawPointer(pointer).loadUnaligned(as: Vector.self)
    }

    /// Stores one output row's vector of `count` columns. A whole vector is stored even when
    /// `count` is short, unless it would pass `writableEnd`: the lanes past the row land on
    /// the next row's first columns (or the next plane's), which that row's own store writes
    /// later (planes and rows are stored in increasing order, a row's vectors right to left).
    @inline(__always)
    private static func store<Vector: SIMD>(
        _ value: Vector, _ pointer: UnsafeMutablePointer<Float>, count: Int, writableEnd: UnsafeMutablePointer<Float>
    ) where Vector.Scalar == Float {
        if count >= Vector.scalarCount || pointer + Vector.scalarCount <= writableEnd {
            UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: Vector.self)
        } else {
            for lane in 0..<count { pointer[lane] = value[lane] }
        }
    }

    /// The column offsets of a row's vectors, right to left (see `store`).
    @inline(__always)
    private static func vectorColumns(width: Int, lanes: Int) -> StrideTo<Int> {
        stride(from: (width - 1) / lanes * lanes, to: -1, by: -lanes)
    }

    /// How the 7x7 kernel cuts a plane's output rows into bands of 8 and of 7: the fewest
    /// rows computed (each band computes all its rows), so 14 rows run as two bands of 7
    /// (not 16 rows in two of 8) and 28 as four of 7.
    struct BandPlan {
        let eights: Int, sevens: Int
        var coveredRows: Int { 8 * eights + 7 * sevens }

        init(height: Int) {
            var best = (eights: (height + 7) / 8, sevens: 0)
            for sevens in 1...7 {
                let eights = max(0, (height - 7 * sevens + 7) / 8)
                if 8 * eights + 7 * sevens < 8 * best.eights + 7 * best.sevens { best = (eights, sevens) }
            }
            (self.eights, self.sevens) = best
        }
    }

    protocol Band { static var rows: Int { get } }
    enum BandOf8: Band { static var rows: Int { 8 } }
    enum BandOf7: Band { static var rows: Int { 7 } }

    /// 7x7, stride 1 (ConvNeXt's): bands of 8 (or 7) output rows x one vector of columns,
    /// kept in 8 accumulators, or two such sets at once (two vectors of columns, or two
    /// bands of 7 on a plane one vector wide). For each kernel column the 7 weights stay in
    /// registers while the band's 14 input rows are loaded once each, every row feeding the
    /// (up to 7) output rows whose window holds it: 14 loads and 7 broadcasts per 56 fused
    /// multiply-adds, where one load per multiply-add left the generic loop load-bound at
    /// half the FMA rate. With one set, its 8 chains of dependent multiply-adds barely cover
    /// the FMA latency; two sets took ConvNeXt-T's depthwise layers 12% faster (1 thread).
    @inline(__always)
    private static func convolve7x7<Vector: SIMD>(
        _: Vector.Type, _ scratch: UnsafePointer<Float>, _ width: Int, _ w: UnsafePointer<Float>, _ bias: Float,
        _ out: UnsafeMutablePointer<Float>, _ writableEnd: UnsafeMutablePointer<Float>, _ bands: BandPlan, _ outHeight: Int, _ outWidth: Int, _ kernelWidth: Int
    ) where Vector.Scalar == Float {
        var oy = 0
        for _ in 0..<bands.eights {
            convolveBand(BandOf8.self, Vector.self, scratch, width, w, bias, out, writableEnd, oy, outHeight, outWidth, kernelWidth)
            oy += 8
        }
        var sevens = bands.sevens
        // A plane one vector wide pairs its bands of 7 instead (14x14: both at once).
        while sevens >= 2 && outWidth <= Vector.scalarCount {
            convolveBandColumns(
                TileCount2.self, BandOf7.self, Vector.self, scratch, width, w, bias, out, writableEnd, oy, outHeight, outWidth,
                kernelWidth, left: 0, secondBand: true)
            oy += 14
            sevens -= 2
        }
        for _ in 0..<sevens {
            convolveBand(BandOf7.self, Vector.self, scratch, width, w, bias, out, writableEnd, oy, outHeight, outWidth, kernelWidth)
            oy += 7
        }
    }

    /// One band of `B.rows` output rows from `oy`; rows past `outHeight` are computed but
    /// not stored. Vectors of columns go two at a time where the row has two left: 16
    /// independent accumulators instead of 8 hide the FMA latency (each accumulator's 7
    /// multiply-adds per kernel column depend on one another), and the weights broadcast
    /// for a kernel column serve both.
    @inline(__always)
    private static func convolveBand<B: Band, Vector: SIMD>(
        _: B.Type, _: Vector.Type, _ scratch: UnsafePointer<Float>, _ width: Int, _ w: UnsafePointer<Float>, _ bias: Float,
        _ out: UnsafeMutablePointer<Float>, _ writableEnd: UnsafeMutablePointer<Float>, _ oy: Int, _ outHeight: Int, _ outWidth: Int, _ kernelWidth: Int
    ) where Vector.Scalar == Float {
        let lanes = Vector.scalarCount
        var right = (outWidth - 1) / lanes * lanes
        while right >= 0 {
            if right >= lanes {
                convolveBandColumns(TileCount2.self, B.self, Vector.self, scratch, width, w, bias, out, writableEnd, oy, outHeight, outWidth, kernelWidth, left: right - lanes)
                right -= 2 * lanes
            } else {
                convolveBandColumns(TileCount1.self, B.self, Vector.self, scratch, width, w, bias, out, writableEnd, oy, outHeight, outWidth, kernelWidth, left: right)
                right -= lanes
            }
        }
    }

    /// `Columns.value` (1 or 2) vectors of columns from `left`, for one band.
    @inline(__always)
    private static func convolveBandColumns<Columns: TileCount, B: Band, Vector: SIMD>(
        _: Columns.Type, _: B.Type, _: Vector.Type, _ scratch: UnsafePointer<Float>, _ width: Int, _ w: UnsafePointer<Float>,
        _ bias: Float, _ out: UnsafeMutablePointer<Float>, _ writableEnd: UnsafeMutablePointer<Float>, _ oy: Int, _ outHeight: Int,
        _ outWidth: Int, _ kernelWidth: Int, left ox: Int, secondBand: Bool = false
    ) where Vector.Scalar == Float {
        let eight = B.rows == 8, two = Columns.value == 2
        let lanes = Vector.scalarCount
        // The second set of accumulators: the next vector of columns, or the next band of 7 rows.
        let second = secondBand ? 7 * width : lanes
        var a0 = Vector(repeating: bias), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0
        var b0 = a0, b1 = a0, b2 = a0, b3 = a0, b4 = a0, b5 = a0, b6 = a0, b7 = a0
        let base = scratch + oy * width + ox
        // `kernelWidth` is 7, but passed in: with a constant trip count LLVM unrolls
        // this loop and stitches the overlapping loads of neighbouring columns
        // together with shuffles, which ran slower than the loads themselves.
        for kx in 0..<kernelWidth {
            let w0 = Vector(repeating: w[kx]), w1 = Vector(repeating: w[7 + kx]), w2 = Vector(repeating: w[14 + kx])
            let w3 = Vector(repeating: w[21 + kx]), w4 = Vector(repeating: w[28 + kx]), w5 = Vector(repeating: w[35 + kx])
            let w6 = Vector(repeating: w[42 + kx])
            let p = base + kx
            // Input row r of the band feeds output rows r - 6 ... r (weight row r - o),
            // written out: a loop over r with tests on it was not unrolled and ran 6x slower.
            var v: Vector = load(p)
            var u: Vector = two ? load(p + second) : v
            a0.addProduct(w0, v)
            if two { b0.addProduct(w0, u) }
            v = load(p + 1 * width)
            if two { u = load(p + 1 * width + second) }
            a0.addProduct(w1, v); a1.addProduct(w0, v)
            if two { b0.addProduct(w1, u); b1.addProduct(w0, u) }
            v = load(p + 2 * width)
            if two { u = load(p + 2 * width + second) }
            a0.addProduct(w2, v); a1.addProduct(w1, v); a2.addProduct(w0, v)
            if two { b0.addProduct(w2, u); b1.addProduct(w1, u); b2.addProduct(w0, u) }
            v = load(p + 3 * width)
            if two { u = load(p + 3 * width + second) }
            a0.addProduct(w3, v); a1.addProduct(w2, v); a2.addProduct(w1, v); a3.addProduct(w0, v)
            if two { b0.addProduct(w3, u); b1.addProduct(w2, u); b2.addProduct(w1, u); b3.addProduct(w0, u) }
            v = load(p + 4 * width)
            if two { u = load(p + 4 * width + second) }
            a0.addProduct(w4, v); a1.addProduct(w3, v); a2.addProduct(w2, v); a3.addProduct(w1, v); a4.addProduct(w0, v)
            if two { b0.addProduct(w4, u); b1.addProduct(w3, u); b2.addProduct(w2, u); b3.addProduct(w1, u); b4.addProduct(w0, u) }
            v = load(p + 5 * width)
            if two { u = load(p + 5 * width + second) }
            a0.addProduct(w5, v); a1.addProduct(w4, v); a2.addProduct(w3, v); a3.addProduct(w2, v); a4.addProduct(w1, v); a5.addProduct(w0, v)
            if two { b0.addProduct(w5, u); b1.addProduct(w4, u); b2.addProduct(w3, u); b3.addProduct(w2, u); b4.addProduct(w1, u); b5.addProduct(w0, u) }
            v = load(p + 6 * width)
            if two { u = load(p + 6 * width + second) }
            a0.addProduct(w6, v); a1.addProduct(w5, v); a2.addProduct(w4, v); a3.addProduct(w3, v); a4.addProduct(w2, v); a5.addProduct(w1, v); a6.addProduct(w0, v)
            if two { b0.addProduct(w6, u); b1.addProduct(w5, u); b2.addProduct(w4, u); b3.addProduct(w3, u); b4.addProduct(w2, u); b5.addProduct(w1, u); b6.addProduct(w0, u) }
            v = load(p + 7 * width)
            if two { u = load(p + 7 * width + second) }
            a1.addProduct(w6, v); a2.addProduct(w5, v); a3.addProduct(w4, v); a4.addProduct(w3, v); a5.addProduct(w2, v); a6.addProduct(w1, v)
            if two { b1.addProduct(w6, u); b2.addProduct(w5, u); b3.addProduct(w4, u); b4.addProduct(w3, u); b5.addProduct(w2, u); b6.addProduct(w1, u) }
            if eight { a7.addProduct(w0, v) ; if two { b7.addProduct(w0, u) } }
            v = load(p + 8 * width)
            if two { u = load(p + 8 * width + second) }
            a2.addProduct(w6, v); a3.addProduct(w5, v); a4.addProduct(w4, v); a5.addProduct(w3, v); a6.addProduct(w2, v)
            if two { b2.addProduct(w6, u); b3.addProduct(w5, u); b4.addProduct(w4, u); b5.addProduct(w3, u); b6.addProduct(w2, u) }
            if eight { a7.addProduct(w1, v) ; if two { b7.addProduct(w1, u) } }
            v = load(p + 9 * width)
            if two { u = load(p + 9 * width + second) }
            a3.addProduct(w6, v); a4.addProduct(w5, v); a5.addProduct(w4, v); a6.addProduct(w3, v)
            if two { b3.addProduct(w6, u); b4.addProduct(w5, u); b5.addProduct(w4, u); b6.addProduct(w3, u) }
            if eight { a7.addProduct(w2, v) ; if two { b7.addProduct(w2, u) } }
            v = load(p + 10 * width)
            if two { u = load(p + 10 * width + second) }
            a4.addProduct(w6, v); a5.addProduct(w5, v); a6.addProduct(w4, v)
            if two { b4.addProduct(w6, u); b5.addProduct(w5, u); b6.addProduct(w4, u) }
            if eight { a7.addProduct(w3, v) ; if two { b7.addProduct(w3, u) } }
            v = load(p + 11 * width)
            if two { u = load(p + 11 * width + second) }
            a5.addProduct(w6, v); a6.addProduct(w5, v)
            if two { b5.addProduct(w6, u); b6.addProduct(w5, u) }
            if eight { a7.addProduct(w4, v) ; if two { b7.addProduct(w4, u) } }
            v = load(p + 12 * width)
            if two { u = load(p + 12 * width + second) }
            a6.addProduct(w6, v)
            if two { b6.addProduct(w6, u) }
            if eight { a7.addProduct(w5, v) ; if two { b7.addProduct(w5, u) } }
            if eight {
                v = load(p + 13 * width)
                a7.addProduct(w6, v)
                if two { u = load(p + 13 * width + second); b7.addProduct(w6, u) }
            }
        }
        let rows = min(B.rows, outHeight - oy)
        let o = out + oy * outWidth + ox
        // Rows in increasing order, a row's vectors right to left (see `store`).
        @inline(__always) func put(_ r: Int, _ left: Vector, _ right: Vector) {
            guard r < rows else { return }
            let line = o + r * outWidth
            if two && !secondBand { store(right, line + lanes, count: min(lanes, outWidth - ox - lanes), writableEnd: writableEnd) }
            store(left, line, count: min(lanes, outWidth - ox), writableEnd: writableEnd)
        }
        @inline(__always) func putSecondBand(_ r: Int, _ value: Vector) {
            guard r + 7 < min(14, outHeight - oy) else { return }
            store(value, o + (r + 7) * outWidth, count: min(lanes, outWidth - ox), writableEnd: writableEnd)
        }
        put(0, a0, b0); put(1, a1, b1); put(2, a2, b2); put(3, a3, b3)
        put(4, a4, b4); put(5, a5, b5); put(6, a6, b6); put(7, a7, b7)
        if secondBand {
            putSecondBand(0, b0); putSecondBand(1, b1); putSecondBand(2, b2); putSecondBand(3, b3)
            putSecondBand(4, b4); putSecondBand(5, b5); putSecondBand(6, b6)
        }
    }

    /// Column stride 1: four output rows per pass share each broadcast weight.
    @inline(__always)
    private static func convolveVectorized<Vector: SIMD>(
        _: Vector.Type, _ scratch: UnsafePointer<Float>, _ width: Int, _ w: UnsafePointer<Float>, _ bias: Float,
        _ out: UnsafeMutablePointer<Float>, _ writableEnd: UnsafeMutablePointer<Float>, _ rows: ConvDim, _ columns: ConvDim
    ) where Vector.Scalar == Float {
        let lanes = Vector.scalarCount
        let kh = rows.kernel, kw = columns.kernel, dh = rows.dilation, dw = columns.dilation
        let rowStep = rows.stride * width
        let outWidth = columns.output
        var oy = 0
        while oy + 4 <= rows.output {
            for ox in vectorColumns(width: outWidth, lanes: lanes) {
                var a0 = Vector(repeating: bias), a1 = a0, a2 = a0, a3 = a0
                let base = scratch + oy * rowStep + ox
                for ky in 0..<kh {
                    let line = base + ky * dh * width
                    let taps = w + ky * kw
                    for kx in 0..<kw {
                        let weight = Vector(repeating: taps[kx])
                        let p = line + kx * dw
                        a0.addProduct(weight, load(p))
                        a1.addProduct(weight, load(p + rowStep))
                        a2.addProduct(weight, load(p + 2 * rowStep))
                        a3.addProduct(weight, load(p + 3 * rowStep))
                    }
                }
                let count = min(lanes, outWidth - ox)
                let o = out + oy * outWidth + ox
                store(a0, o, count: count, writableEnd: writableEnd)
                store(a1, o + outWidth, count: count, writableEnd: writableEnd)
                store(a2, o + 2 * outWidth, count: count, writableEnd: writableEnd)
                store(a3, o + 3 * outWidth, count: count, writableEnd: writableEnd)
            }
            oy += 4
        }
        while oy < rows.output {
            for ox in vectorColumns(width: outWidth, lanes: lanes) {
                var a0 = Vector(repeating: bias), a1 = Vector(repeating: 0)
                let base = scratch + oy * rowStep + ox
                for ky in 0..<kh {
                    let line = base + ky * dh * width
                    let taps = w + ky * kw
                    var kx = 0
                    // Two accumulators so consecutive taps do not wait on each other.
                    while kx + 2 <= kw {
                        a0.addProduct(Vector(repeating: taps[kx]), load(line + kx * dw))
                        a1.addProduct(Vector(repeating: taps[kx + 1]), load(line + (kx + 1) * dw))
                        kx += 2
                    }
                    if kx < kw { a0.addProduct(Vector(repeating: taps[kx]), load(line + kx * dw)) }
                }
                store(a0 + a1, out + oy * outWidth + ox, count: min(lanes, outWidth - ox), writableEnd: writableEnd)
            }
            oy += 1
        }
    }

    /// Any column stride: one output at a time, still without bounds checks.
    private static func convolveScalar(
        _ scratch: UnsafePointer<Float>, _ width: Int, _ w: UnsafePointer<Float>, _ bias: Float,
        _ out: UnsafeMutablePointer<Float>, _ rows: ConvDim, _ columns: ConvDim
    ) {
        let kh = rows.kernel, kw = columns.kernel
        for oy in 0..<rows.output {
            let base = scratch + oy * rows.stride * width
            for ox in 0..<columns.output {
                var sum = bias
                for ky in 0..<kh {
                    let line = base + ky * rows.dilation * width + ox * columns.stride
                    let taps = w + ky * kw
                    for kx in 0..<kw { sum += taps[kx] * line[kx * columns.dilation] }
                }
                out[oy * columns.output + ox] = sum
            }
        }
    }
}
