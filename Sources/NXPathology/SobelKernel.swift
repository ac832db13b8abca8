/// The 1-D factors of OpenCV's Sobel kernels (`cv2.getDerivKernels(..., normalize=False)`):
/// integer binomial smoothing for order 0, and its differences for higher orders. A 2-D Sobel
/// is the outer product of the column factor and the row factor.
enum SobelKernel {
    /// Coefficients for derivative `order` and aperture `size`, built by OpenCV's own
    /// recurrence (imgproc deriv.cpp `getSobelKernels`) so every value is exactly OpenCV's.
    static func coefficients(order: Int, size: Int) -> [Int] {
        precondition(size % 2 == 1 && size > order && order >= 0, "Sobel aperture \(size) for order \(order)")
        if size == 1 { return [1] }
        if size == 3 {
            switch order {
            case 0: return [1, 2, 1]
            case 1: return [-1, 0, 1]
            default: return [1, -2, 1]
            }
        }
        var kernel = [Int](repeating: 0, count: size + 1)
        kernel[0] = 1
        for _ in 0..<(size - order - 1) {
            var previous = kernel[0]
            for j in 1...size {
                let next = kernel[j] + kernel[j - 1]
                kernel[j - 1] = previous
                previous = next
            }
        }
        for _ in 0..<order {
            var previous = -kernel[0]
            for j in 1...size {
                let next = kernel[j - 1] - kernel[j]
                kernel[j - 1] = previous
                previous = next
            }
        }
        return Array(kernel[0..<size])
    }
}
