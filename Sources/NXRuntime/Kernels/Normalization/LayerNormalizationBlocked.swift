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
        let stride = pixels << 4
        let inverseCount = 1 / Float(blocks << 4)
        for pixel in first..<(first + count) {
            let source = UnsafeRawPointer(x + (pixel << 4)), target = UnsafeMutableRawPointer(y + (pixel << 4))
            let m = V(repeating: NormSIMD.stridedSum(source, start: 0, stride: stride, count: blocks).sum() * inverseCount)
            let (deviations, squares) = NormSIMD.stridedDeviations(source, start: 0, stride: stride, count: blocks, mean: m)
            let c = deviations.sum() * inverseCount
            let inverse = 1 / (max(0, squares.sum() * inverseCount - c * c) + epsilon).squareRoot()
            let shift = m + V(repeating: c), factor = V(repeating: inverse)
            var offset = 0
            for block in 0..<blocks {
                let value = (NormSIMD.load(source, offset) - shift) * (factor * NormSIMD.load(scale, block << 4)) + NormSIMD.load(bias, block << 4)
                NormSIMD.store(value, target, offset)
                offset &+= stride
            }
        }
    }
}
