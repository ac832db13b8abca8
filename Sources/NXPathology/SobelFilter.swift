/// `cv2.Sobel(src, cv2.CV_64F, dx, dy, ksize)` on a float32 map with BORDER_REFLECT_101,
/// bit for bit: OpenCV's separable filter runs the row factor first (a plain left-to-right sum
/// over the taps, in double) and then the column factor in its symmetric form (centre tap plus
/// paired taps `k * (below + above)`, or `k * (below - above)` for an antisymmetric factor).
/// Cost is O(N * ksize); the caller's buffers are reused, nothing is allocated per pixel.
struct SobelFilter {
    let size: Int
    let rowKernel: [Double]
    let columnKernel: [Double]

    /// Derivative order `dx` along x (columns) and `dy` along y (rows).
    init(dx: Int, dy: Int, size: Int) {
        self.size = size
        rowKernel = SobelKernel.coefficients(order: dx, size: size).map(Double.init)
        columnKernel = SobelKernel.coefficients(order: dy, size: size).map(Double.init)
    }

    /// Filters `source` (height x width) into `destination`; `rows` must hold width * height
    /// values and `line` at least max(width, height) + size - 1.
    func apply(
        _ source: UnsafeBufferPointer<Float>, width: Int, height: Int,
        into destination: UnsafeMutableBufferPointer<Double>,
        rows: UnsafeMutableBufferPointer<Double>, line: UnsafeMutableBufferPointer<Double>
    ) {
        let radius = size / 2
        guard let src = source.baseAddress, let dst = destination.baseAddress, let rowBuffer = rows.baseAddress,
            let padded = line.baseAddress
        else { return }
        rowKernel.withUnsafeBufferPointer { kx in
            for y in 0..<height {
                let input = src + y * width
                for offset in 0..<(width + 2 * radius) {
                    padded[offset] = Double(input[ReflectBorder.index(offset - radius, count: width)])
                }
                let output = rowBuffer + y * width
                for x in 0..<width { output[x] = 0 }
                // Tap-major order keeps OpenCV's per-pixel summation order (taps 0, 1, ...)
                // while the inner loop runs over contiguous pixels.
                for k in 0..<size {
                    let weight = kx[k]
                    let shifted = padded + k
                    for x in 0..<width { output[x] += weight * shifted[x] }
                }
            }
        }
        columnKernel.withUnsafeBufferPointer { ky in
            let centre = ky[radius]
            let antisymmetric = centre == 0 && ky[0] == -ky[size - 1]
            for y in 0..<height {
                let output = dst + y * width
                if antisymmetric {
                    for x in 0..<width { output[x] = 0 }
                } else {
                    let middle = rowBuffer + y * width
                    for x in 0..<width { output[x] = centre * middle[x] }
                }
                for k in 1...radius {
                    let weight = ky[radius + k]
                    let below = rowBuffer + ReflectBorder.index(y + k, count: height) * width
                    let above = rowBuffer + ReflectBorder.index(y - k, count: height) * width
                    if antisymmetric {
                        for x in 0..<width { output[x] += weight * (below[x] - above[x]) }
                    } else {
                        for x in 0..<width { output[x] += weight * (below[x] + above[x]) }
                    }
                }
            }
        }
    }
}
