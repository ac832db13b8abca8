import CPUHints

/// Moves data between an image and its column matrix for GEMM-based convolution, over a
/// geometry lifted to 3-D. For `channels` channels of one image the column matrix has one
/// row per (channel, kernel offset) and one column per output position:
/// `col[(c * K + k) * outputSize + o] = x[c][window position of o at offset k]`, zero where
/// the window lies in padding. `accumulate` (col2im) is the adjoint, used by ConvTranspose:
/// it adds every column entry back onto its image position, dropping those in padding.
enum Im2col {
    /// Output positions `lo..<hi` along the innermost dimension whose input position
    /// `o * stride + offset` lies inside the input, for kernel offset `k`.
    @inline(__always)
    static func innerRange(_ dim: ConvDim, _ k: Int) -> (lo: Int, hi: Int, offset: Int) {
        let offset = k * dim.dilation - dim.padBegin
        let lo = min(dim.output, max(0, LinearSupport.ceilDiv(-offset, dim.stride)))
        let hi = max(lo, min(dim.output, LinearSupport.ceilDiv(dim.input - offset, dim.stride)))
        return (lo, hi, offset)
    }

    /// Fills the column matrix for `channels` channels starting at `x`. Rows are independent,
    /// so they are split over the session's threads.
    static func pack(
        _ x: UnsafePointer<Float>, channels: Int, geometry g: ConvGeometry, into col: UnsafeMutablePointer<Float>,
        context: ExecutionContext
    ) {
        let kernelSize = g.kernelSize
        let outputSize = g.outputSize
        context.parallelFor(channels * kernelSize, grain: max(1, 32768 / max(outputSize, 1))) { rows in
            for row in rows {
                packRow(x + (row / kernelSize) * g.inputSize, kernelIndex: row % kernelSize, g, col + row * outputSize)
            }
        }
    }

    private static func packRow(_ source: UnsafePointer<Float>, kernelIndex k: Int, _ g: ConvGeometry, _ destination: UnsafeMutablePointer<Float>) {
        let (d0, d1, d2) = (g.d0, g.d1, g.d2)
        let kz = k / (d1.kernel * d2.kernel), ky = (k / d2.kernel) % d1.kernel, kx = k % d2.kernel
        let (lo, hi, offset) = innerRange(d2, kx)
        let width = d2.output
        for oz in 0..<d0.output {
            let iz = oz * d0.stride - d0.padBegin + kz * d0.dilation
            let zInside = iz >= 0 && iz < d0.input
            for oy in 0..<d1.output {
                let iy = oy * d1.stride - d1.padBegin + ky * d1.dilation
                let out = destination + (oz * d1.output + oy) * width
                guard zInside, iy >= 0, iy < d1.input else {
                    LinearSupport.fill(out, width, 0)
                    continue
                }
                let line = source + (iz * d1.input + iy) * d2.input + offset
                LinearSupport.fill(out, lo, 0)
                if d2.stride == 1 {
                    if hi > lo { (out + lo).update(from: line + lo, count: hi - lo) }
                } else {
                    for ox in lo..<hi { out[ox] = line[ox * d2.stride] }
                }
                LinearSupport.fill(out + hi, width - hi, 0)
            }
        }
    }

    /// Adds the column matrix of `channels` channels onto the image at `y` (which holds its
    /// starting values). Rows of one channel all write that channel's plane, so the work is
    /// split by channel.
    static func accumulate(
        _ col: UnsafePointer<Float>, channels: Int, geometry g: ConvGeometry, into y: UnsafeMutablePointer<Float>,
        context: ExecutionContext
    ) {
        let kernelSize = g.kernelSize
        let outputSize = g.outputSize
        context.parallelFor(channels, grain: max(1, 32768 / max(outputSize * kernelSize, 1))) { channelRange in
            for channel in channelRange {
                var k = 0
                while k < kernelSize {
                    let rows = col + (channel * kernelSize + k) * outputSize, image = y + channel * g.inputSize
                    if pairs(kernelIndex: k, g) {
                        accumulatePair(rows, rows + outputSize, kernelIndex: k, g, image)
                        k += 2
                    } else {
                        accumulateRow(rows, kernelIndex: k, g, image)
                        k += 1
                    }
                }
            }
        }
    }

    /// Whether taps k and k + 1 write interleaved columns of the same rows: stride 2 along
    /// the width, dilation 1, k + 1 in the same kernel row, and both over the same inputs.
    private static func pairs(kernelIndex k: Int, _ g: ConvGeometry) -> Bool {
        let d2 = g.d2, kx = k % d2.kernel
        guard d2.stride == 2, d2.dilation == 1, kx + 1 < d2.kernel else { return false }
        let (first, second) = (innerRange(d2, kx), innerRange(d2, kx + 1))
        return first.lo == second.lo && first.hi == second.hi
    }

    /// `accumulateRow` for taps k and k + 1 at once (`pairs`): their values interleave into
    /// 32 consecutive floats of an image row, added as two vectors (one tap at a time, every
    /// other float, it was one scalar add per value).
    private static func accumulatePair(
        _ even: UnsafePointer<Float>, _ odd: UnsafePointer<Float>, kernelIndex k: Int, _ g: ConvGeometry,
        _ image: UnsafeMutablePointer<Float>
    ) {
        forEachRow(kernelIndex: k, g, image) { row, line, columns in
            let (first, second) = (even + row, odd + row)
            var ox = columns.lowerBound
            while ox + 16 <= columns.upperBound {
                nx_add_interleaved16(line + 2 * ox, load(first + ox), load(second + ox))
                ox += 16
            }
            while ox < columns.upperBound {
                line[2 * ox] += first[ox]
                line[2 * ox + 1] += second[ox]
                ox += 1
            }
        }
    }

    @inline(__always) private static func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    private static func accumulateRow(_ source: UnsafePointer<Float>, kernelIndex k: Int, _ g: ConvGeometry, _ image: UnsafeMutablePointer<Float>) {
        let stride = g.d2.stride
        forEachRow(kernelIndex: k, g, image) { row, line, columns in
            let values = source + row
            if stride == 1 {
                for ox in columns { line[ox] += values[ox] }
            } else {
                for ox in columns { line[ox * stride] += values[ox] }
            }
        }
    }

    /// `body(row, line, columns)` for each row of tap k's column-matrix row that lands in the
    /// image: `row` is where it starts in the column row, `line` the image row it adds to,
    /// already offset by the tap's column, and `columns` the row's positions that land.
    @inline(__always)
    private static func forEachRow(
        kernelIndex k: Int, _ g: ConvGeometry, _ image: UnsafeMutablePointer<Float>,
        _ body: (Int, UnsafeMutablePointer<Float>, Range<Int>) -> Void
    ) {
        let (d0, d1, d2) = (g.d0, g.d1, g.d2)
        let kz = k / (d1.kernel * d2.kernel), ky = (k / d2.kernel) % d1.kernel, kx = k % d2.kernel
        let (lo, hi, offset) = innerRange(d2, kx)
        guard hi > lo else { return }
        for oz in 0..<d0.output {
            let iz = oz * d0.stride - d0.padBegin + kz * d0.dilation
            guard iz >= 0, iz < d0.input else { continue }
            for oy in 0..<d1.output {
                let iy = oy * d1.stride - d1.padBegin + ky * d1.dilation
                guard iy >= 0, iy < d1.input else { continue }
                body((oz * d1.output + oy) * d2.output, image + (iz * d1.input + iy) * d2.input + offset, lo..<hi)
            }
        }
    }
}
