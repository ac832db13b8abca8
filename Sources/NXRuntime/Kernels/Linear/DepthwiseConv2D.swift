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
        // tall enough for whole bands of 8 output rows.
        let bandRows = sevenBySeven ? (rows.output + 7) / 8 * 8 : rows.output
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
                for plane in range {
                    let channel = plane % channels
                    pad(x + plane * inputPlane, rows, columns, into: scratch, height: paddedHeight, width: paddedWidth)
                    let w = weights + channel * taps
                    let b = bias?[channel] ?? 0
                    let out = y + plane * outputPlane
                    if sevenBySeven && lanes == 8 {
                        convolve7x7(SIMD8<Float>.self, scratch, paddedWidth, w, b, out, rows.output, columns.output, columns.kernel)
                    } else if sevenBySeven {
                        convolve7x7(SIMD16<Float>.self, scratch, paddedWidth, w, b, out, rows.output, columns.output, columns.kernel)
                    } else if vectorized && lanes == 8 {
                        convolveVectorized(SIMD8<Float>.self, scratch, paddedWidth, w, b, out, rows, columns)
                    } else if vectorized {
                        convolveVectorized(SIMD16<Float>.self, scratch, paddedWidth, w, b, out, rows, columns)
                    } else {
                        convolveScalar(scratch, paddedWidth, w, b, out, rows, columns)
                    }
                }
            }
        }
    }

    /// Copies one input plane into the scratch plane's interior at (padBegin, padBegin); the
    /// zero border around it is the caller's, set once. Rows are copied by an inline loop:
    /// a library call per 14-float row of ConvNeXt's 14x14 planes cost more than the row.
    private static func pad(
        _ source: UnsafePointer<Float>, _ rows: ConvDim, _ columns: ConvDim, into scratch: UnsafeMutablePointer<Float>,
        height: Int, width: Int
    ) {
        let left = min(columns.padBegin, width)
        let copied = max(0, min(columns.input, width - left))
        for iy in 0..<max(0, min(rows.input, height - rows.padBegin)) where copied > 0 {
            let line = scratch + (iy + rows.padBegin) * width + left
            let from = source + iy * columns.input
            for column in 0..<copied { line[column] = from[column] }
        }
    }

    @inline(__always)
    private static func load<Vector: SIMD>(_ pointer: UnsafePointer<Float>) -> Vector where Vector.Scalar == Float {
        UnsafeRawPointer(pointer).loadUnaligned(as: Vector.self)
    }

    /// Stores the first `count` lanes (all when `count` reaches the width).
    @inline(__always)
    private static func store<Vector: SIMD>(_ value: Vector, _ pointer: UnsafeMutablePointer<Float>, count: Int) where Vector.Scalar == Float {
        if count >= Vector.scalarCount {
            UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: Vector.self)
        } else {
            for lane in 0..<count { pointer[lane] = value[lane] }
        }
    }

    /// 7x7, stride 1 (ConvNeXt's): bands of 8 output rows x one vector of columns, kept in 8
    /// accumulators. For each kernel column the 7 weights stay in registers while the band's
    /// 14 input rows are loaded once each, every row feeding the (up to 7) output rows whose
    /// window holds it: 14 loads and 7 broadcasts per 56 fused multiply-adds, where one load
    /// per multiply-add left the generic loop load-bound at half the FMA rate.
    @inline(__always)
    private static func convolve7x7<Vector: SIMD>(
        _: Vector.Type, _ scratch: UnsafePointer<Float>, _ width: Int, _ w: UnsafePointer<Float>, _ bias: Float,
        _ out: UnsafeMutablePointer<Float>, _ outHeight: Int, _ outWidth: Int, _ kernelWidth: Int
    ) where Vector.Scalar == Float {
        let lanes = Vector.scalarCount
        for oy in stride(from: 0, to: outHeight, by: 8) {
            var ox = 0
            while ox < outWidth {
                var a0 = Vector(repeating: bias), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0
                let base = scratch + oy * width + ox
                // `kernelWidth` is 7, but passed in: with a constant trip count LLVM unrolls
                // this loop and stitches the overlapping loads of neighbouring columns
                // together with shuffles, which ran slower than the loads themselves.
                for kx in 0..<kernelWidth {
                    let w0 = Vector(repeating: w[kx]), w1 = Vector(repeating: w[7 + kx]), w2 = Vector(repeating: w[14 + kx])
                    let w3 = Vector(repeating: w[21 + kx]), w4 = Vector(repeating: w[28 + kx]), w5 = Vector(repeating: w[35 + kx])
                    let w6 = Vector(repeating: w[42 + kx])
                    let p = base + kx
                    // Input row r of the band feeds output rows r - 6 ... r (weight row r - o).
                    var v: Vector = load(p)
                    a0.addProduct(w0, v)
                    v = load(p + width)
                    a0.addProduct(w1, v); a1.addProduct(w0, v)
                    v = load(p + 2 * width)
                    a0.addProduct(w2, v); a1.addProduct(w1, v); a2.addProduct(w0, v)
                    v = load(p + 3 * width)
                    a0.addProduct(w3, v); a1.addProduct(w2, v); a2.addProduct(w1, v); a3.addProduct(w0, v)
                    v = load(p + 4 * width)
                    a0.addProduct(w4, v); a1.addProduct(w3, v); a2.addProduct(w2, v); a3.addProduct(w1, v); a4.addProduct(w0, v)
                    v = load(p + 5 * width)
                    a0.addProduct(w5, v); a1.addProduct(w4, v); a2.addProduct(w3, v); a3.addProduct(w2, v); a4.addProduct(w1, v)
                    a5.addProduct(w0, v)
                    v = load(p + 6 * width)
                    a0.addProduct(w6, v); a1.addProduct(w5, v); a2.addProduct(w4, v); a3.addProduct(w3, v); a4.addProduct(w2, v)
                    a5.addProduct(w1, v); a6.addProduct(w0, v)
                    v = load(p + 7 * width)
                    a1.addProduct(w6, v); a2.addProduct(w5, v); a3.addProduct(w4, v); a4.addProduct(w3, v); a5.addProduct(w2, v)
                    a6.addProduct(w1, v); a7.addProduct(w0, v)
                    v = load(p + 8 * width)
                    a2.addProduct(w6, v); a3.addProduct(w5, v); a4.addProduct(w4, v); a5.addProduct(w3, v); a6.addProduct(w2, v)
                    a7.addProduct(w1, v)
                    v = load(p + 9 * width)
                    a3.addProduct(w6, v); a4.addProduct(w5, v); a5.addProduct(w4, v); a6.addProduct(w3, v); a7.addProduct(w2, v)
                    v = load(p + 10 * width)
                    a4.addProduct(w6, v); a5.addProduct(w5, v); a6.addProduct(w4, v); a7.addProduct(w3, v)
                    v = load(p + 11 * width)
                    a5.addProduct(w6, v); a6.addProduct(w5, v); a7.addProduct(w4, v)
                    v = load(p + 12 * width)
                    a6.addProduct(w6, v); a7.addProduct(w5, v)
                    v = load(p + 13 * width)
                    a7.addProduct(w6, v)
                }
                let count = min(lanes, outWidth - ox)
                let rows = min(8, outHeight - oy)
                let o = out + oy * outWidth + ox
                store(a0, o, count: count)
                if rows > 1 { store(a1, o + outWidth, count: count) }
                if rows > 2 { store(a2, o + 2 * outWidth, count: count) }
                if rows > 3 { store(a3, o + 3 * outWidth, count: count) }
                if rows > 4 { store(a4, o + 4 * outWidth, count: count) }
                if rows > 5 { store(a5, o + 5 * outWidth, count: count) }
                if rows > 6 { store(a6, o + 6 * outWidth, count: count) }
                if rows > 7 { store(a7, o + 7 * outWidth, count: count) }
                ox += lanes
            }
        }
    }

    /// Column stride 1: four output rows per pass share each broadcast weight.
    @inline(__always)
    private static func convolveVectorized<Vector: SIMD>(
        _: Vector.Type, _ scratch: UnsafePointer<Float>, _ width: Int, _ w: UnsafePointer<Float>, _ bias: Float,
        _ out: UnsafeMutablePointer<Float>, _ rows: ConvDim, _ columns: ConvDim
    ) where Vector.Scalar == Float {
        let lanes = Vector.scalarCount
        let kh = rows.kernel, kw = columns.kernel, dh = rows.dilation, dw = columns.dilation
        let rowStep = rows.stride * width
        let outWidth = columns.output
        var oy = 0
        while oy + 4 <= rows.output {
            var ox = 0
            while ox < outWidth {
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
                store(a0, o, count: count)
                store(a1, o + outWidth, count: count)
                store(a2, o + 2 * outWidth, count: count)
                store(a3, o + 3 * outWidth, count: count)
                ox += lanes
            }
            oy += 4
        }
        while oy < rows.output {
            var ox = 0
            while ox < outWidth {
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
                store(a0 + a1, out + oy * outWidth + ox, count: min(lanes, outWidth - ox))
                ox += lanes
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
