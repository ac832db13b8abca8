/// `cv2.normalize(src, None, alpha=0, beta=1, norm_type=cv2.NORM_MINMAX, dtype=cv2.CV_32F)`,
/// bit for bit with OpenCV 4.x/5.x on x86-64: maps the minimum to 0 and the maximum to 1, and
/// a constant map (range not above DBL_EPSILON) to all zeros.
enum MinMaxNormalization {
    /// OpenCV's scale and shift for a CV_32F destination: both rounded to float, and the shift
    /// computed in float as `(float)dmin - (float)(smin * scale)` (imgproc `cv::normalize`).
    static func coefficients(minimum: Double, maximum: Double) -> (scale: Float, shift: Float) {
        let range = maximum - minimum
        let scale = Float(1.0 * (range > Double.ulpOfOne ? 1.0 / range : 0))
        let shift = Float(0) - Float(minimum * Double(scale))
        return (scale, shift)
    }

    /// float32 to float32. OpenCV's `convertTo` computes `fma(x, scale, shift)` in float (its
    /// AVX2 path, the one pip's wheels take on x86-64), so the product is not rounded apart.
    static func normalize(_ source: UnsafeBufferPointer<Float>, into destination: UnsafeMutableBufferPointer<Float>) {
        guard let first = source.first else { return }
        var minimum = first, maximum = first
        for value in source {
            minimum = Swift.min(minimum, value)
            maximum = Swift.max(maximum, value)
        }
        let (scale, shift) = coefficients(minimum: Double(minimum), maximum: Double(maximum))
        for index in source.indices {
            destination[index] = shift.addingProduct(source[index], scale)
        }
    }

    /// float64 to float32. Here OpenCV computes `x * scale + shift` in double (product rounded,
    /// then sum rounded) and rounds the result to float.
    static func normalize(_ source: UnsafeBufferPointer<Double>, into destination: UnsafeMutableBufferPointer<Float>) {
        guard let first = source.first else { return }
        var minimum = first, maximum = first
        for value in source {
            minimum = Swift.min(minimum, value)
            maximum = Swift.max(maximum, value)
        }
        let (scale, shift) = coefficients(minimum: minimum, maximum: maximum)
        let scale64 = Double(scale), shift64 = Double(shift)
        for index in source.indices {
            let product = source[index] * scale64
            destination[index] = Float(product + shift64)
        }
    }
}
