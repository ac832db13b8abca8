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
        // The scratch plane covers every position a window reads; vectorized rows are also
        // wide enough for whole vectors past the last output column.
        let paddedHeight = (rows.output - 1) * rows.stride + rows.dilatedKernel
        let paddedWidth = vectorized
            ? (columns.output + lanes - 1) / lanes * lanes + (columns.kernel - 1) * columns.dilation
            : (columns.output - 1) * columns.stride + columns.dilatedKernel
        let taps = rows.kernel * columns.kernel
        let inputPlane = rows.input * columns.input
        let outputPlane = rows.output * columns.output
        let work = outputPlane * taps
        context.parallelFor(planes, grain: max(1, 65536 / max(work, 1))) { range in
            ScratchPool.shared.withFloats(paddedHeight * paddedWidth) { scratch in
                for plane in range {
                    let channel = plane % channels
                    pad(x + plane * inputPlane, rows, columns, into: scratch, height: paddedHeight, width: paddedWidth)
                    let w = weights + channel * taps
                    let b = bias?[channel] ?? 0
                    let out = y + plane * outputPlane
                    if vectorized && lanes == 8 {
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

    /// Copies one input plane into the scratch plane at (padBegin, padBegin), zeros around.
    private static func pad(
        _ source: UnsafePointer<Float>, _ rows: ConvDim, _ columns: ConvDim, into scratch: UnsafeMutablePointer<Float>,
        height: Int, width: Int
    ) {
        let left = min(columns.padBegin, width)
        let copied = max(0, min(columns.input, width - left))
        for py in 0..<height {
            let line = scratch + py * width
            let iy = py - rows.padBegin
            guard iy >= 0, iy < rows.input else {
                LinearSupport.fill(line, width, 0)
                continue
            }
            LinearSupport.fill(line, left, 0)
            if copied > 0 { (line + left).update(from: source + iy * columns.input, count: copied) }
            LinearSupport.fill(line + left + copied, width - left - copied, 0)
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
