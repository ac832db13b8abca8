/// `cv2.GaussianBlur(src, (3, 3), 0)` on a float64 map: OpenCV's fixed 3-tap kernel
/// (0.25, 0.5, 0.25) for sigma 0, rows then columns, BORDER_REFLECT_101. The sums are formed
/// as OpenCV's symmetric filters form them (centre tap, then the paired outer taps).
enum GaussianBlur3x3 {
    /// `scratch` must hold width * height values; `source` and `destination` may not overlap.
    static func apply(
        _ source: UnsafeBufferPointer<Double>, width: Int, height: Int,
        into destination: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>
    ) {
        for y in 0..<height {
            let row = y * width
            for x in 0..<width {
                let left = source[row + ReflectBorder.index(x - 1, count: width)]
                let right = source[row + ReflectBorder.index(x + 1, count: width)]
                scratch[row + x] = 0.5 * source[row + x] + 0.25 * (left + right)
            }
        }
        for y in 0..<height {
            let row = y * width
            let above = ReflectBorder.index(y - 1, count: height) * width
            let below = ReflectBorder.index(y + 1, count: height) * width
            for x in 0..<width {
                destination[row + x] = 0.5 * scratch[row + x] + 0.25 * (scratch[above + x] + scratch[below + x])
            }
        }
    }
}
