/// Where each full-resolution image pixel samples the stitched low-resolution output grid.
///
/// The rule: global output pixel `g` covers image pixels `stride*g ..< stride*(g+1)` and has
/// its centre at `stride*g + (stride-1)/2` (for stride 2: output pixel `i` of a tile covers
/// input pixels `offset+2i` and `offset+2i+1`, centre `offset+2i+0.5`). Image pixel `p` sits at
/// grid coordinate `u = (p - (stride-1)/2) / stride` and takes `(1-w)*grid[g0] + w*grid[g0+1]`
/// with `g0 = floor(u)`, `w = u - g0`. This is half-pixel ("align_corners=False") bilinear
/// resampling, as torch's `interpolate` and OpenCV's `resize` do. Before the first centre
/// (`u < 0`) and after the last one the nearest output is used (clamping). For stride 1,
/// `u = p` and the weights are exactly 0: the output is copied unchanged.
public struct BilinearTaps: Equatable, Sendable {
    /// Lower grid index, upper grid index (equal when clamped), weight of the upper one.
    public let lower: [Int]
    public let upper: [Int]
    public let weight: [Float]

    /// Taps for `count` image pixels over a grid of `gridCount` outputs at `stride`.
    public init(count: Int, gridCount: Int, stride: Int) {
        precondition(gridCount > 0 && stride > 0, "empty grid or stride")
        var lower = [Int](repeating: 0, count: count)
        var upper = [Int](repeating: 0, count: count)
        var weight = [Float](repeating: 0, count: count)
        let half = Double(stride - 1) / 2
        for p in 0..<count {
            let u = (Double(p) - half) / Double(stride)
            if u <= 0 {
                (lower[p], upper[p], weight[p]) = (0, 0, 0)
            } else if u >= Double(gridCount - 1) {
                (lower[p], upper[p], weight[p]) = (gridCount - 1, gridCount - 1, 0)
            } else {
                let g0 = Int(u.rounded(.down))
                let w = u - Double(g0)
                (lower[p], upper[p], weight[p]) = (g0, w == 0 ? g0 : g0 + 1, Float(w))
            }
        }
        self.lower = lower
        self.upper = upper
        self.weight = weight
    }

    /// The grid coordinate `u` of image pixel `p` before clamping (what the rule says).
    public static func gridCoordinate(of p: Int, stride: Int) -> Double {
        (Double(p) - Double(stride - 1) / 2) / Double(stride)
    }
}
