import CPUHints

/// 3x3 stride-1 convolutions by Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray,
/// "Fast Algorithms for Convolutional Neural Networks", 2016):
/// `Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A` for each 2x2 output tile, from a 4x4 input tile d.
///
/// Written as 16 GEMMs, one per point ξ of the 4x4 transformed tile:
/// `M_ξ [M x tiles] = U_ξ [M x C] * V_ξ [C x tiles]`, with U = G g Gᵀ transformed once at
/// load. That is 16 multiply-adds per tile, channel and output channel where direct
/// convolution needs 36: 2.25x fewer. The transforms are additions only; the price is the
/// V and M buffers and a slightly larger rounding error (about 1e-6 relative, measured
/// against direct convolution in the tests).
///
/// Work is cut into blocks of whole tile rows, each block transformed, multiplied and
/// transformed back by one thread while its V and M are in cache. The input transform runs
/// 16 tiles at a time: 32 consecutive floats split into their even and odd columns give
/// the four tile columns.
enum WinogradConvolution {
    typealias Vector = SIMD16<Float>
    static let lanes = 16

    /// Fewer input channels per group make the 16 GEMMs too shallow to pay for the
    /// transforms; those convolutions run as one implicit GEMM (`TapConvolution`).
    static let minimumGroupChannels = 32

    static func applies(_ g: ConvGeometry, groupChannels: Int) -> Bool {
        g.rank == 2 && g.d1.kernel == 3 && g.d2.kernel == 3 && g.d1.stride == 1 && g.d2.stride == 1
            && g.d1.dilation == 1 && g.d2.dilation == 1 && groupChannels >= minimumGroupChannels
    }

    /// U = G g Gᵀ for each (group, output, input channel), stored [group][ξ][M/group][C/group].
    static func transformWeights(_ w: UnsafePointer<Float>, outputs: Int, groupChannels: Int, group: Int) -> [Float] {
        let groupOutputs = outputs / group
        let matrix = groupOutputs * groupChannels
        return [Float](unsafeUninitializedCapacity: max(1, 16 * outputs * groupChannels)) { buffer, initialized in
            for gi in 0..<group {
                let destination = buffer.baseAddress! + gi * 16 * matrix
                for m in 0..<groupOutputs {
                    for c in 0..<groupChannels {
                        let g = w + ((gi * groupOutputs + m) * groupChannels + c) * 9
                        // t = G g (4x3, row by row), then U = t Gᵀ (4x4).
                        let (r0, r1, r2) = ((g[0], g[1], g[2]), (g[3], g[4], g[5]), (g[6], g[7], g[8]))
                        let at = destination + m * groupChannels + c
                        func emit(_ row: Int, _ t: (Float, Float, Float)) {
                            at[(row * 4) * matrix] = t.0
                            at[(row * 4 + 1) * matrix] = 0.5 * (t.0 + t.1 + t.2)
                            at[(row * 4 + 2) * matrix] = 0.5 * (t.0 - t.1 + t.2)
                            at[(row * 4 + 3) * matrix] = t.2
                        }
                        emit(0, r0)
                        emit(1, (0.5 * (r0.0 + r1.0 + r2.0), 0.5 * (r0.1 + r1.1 + r2.1), 0.5 * (r0.2 + r1.2 + r2.2)))
                        emit(2, (0.5 * (r0.0 - r1.0 + r2.0), 0.5 * (r0.1 - r1.1 + r2.1), 0.5 * (r0.2 - r1.2 + r2.2)))
                        emit(3, r2)
                    }
                }
            }
            initialized = max(1, 16 * outputs * groupChannels)
        }
    }

    /// Y = conv(X) for a batch; `weights` holds each group's 16 transformed matrices, packed.
    static func run(
        x: UnsafePointer<Float>, weights: [PackedGEMM.PackedA], bias: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, batch: Int, channels: Int, outputChannels: Int, group: Int,
        geometry g: ConvGeometry, activation: UnaryFunction?, inputActivation: InputActivation? = nil,
        context: ExecutionContext
    ) {
        let shape = Shape(g, groupChannels: channels / group, groupOutputs: outputChannels / group, threads: context.threads)
        let padded = context.allocateFloats([shape.groupChannels * shape.plane + 2 * lanes])
        withExtendedLifetime(padded.tensor) {
            for n in 0..<batch {
                for gi in 0..<group {
                    let source = x + (n * channels + gi * shape.groupChannels) * g.inputSize
                    ZeroPaddedCopy.copy(
                        source, channels: shape.groupChannels, height: shape.inputHeight, width: shape.inputWidth, top: shape.padTop,
                        left: shape.padLeft, paddedHeight: shape.paddedHeight, paddedWidth: shape.paddedWidth, slack: 2 * lanes,
                        into: padded.data, inputActivation: inputActivation, firstChannel: gi * shape.groupChannels, context: context)
                    let output = y + (n * outputChannels + gi * shape.groupOutputs) * shape.outputSize
                    let groupBias = bias.map { $0 + gi * shape.groupOutputs }
                    // Blocks are claimed one at a time: with fixed shares, a core the host
                    // slowed kept the other waiting. A small image is one block, whose GEMMs
                    // the threads split by rows instead: cut in two, its GEMMs would be
                    // narrower than the kernel's 64 columns.
                    let gemmContext = shape.blockCount == 1 ? context : context.singleThreaded()
                    let blocks = shape.blockCount == 1 ? context.singleThreaded() : context
                    blocks.parallelForEach(shape.blockCount) { block in
                        ScratchPool.shared.withFloats(16 * (shape.groupChannels + shape.groupOutputs) * shape.blockStride + lanes) { scratch in
                            let v = scratch
                            let m = scratch + 16 * shape.groupChannels * shape.blockStride
                            let firstTileRow = block * shape.blockTileRows
                            let tileRows = min(shape.blockTileRows, shape.tilesY - firstTileRow)
                            let tiles = tileRows * shape.tilesX
                            transformInput(UnsafePointer(padded.data), shape, firstTileRow: firstTileRow, tileRows: tileRows, into: v)
                            for point in 0..<16 {
                                PackedGEMM.multiply(
                                    weights[gi * 16 + point], b: v + point * shape.groupChannels * shape.blockStride,
                                    ldb: shape.blockStride, n: tiles, c: m + point * shape.groupOutputs * shape.blockStride,
                                    ldc: shape.blockStride, context: gemmContext)
                            }
                            transformOutput(
                                m, shape, firstTileRow: firstTileRow, tileRows: tileRows, bias: groupBias, activation: activation,
                                into: output)
                        }
                    }
                }
            }
        }
    }

    /// Sizes of one group's work.
    struct Shape {
        let groupChannels: Int, groupOutputs: Int
        let outputHeight: Int, outputWidth: Int, outputSize: Int
        let tilesY: Int, tilesX: Int
        /// The padded image: zero borders (the conv's pads, then enough on the bottom and
        /// right for whole tiles and whole 16-tile vectors).
        let paddedWidth: Int, paddedHeight: Int, plane: Int
        let padTop: Int, padLeft: Int, inputHeight: Int, inputWidth: Int
        let blockTileRows: Int, blockCount: Int
        /// Row stride of V and M: a block's tiles plus one vector of slack, which absorbs the
        /// lanes the input transform writes past a block's last tile.
        let blockStride: Int

        init(_ g: ConvGeometry, groupChannels: Int, groupOutputs: Int, threads: Int) {
            self.groupChannels = groupChannels
            self.groupOutputs = groupOutputs
            outputHeight = g.d1.output
            outputWidth = g.d2.output
            outputSize = outputHeight * outputWidth
            tilesY = (outputHeight + 1) / 2
            tilesX = (outputWidth + 1) / 2
            let vectorTiles = (tilesX + lanes - 1) / lanes * lanes
            paddedWidth = 2 * vectorTiles + 2 + 2 * lanes
            paddedHeight = 2 * tilesY + 2
            plane = paddedWidth * paddedHeight
            padTop = g.d1.padBegin
            padLeft = g.d2.padBegin
            inputHeight = g.d1.input
            inputWidth = g.d2.input
            // About 256 tiles a block (V and M then take 16 x (C + M) x 1 KiB), and a
            // multiple of the thread count of blocks, so every thread stays busy; an image
            // of fewer such blocks than threads is one block (its GEMMs split by rows).
            let bySize = (tilesY + max(1, 256 / max(1, tilesX)) - 1) / max(1, 256 / max(1, tilesX))
            let wanted = bySize < threads ? 1 : (bySize + threads - 1) / threads * threads
            blockTileRows = max(1, (tilesY + wanted - 1) / wanted)
            blockCount = (tilesY + blockTileRows - 1) / blockTileRows
            blockStride = blockTileRows * tilesX + lanes
        }
    }

    /// Columns 0-3 of 16 tiles from one input row at `p` (tile t's column j at p[2t + j]):
    /// the even and odd floats of the 32 at p, then of the 32 at p + 2.
    @inline(__always)
    private static func inputRow(_ p: UnsafePointer<Float>) -> (Vector, Vector, Vector, Vector) {
        let (a, b, c, d) = (load(p), load(p + 16), load(p + 2), load(p + 18))
        return (nx_even16(a, b), nx_odd16(a, b), nx_even16(c, d), nx_odd16(c, d))
    }

    @inline(__always)
    private static func load(_ pointer: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(pointer).loadUnaligned(as: Vector.self)
    }

    /// V_ξ[c][tile] = (Bᵀ d B)_ξ for the block's tiles, 16 tiles at a time.
    static func transformInput(
        _ padded: UnsafePointer<Float>, _ s: Shape, firstTileRow: Int, tileRows: Int, into v: UnsafeMutablePointer<Float>
    ) {
        let pointStride = s.groupChannels * s.blockStride
        let width = s.paddedWidth
        for c in 0..<s.groupChannels {
            let image = padded + c * s.plane
            let row = v + c * s.blockStride
            for tileRow in 0..<tileRows {
                let top = image + 2 * (firstTileRow + tileRow) * width
                var tx = 0
                while tx < s.tilesX {
                    let p = top + 2 * tx
                    // d[k][j]: input row k, column j of 16 tiles (even/odd columns of 32 floats).
                    let d0 = inputRow(p), d1 = inputRow(p + width), d2 = inputRow(p + 2 * width), d3 = inputRow(p + 3 * width)
                    // Rows of Bᵀ d: d0 - d2, d1 + d2, d2 - d1, d1 - d3.
                    let out = row + tileRow * s.tilesX + tx
                    emitInputRow((d0.0 - d2.0, d0.1 - d2.1, d0.2 - d2.2, d0.3 - d2.3), out, pointStride, 0)
                    emitInputRow((d1.0 + d2.0, d1.1 + d2.1, d1.2 + d2.2, d1.3 + d2.3), out, pointStride, 1)
                    emitInputRow((d2.0 - d1.0, d2.1 - d1.1, d2.2 - d1.2, d2.3 - d1.3), out, pointStride, 2)
                    emitInputRow((d1.0 - d3.0, d1.1 - d3.1, d1.2 - d3.2, d1.3 - d3.3), out, pointStride, 3)
                    tx += lanes
                }
            }
        }
    }

    /// Row `i` of (Bᵀ d) B from row `i` of Bᵀ d: t0 - t2, t1 + t2, t2 - t1, t1 - t3.
    @inline(__always)
    private static func emitInputRow(
        _ t: (Vector, Vector, Vector, Vector), _ out: UnsafeMutablePointer<Float>, _ pointStride: Int, _ i: Int
    ) {
        store(t.0 - t.2, out + (4 * i) * pointStride)
        store(t.1 + t.2, out + (4 * i + 1) * pointStride)
        store(t.2 - t.1, out + (4 * i + 2) * pointStride)
        store(t.1 - t.3, out + (4 * i + 3) * pointStride)
    }

    @inline(__always)
    private static func store(_ value: Vector, _ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: Vector.self)
    }

    /// Y tiles = Aᵀ M A (+ bias), then the activation over the block's output rows.
    static func transformOutput(
        _ m: UnsafePointer<Float>, _ s: Shape, firstTileRow: Int, tileRows: Int, bias: UnsafePointer<Float>?,
        activation: UnaryFunction?, into y: UnsafeMutablePointer<Float>
    ) {
        let pointStride = s.groupOutputs * s.blockStride
        let firstRow = 2 * firstTileRow
        let lastRow = min(s.outputHeight, 2 * (firstTileRow + tileRows))
        for o in 0..<s.groupOutputs {
            let plane = y + o * s.outputSize
            let offset = Vector(repeating: bias?[o] ?? 0)
            for tileRow in 0..<tileRows {
                let oy = 2 * (firstTileRow + tileRow)
                let twoRows = oy + 1 < s.outputHeight
                var tx = 0
                while tx < s.tilesX {
                    let at = m + o * s.blockStride + tileRow * s.tilesX + tx
                    @inline(__always) func point(_ index: Int) -> Vector {
                        UnsafeRawPointer(at + index * pointStride).loadUnaligned(as: Vector.self)
                    }
                    // Rows of Aᵀ M: M0 + M1 + M2 and M1 - M2 - M3, column by column.
                    let (p0, p1, p2, p3) = (point(0), point(1), point(2), point(3))
                    let (p4, p5, p6, p7) = (point(4), point(5), point(6), point(7))
                    let (p8, p9, p10, p11) = (point(8), point(9), point(10), point(11))
                    let (p12, p13, p14, p15) = (point(12), point(13), point(14), point(15))
                    let s00 = p0 + p4 + p8, s01 = p1 + p5 + p9, s02 = p2 + p6 + p10, s03 = p3 + p7 + p11
                    let s10 = p4 - p8 - p12, s11 = p5 - p9 - p13, s12 = p6 - p10 - p14, s13 = p7 - p11 - p15
                    let y00 = s00 + s01 + s02 + offset, y01 = s01 - s02 - s03 + offset
                    let y10 = s10 + s11 + s12 + offset, y11 = s11 - s12 - s13 + offset
                    let count = min(lanes, s.tilesX - tx)
                    let top = plane + oy * s.outputWidth
                    if count == lanes, 2 * (tx + lanes) <= s.outputWidth, twoRows {
                        // 16 whole tiles: each output row's 32 floats interleaved in registers
                        // and stored as two vectors (lane by lane, these stores took as long
                        // as the whole output transform's arithmetic).
                        nx_store_interleaved16(top + 2 * tx, y00, y01)
                        nx_store_interleaved16(top + s.outputWidth + 2 * tx, y10, y11)
                        tx += lanes
                        continue
                    }
                    for lane in 0..<count {
                        let ox = 2 * (tx + lane)
                        top[ox] = y00[lane]
                        if ox + 1 < s.outputWidth { top[ox + 1] = y01[lane] }
                        if twoRows {
                            top[s.outputWidth + ox] = y10[lane]
                            if ox + 1 < s.outputWidth { top[s.outputWidth + ox + 1] = y11[lane] }
                        }
                    }
                    tx += lanes
                }
            }
            if let activation {
                let start = plane + firstRow * s.outputWidth
                activation.map(start, start, count: (lastRow - firstRow) * s.outputWidth)
            }
        }
    }
}
