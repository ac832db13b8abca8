import NXIR

/// ai.nx LayerNormalizationChannels (opset 1), float32: X [N, C, H, W] normalized over the
/// channel axis at every pixel, y = (x - mean_c) / sqrt(var_c + epsilon) * scale[c] + bias[c],
/// with scale and the optional bias of shape [C]. It is what PyTorch's
/// Transpose(NCHW->NHWC) -> LayerNormalization(axis -1) -> Transpose(NHWC->NCHW) computes,
/// without the two transposes: the optimizer rewrites that pattern to this op.
///
/// Pixels are contiguous in NCHW, so the statistics of 16 neighbouring pixels are computed at
/// once in the lanes of a vector while walking down the channels (stride H*W); blocks of 64
/// pixels keep four independent vectors in flight and their C x 64 slab in cache for the
/// three passes (sum, squared deviations, output).
///
/// With `output_pixel_block = 64` Y keeps its NCHW shape but is stored pixel-paneled, each
/// image's pixels in panels of 64 holding all channels, `[N][H·W/64][C][w]` (w = 64 but
/// for the last panel): the B panels of the pointwise convolution that reads it, which
/// then needs no packing (the optimizer's `blocked-mlp-hidden`, Spec/OPERATORS.md). A block
/// of 64 pixels is one panel, so only where each output row goes changes.
struct LayerNormalizationChannelsKernel: Kernel {
    let epsilon: Float
    let constantScale: FloatParameter?
    let constantBias: FloatParameter?
    let paneledOutput: Bool
    /// X and Y channel-blocked, `[N][C / 16][H·W][16]` (`input_channel_block` and
    /// `output_channel_block` = 16, set together).
    let channelBlocked: Bool

    init(_ context: KernelBuildContext) throws {
        epsilon = try context.float("epsilon", default: 1e-5)
        let pixelBlock = try context.int("output_pixel_block", default: 0)
        guard pixelBlock == 0 || pixelBlock == PackedGEMM.nr else {
            throw KernelError("output_pixel_block must be 0 or \(PackedGEMM.nr), is \(pixelBlock)")
        }
        paneledOutput = pixelBlock != 0
        let block = ChannelBlockReorderKernel.block
        let blocks = [try context.int("input_channel_block", default: 0), try context.int("output_channel_block", default: 0)]
        guard blocks == [0, 0] || blocks == [block, block] else {
            throw KernelError("input_channel_block and output_channel_block must both be 0 or both \(block), are \(blocks[0]) and \(blocks[1])")
        }
        channelBlocked = blocks[0] != 0
        if channelBlocked && paneledOutput { throw KernelError("a channel-blocked LayerNormalizationChannels cannot write pixel panels") }
        guard context.hasInput(1) else { throw KernelError("LayerNormalizationChannels needs a scale input") }
        constantScale = try context.constantInput(1).map { try FloatParameter($0, name: "scale") }
        constantBias = try context.constantInput(2).map { try FloatParameter($0, name: "bias") }
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        guard let x = inputs.first ?? nil else { throw KernelError("input X is missing") }
        guard x.dataType == .float32 else { throw KernelError("X must be float32, is \(x.dataType)") }
        guard x.rank == 4 else { throw KernelError("X must be 4-D [N, C, H, W], has shape \(x.shape)") }
        let (n, c) = (x.shape[0], x.shape[1])
        let pixels = x.shape[2] * x.shape[3]
        guard let scaleParameter = try constantScale ?? (inputs.count > 1 ? inputs[1] : nil).map({ try FloatParameter($0, name: "scale") }) else {
            throw KernelError("input scale is missing")
        }
        let biasParameter = try constantBias ?? (inputs.count > 2 ? inputs[2] : nil).map { try FloatParameter($0, name: "bias") }
        for (parameter, name) in [(scaleParameter, "scale"), (biasParameter, "bias")] {
            guard let parameter else { continue }
            guard parameter.values.count == c, parameter.shape.filter({ $0 != 1 }).count <= 1 else {
                throw KernelError("\(name) has shape \(parameter.shape), expected [\(c)] (the channels of X \(x.shape))")
            }
        }
        if channelBlocked && c % ChannelBlockReorderKernel.block != 0 {
            throw KernelError("a channel-blocked X needs a multiple of \(ChannelBlockReorderKernel.block) channels, has \(c)")
        }
        let (y, yData) = context.allocateFloats(x.shape)
        guard x.elementCount > 0 else { return [y] }
        let xData = x.storage.bytes.baseAddress!
        let epsilon = epsilon
        let scale = scaleParameter.values
        let bias = biasParameter?.values ?? [Float](repeating: 0, count: c)
        if channelBlocked {
            let groups = (pixels + 15) / 16
            scale.withUnsafeBufferPointer { scaleBuffer in
                bias.withUnsafeBufferPointer { biasBuffer in
                    let x = xData.assumingMemoryBound(to: Float.self)
                    context.parallelFor(n * groups, grain: max(1, 4096 / (16 * c))) { range in
                        for item in range {
                            let (image, group) = item.quotientAndRemainder(dividingBy: groups)
                            let first = group * 16, offset = image * c * pixels
                            Self.normalizeBlocked(
                                x + offset, yData + offset, blocks: c / 16, pixels: pixels, first: first, count: min(16, pixels - first),
                                epsilon: epsilon, scale: scaleBuffer.baseAddress!, bias: biasBuffer.baseAddress!)
                        }
                    }
                }
            }
            return [y]
        }
        // Work items: runs of 64 pixels (16 for small maps, so 7x7 and 14x14 still split over
        // threads); the last run of an image also takes the image's remainder.
        // A paneled Y's runs are its panels.
        let unit = pixels >= 256 || paneledOutput ? 64 : 16
        let runsPerImage = paneledOutput ? (pixels + unit - 1) / unit : max(1, pixels / unit)
        let paneled = paneledOutput
        scale.withUnsafeBufferPointer { scaleBuffer in
            bias.withUnsafeBufferPointer { biasBuffer in
                let scalePointer = scaleBuffer.baseAddress!, biasPointer = biasBuffer.baseAddress!
                context.parallelFor(n * runsPerImage, grain: max(1, 8192 / (unit * c))) { range in
                    for item in range {
                        let (image, run) = item.quotientAndRemainder(dividingBy: runsPerImage)
                        let start = run * unit
                        let end = run == runsPerImage - 1 ? pixels : start + unit
                        let x = xData + image * c * pixels * 4, y = UnsafeMutableRawPointer(yData + image * c * pixels)
                        if paneled {
                            Self.normalizePanel(
                                x, y + start * c * 4, channels: c, pixels: pixels, start: start, end: end, epsilon: epsilon,
                                scale: scalePointer, bias: biasPointer)
                        } else {
                            Self.normalizeRun(
                                x, y, channels: c, pixels: pixels, start: start, end: end, epsilon: epsilon, scale: scalePointer,
                                bias: biasPointer)
                        }
                    }
                }
            }
        }
        return [y]
    }

    /// One panel of a paneled Y, pixels start..<end (at most 64) of an image, into `panel`
    /// ([C][end - start]): a full panel in one block of 64; a last, partial one in blocks
    /// of 16 and then partial vectors, since a block reaching back over pixels already done
    /// would write into the previous panel.
    @inline(__always)
    static func normalizePanel(
        _ x: UnsafeRawPointer, _ panel: UnsafeMutableRawPointer, channels: Int, pixels: Int, start: Int, end: Int,
        epsilon: Float, scale: UnsafePointer<Float>, bias: UnsafePointer<Float>
    ) {
        let width = end - start
        let output = Output(base: panel - start * 4, stride: width)
        if width == 64 {
            normalize64(x, output, channels: channels, stride: pixels, first: start, epsilon: epsilon, scale: scale, bias: bias)
            return
        }
        var p = start
        while p + 16 <= end {
            normalize16(x, output, channels: channels, stride: pixels, first: p, epsilon: epsilon, scale: scale, bias: bias)
            p += 16
        }
        if p < end {
            normalizePartial(x, output, channels: channels, stride: pixels, first: p, count: end - p, epsilon: epsilon, scale: scale, bias: bias)
        }
    }

    /// Where Y's rows go: channel c's pixel p (as numbered in X) at `base + (c * stride + p)`
    /// floats; NCHW is X's own layout, a panel's base is shifted back by its first pixel.
    struct Output {
        let base: UnsafeMutableRawPointer
        let stride: Int
    }

    /// Pixels start..<end of one image: blocks of 64 and 16, then a last block of 16 that
    /// ends at `end` and overlaps pixels already done (recomputing them to the same values)
    /// rather than a slow partial vector; partial vectors only for runs under 16 pixels.
    @inline(__always)
    static func normalizeRun(
        _ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, channels: Int, pixels: Int, start: Int, end: Int, epsilon: Float,
        scale: UnsafePointer<Float>, bias: UnsafePointer<Float>
    ) {
        let y = Output(base: y, stride: pixels)
        var p = start
        while p + 64 <= end {
            normalize64(x, y, channels: channels, stride: pixels, first: p, epsilon: epsilon, scale: scale, bias: bias)
            p += 64
        }
        while p + 16 <= end {
            normalize16(x, y, channels: channels, stride: pixels, first: p, epsilon: epsilon, scale: scale, bias: bias)
            p += 16
        }
        if p < end {
            if end - start >= 16 {
                normalize16(x, y, channels: channels, stride: pixels, first: end - 16, epsilon: epsilon, scale: scale, bias: bias)
            } else {
                normalizePartial(x, y, channels: channels, stride: pixels, first: p, count: end - p, epsilon: epsilon, scale: scale, bias: bias)
            }
        }
    }

    /// 64 pixels starting at `first`, four vectors of 16 lanes.
    @inline(__always)
    static func normalize64(
        _ x: UnsafeRawPointer, _ y: Output, channels: Int, stride: Int, first: Int, epsilon: Float,
        scale: UnsafePointer<Float>, bias: UnsafePointer<Float>
    ) {
        typealias V = NormSIMD.Vector
        var s0 = V(), s1 = V(), s2 = V(), s3 = V()
        var offset = first
        for _ in 0..<channels {
            s0 += NormSIMD.load(x, offset)
            s1 += NormSIMD.load(x, offset &+ 16)
            s2 += NormSIMD.load(x, offset &+ 32)
            s3 += NormSIMD.load(x, offset &+ 48)
            offset &+= stride
        }
        let inverseCount = V(repeating: 1 / Float(channels))
        let m0 = s0 * inverseCount, m1 = s1 * inverseCount, m2 = s2 * inverseCount, m3 = s3 * inverseCount
        // Second pass: sums of d = x - mean (to correct the mean's rounding) and of d^2.
        var c0 = V(), c1 = V(), c2 = V(), c3 = V()
        var v0 = V(), v1 = V(), v2 = V(), v3 = V()
        offset = first
        for _ in 0..<channels {
            let d0 = NormSIMD.load(x, offset) - m0, d1 = NormSIMD.load(x, offset &+ 16) - m1
            let d2 = NormSIMD.load(x, offset &+ 32) - m2, d3 = NormSIMD.load(x, offset &+ 48) - m3
            c0 += d0
            c1 += d1
            c2 += d2
            c3 += d3
            v0 += d0 * d0
            v1 += d1 * d1
            v2 += d2 * d2
            v3 += d3 * d3
            offset &+= stride
        }
        c0 *= inverseCount
        c1 *= inverseCount
        c2 *= inverseCount
        c3 *= inverseCount
        // The output subtracts the rough mean then its correction (see NormSIMD.statistics).
        let e = V(repeating: epsilon), zero = V()
        let i0 = NormSIMD.inverseSquareRoot(NormSIMD.vmax(zero, v0 * inverseCount - c0 * c0) + e)
        let i1 = NormSIMD.inverseSquareRoot(NormSIMD.vmax(zero, v1 * inverseCount - c1 * c1) + e)
        let i2 = NormSIMD.inverseSquareRoot(NormSIMD.vmax(zero, v2 * inverseCount - c2 * c2) + e)
        let i3 = NormSIMD.inverseSquareRoot(NormSIMD.vmax(zero, v3 * inverseCount - c3 * c3) + e)
        offset = first
        var out = first
        for channel in 0..<channels {
            let g = V(repeating: scale[channel]), b = V(repeating: bias[channel])
            NormSIMD.store((NormSIMD.load(x, offset) - m0 - c0) * (i0 * g) + b, y.base, out)
            NormSIMD.store((NormSIMD.load(x, offset &+ 16) - m1 - c1) * (i1 * g) + b, y.base, out &+ 16)
            NormSIMD.store((NormSIMD.load(x, offset &+ 32) - m2 - c2) * (i2 * g) + b, y.base, out &+ 32)
            NormSIMD.store((NormSIMD.load(x, offset &+ 48) - m3 - c3) * (i3 * g) + b, y.base, out &+ 48)
            offset &+= stride
            out &+= y.stride
        }
    }

    /// 16 pixels starting at `first`, one vector; even and odd channels accumulate apart so
    /// two add chains run at once (this path serves the small 7x7 and 14x14 maps, where C is
    /// large).
    @inline(__always)
    static func normalize16(
        _ x: UnsafeRawPointer, _ y: Output, channels: Int, stride: Int, first: Int, epsilon: Float,
        scale: UnsafePointer<Float>, bias: UnsafePointer<Float>
    ) {
        typealias V = NormSIMD.Vector
        let inverseCount = V(repeating: 1 / Float(channels))
        let m = NormSIMD.stridedSum(x, start: first, stride: stride, count: channels) * inverseCount
        let (deviations, squares) = NormSIMD.stridedDeviations(x, start: first, stride: stride, count: channels, mean: m)
        let c = deviations * inverseCount
        let inverse = NormSIMD.inverseSquareRoot(NormSIMD.vmax(V(), squares * inverseCount - c * c) + V(repeating: epsilon))
        var offset = first
        var out = first
        for channel in 0..<channels {
            let value = (NormSIMD.load(x, offset) - m - c) * (inverse * V(repeating: scale[channel])) + V(repeating: bias[channel])
            NormSIMD.store(value, y.base, out)
            offset &+= stride
            out &+= y.stride
        }
    }

    /// `count` (< 16) pixels starting at `first`, with partial vectors (maps under 16 pixels).
    static func normalizePartial(
        _ x: UnsafeRawPointer, _ y: Output, channels: Int, stride: Int, first: Int, count: Int,
        epsilon: Float, scale: UnsafePointer<Float>, bias: UnsafePointer<Float>
    ) {
        typealias V = NormSIMD.Vector
        var s = V()
        var offset = first
        for _ in 0..<channels {
            s += NormSIMD.loadPartial(x, offset, count: count, fill: 0)
            offset &+= stride
        }
        let inverseCount = V(repeating: 1 / Float(channels))
        let m = s * inverseCount
        var c = V(), v = V()
        offset = first
        for _ in 0..<channels {
            let d = NormSIMD.loadPartial(x, offset, count: count, fill: 0) - m
            c += d
            v += d * d
            offset &+= stride
        }
        c *= inverseCount
        let inverse = NormSIMD.inverseSquareRoot(NormSIMD.vmax(V(), v * inverseCount - c * c) + V(repeating: epsilon))
        offset = first
        var out = first
        for channel in 0..<channels {
            let value = (NormSIMD.loadPartial(x, offset, count: count, fill: 0) - m - c) * (inverse * V(repeating: scale[channel])) + V(repeating: bias[channel])
            NormSIMD.storePartial(value, y.base, out, count: count)
            offset &+= stride
            out &+= y.stride
        }
    }

    func flops(inputs: [Tensor?], outputs: [Tensor]) -> Int { 8 * (inputs.first??.elementCount ?? 0) }
}
