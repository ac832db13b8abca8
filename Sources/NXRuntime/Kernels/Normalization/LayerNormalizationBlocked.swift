/// LayerNormalizationChannels on a channel-blocked X and Y, `[N][C / 16][H·W][16]` (the
/// optimizer's `channel-blocked-regions`): a pixel's channels are C / 16 vectors, one per
/// block, so the statistics reduce across the blocks and then across a vector's lanes, and
/// the scale and bias are one vector per block with no broadcast.
extension LayerNormalizationChannelsKernel {
    /// Pixels first..<first + count of one image; `x` and `y` at the image's start. Pixel by
    /// pixel, with the NCHW path's corrected two-pass statistics (the mean, then the squared
    /// deviations less the square of the deviations' mean), two blocks at a time so two add
    /// chains run at once, and one reduction across lanes per sum.
    static func normalizeBlocked(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, blocks: Int, pixels: Int, first: Int, count: Int,
        epsilon: Float, scale: UnsafePointer<Float>, bias: UnsafePointer<Float>
    ) {
        typealias V = NormSIMD.Vector
        let stride = pixels << 4, pairs = blocks / 2, odd = blocks % 2 == 1
        let inverseCount = 1 / Float(blocks << 4)
        for pixel in first..<(first + count) {
            let source = UnsafeRawPointer(x + (pixel << 4)), target = UnsafeMutableRawPointer(y + (pixel << 4))
            var s0 = V(), s1 = V()
            var offset = 0
            for _ in 0..<pairs {
                s0 += NormSIMD.load(source, offset)
                s1 += NormSIMD.load(source, offset &+ stride)
                offset &+= 2 &* stride
            }
            if odd { s0 += NormSIMD.load(source, offset) }
            let m = V(repeating: (s0 + s1).sum() * inverseCount)
            var c0 = V(), c1 = V(), v0 = V(), v1 = V()
            offset = 0
            for _ in 0..<pairs {
                let d0 = NormSIMD.load(source, offset) - m, d1 = NormSIMD.load(source, offset &+ stride) - m
                c0 += d0
                c1 += d1
                v0 += d0 * d0
                v1 += d1 * d1
                offset &+= 2 &* stride
            }
            if odd {
                let d = NormSIMD.load(source, offset) - m
                c0 += d
                v0 += d * d
            }
            let c = (c0 + c1).sum() * inverseCount
            let inverse = 1 / (max(0, (v0 + v1).sum() * inverseCount - c * c) + epsilon).squareRoot()
            let shift = m + V(repeating: c), factor = V(repeating: inverse)
            offset = 0
            for block in 0..<blocks {
                let value = (NormSIMD.load(source, offset) - shift) * (factor * NormSIMD.load(scale, block << 4)) + NormSIMD.load(bias, block << 4)
                NormSIMD.store(value, target, offset)
                offset &+= stride
            }
        }
    }
}
