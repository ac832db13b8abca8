/// Depthwise 2-D convolution with unit strides and dilations on a channel-blocked X and Y,
/// `[N][C / 16][H·W][16]` (the optimizer's `channel-blocked-regions`), with the weight
/// packed at load as `[C / 16][kh·kw][16]`.
///
/// In this order a vector holds 16 channels of one pixel, so a tap is one FMA of a weight
/// vector with an input vector, whatever the image's width: ConvNeXt's 14x14 and 7x7 maps
/// no longer waste lanes on 16-pixel rows as the NCHW kernel does. Each block's plane is
/// copied into a zero-bordered scratch plane (no bounds checks in the taps); each output
/// row is done 8 pixels at a time, eight accumulators over every tap.
enum BlockedDepthwiseConv2D {
    typealias Vector = SIMD16<Float>
    /// The channels of one vector: the blocked layout every kernel of a region shares.
    static let block = ChannelPanelGEMM.channelBlock

    /// The weight [C, 1, kh, kw] as [C / 16][kh·kw][16].
    static func packWeights(_ weight: UnsafePointer<Float>, channels: Int, taps: Int) -> [Float] {
        var packed = [Float](repeating: 0, count: channels * taps)
        for c in 0..<channels {
            for t in 0..<taps { packed[(c / block * taps + t) * block + c % block] = weight[c * taps + t] }
        }
        return packed
    }

    static func run(
        x: UnsafePointer<Float>, packedWeights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
        batch: Int, channels: Int, geometry g: ConvGeometry, context: ExecutionContext
    ) {
        let rows = g.d1, columns = g.d2
        let paddedHeight = rows.input + rows.padBegin + rows.padEnd, paddedWidth = columns.input + columns.padBegin + columns.padEnd
        let taps = rows.kernel * columns.kernel
        let inputPlane = rows.input * columns.input * block, outputPlane = rows.output * columns.output * block
        let planes = batch * channels / block
        context.parallelFor(planes, grain: max(1, 32768 / max(1, rows.output * columns.output * taps))) { range in
            ScratchPool.shared.withFloats(paddedHeight * paddedWidth * block) { scratch in
                // The borders are zeroed once: every plane overwrites the same interior.
                LinearSupport.fill(scratch, paddedHeight * paddedWidth * block, 0)
                for plane in range {
                    let channelBlock = plane % (channels / block)
                    let source = x + plane * inputPlane
                    for iy in 0..<rows.input {
                        let target = scratch + ((iy + rows.padBegin) * paddedWidth + columns.padBegin) * block
                        (target).update(from: source + iy * columns.input * block, count: columns.input * block)
                    }
                    let w = packedWeights + channelBlock * taps * block
                    let b = bias.map { UnsafeRawPointer($0 + channelBlock * block).loadUnaligned(as: Vector.self) } ?? Vector()
                    let out = y + plane * outputPlane
                    for oy in 0..<rows.output {
                        var ox = 0
                        while ox < columns.output {
                            let count = min(8, columns.output - ox)
                            let window = UnsafePointer(scratch + (oy * paddedWidth + ox) * block)
                            let target = out + (oy * columns.output + ox) * block
                            let kernel = (rows.kernel, columns.kernel, paddedWidth)
                            switch count {
                            case 8: tile(TileCount8.self, window, w, b, target, kernel)
                            case 7: tile(TileCount7.self, window, w, b, target, kernel)
                            case 6: tile(TileCount6.self, window, w, b, target, kernel)
                            case 5: tile(TileCount5.self, window, w, b, target, kernel)
                            case 4: tile(TileCount4.self, window, w, b, target, kernel)
                            case 3: tile(TileCount3.self, window, w, b, target, kernel)
                            case 2: tile(TileCount2.self, window, w, b, target, kernel)
                            default: tile(TileCount1.self, window, w, b, target, kernel)
                            }
                            ox += count
                        }
                    }
                }
            }
        }
    }

    /// `Pixels.value` consecutive outputs of a row: bias plus, over every tap, the tap's
    /// weight vector times the input vector it meets. Unused accumulators compile away.
    @inline(__always)
    private static func tile<Pixels: TileCount>(
        _: Pixels.Type, _ window: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ bias: Vector,
        _ y: UnsafeMutablePointer<Float>, _ kernel: (height: Int, width: Int, paddedWidth: Int)
    ) {
        let count = Pixels.value
        var a0 = bias, a1 = bias, a2 = bias, a3 = bias, a4 = bias, a5 = bias, a6 = bias, a7 = bias
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> Vector { UnsafeRawPointer(p).loadUnaligned(as: Vector.self) }
        var tap = w
        for ky in 0..<kernel.height {
            var p = window + ky * kernel.paddedWidth * block
            for _ in 0..<kernel.width {
                let k = load(tap)
                a0.addProduct(k, load(p))
                if count > 1 { a1.addProduct(k, load(p + 16)) }
                if count > 2 { a2.addProduct(k, load(p + 32)) }
                if count > 3 { a3.addProduct(k, load(p + 48)) }
                if count > 4 { a4.addProduct(k, load(p + 64)) }
                if count > 5 { a5.addProduct(k, load(p + 80)) }
                if count > 6 { a6.addProduct(k, load(p + 96)) }
                if count > 7 { a7.addProduct(k, load(p + 112)) }
                tap += block
                p += block
            }
        }
        @inline(__always) func store(_ v: Vector, _ j: Int) {
            guard j < count else { return }
            UnsafeMutableRawPointer(y + j * block).storeBytes(of: v, as: Vector.self)
        }
        store(a0, 0); store(a1, 1); store(a2, 2); store(a3, 3); store(a4, 4); store(a5, 5); store(a6, 6); store(a7, 7)
    }
}
