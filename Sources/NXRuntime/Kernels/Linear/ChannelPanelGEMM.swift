import CPUHints

/// `C [M, N] = A [M, K] * B [K, N]` for pointwise convolutions on small images, where N
/// (pixels) is narrow and M (output channels) wide: ConvNeXt's 14x14 and 7x7 stages.
///
/// Why a second GEMM: `PackedGEMM` runs vectors along N in 64-column panels, so N = 49
/// and N = 196 would pad to 64 and 256, and its tiles would stream a weight too large for
/// L2 once per panel of columns. Here vectors run along M: the weight is packed at load in
/// 64-channel panels, the micro-kernel keeps a 6-pixel x 64-channel tile in 24 registers
/// and broadcasts 6 pixels of B per step (B is packed once per call in 6-pixel tiles, the
/// last one partial). The tile comes out pixel-major, so each group of channel panels
/// gathers its tiles in a small pixel-major scratch and transposes it into C (16x16 blocks
/// in registers) before the epilogue, while its rows are in cache.
enum ChannelPanelGEMM {
    typealias Vector = SIMD16<Float>
    /// Channels per panel (four vectors), pixels per tile, depth per K block (a 32 KiB panel
    /// block stays in L1 while every pixel tile passes over it).
    static let mr = 64, nr = 6, kc = 128
    /// Channels per vector of a channel-blocked B or C.
    static let channelBlock = 16

    /// Whether outputs of this many pixels run faster here than in PackedGEMM. Measured on
    /// ConvNeXt-T's pointwise shapes, one thread, in the network: 49 and 196 pixels run at
    /// 140-160 GFLOP/s here against 80-130 there; at 784 pixels and more PackedGEMM wins
    /// (this kernel's transpose and its B reads cost more as K shrinks relative to N).
    static func suits(pixels: Int) -> Bool { pixels <= 320 }

    /// A [M, K] packed as [K block][64-channel panel][k][64].
    typealias PackedA = PackedPanels<Panels>
    enum Panels: PanelShape {
        static let rows = ChannelPanelGEMM.mr, depth = ChannelPanelGEMM.kc
    }

    /// C = A * B (or C += A * B when `accumulate`), then `epilogue` on C's rows.
    ///
    /// `blockedB`: B is stored channel-blocked, [K / 16][N][16] (`ldb` unused; K a multiple
    /// of 16), and is read in place instead of packed. `blockedC`: C is written
    /// channel-blocked, [M / 16][N][16] (`ldc` unused; M a multiple of 16), straight from the
    /// micro-kernel's registers with no transpose; the epilogue may then hold a bias per
    /// row, a residual (stored blocked too) and an activation, and `accumulate` must be
    /// false. The optimizer puts the tensor between two pointwise convolutions in this
    /// layout, and whole regions of small images (Spec/OPERATORS.md, `blocked-mlp-hidden`,
    /// `channel-blocked-regions`).
    static func multiply(
        _ a: PackedA, b: UnsafePointer<Float>, ldb: Int, n: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool = false, epilogue: GEMMEpilogue = GEMMEpilogue(), blockedB: Bool = false, blockedC: Bool = false,
        context: ExecutionContext
    ) {
        guard a.m > 0, n > 0 else { return }
        precondition(!blockedC || (!accumulate && a.m % 16 == 0), "blocked C is not accumulated into and has whole 16-channel blocks")
        precondition(!blockedB || a.k % 16 == 0, "blocked B needs K a multiple of 16")
        if a.k == 0 {
            for row in 0..<a.m where !accumulate { LinearSupport.fill(c + row * ldc, n, 0) }
            epilogue.apply(c, ldc: ldc, rows: 0..<a.m, columns: 0..<n)
            return
        }
        epilogue.withTileFinish(Specialized(
            a: a, b: b, ldb: ldb, n: n, c: c, ldc: ldc, accumulate: accumulate, epilogue: epilogue, blockedB: blockedB,
            blockedC: blockedC, context: context), c: c)
    }

    private struct Specialized: TileFinishVisitor {
        let a: PackedA, b: UnsafePointer<Float>, ldb: Int, n: Int, c: UnsafeMutablePointer<Float>, ldc: Int
        let accumulate: Bool, epilogue: GEMMEpilogue, blockedB: Bool, blockedC: Bool, context: ExecutionContext
        func visit<F: FloatVectorFunction>(_ finish: TileFinish<F>?) {
            if blockedB {
                multiply(
                    BlockedSteps.self, a, b: b, ldb: ldb, n: n, c: c, ldc: ldc, accumulate: accumulate, finish: finish,
                    after: epilogue, blockedC: blockedC, context: context)
            } else {
                multiply(
                    PackedSteps.self, a, b: b, ldb: ldb, n: n, c: c, ldc: ldc, accumulate: accumulate, finish: finish,
                    after: epilogue, blockedC: blockedC, context: context)
            }
        }
    }

    /// Where the micro-kernel finds B's value for pixel i at step k of a tile: `pixel` floats
    /// apart within a step, `step` floats from one step to the next, and `group` floats from
    /// one 16-step group to the next (given at run time when it depends on N).
    protocol BSteps {
        static var pixel: Int { get }
        static var step: Int { get }
    }
    /// B packed per call: [K block][tile][k][8].
    enum PackedSteps: BSteps {
        static var pixel: Int { 1 }
        static var step: Int { tileStride }
    }
    /// B channel-blocked: [K / 16][N][16].
    enum BlockedSteps: BSteps {
        static var pixel: Int { 16 }
        static var step: Int { 1 }
    }

    /// `finish` runs on each transposed 16x16 block in registers; `after` (the whole
    /// epilogue) on C's rows once stored when `finish` is nil.
    private static func multiply<Steps: BSteps, F: FloatVectorFunction>(
        _: Steps.Type, _ a: PackedA, b: UnsafePointer<Float>, ldb: Int, n: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool, finish: TileFinish<F>?, after epilogue: GEMMEpilogue, blockedC: Bool, context: ExecutionContext
    ) {
        let serial = a.m * n * a.k < SGEMM.parallelThreshold
        let loops = serial ? context.singleThreaded() : context
        let tiles = (n + nr - 1) / nr
        let items = workItems(panels: a.panels, tiles: tiles, threads: loops.threads)
        // B is packed once for all threads (each would otherwise pack all of it; at K = 1536
        // that is a tenth of the work), split by rows of K; a blocked B is read as it is.
        if Steps.self == BlockedSteps.self {
            runItems(BTiles(blocked: b, n: n))
            return
        }
        ScratchPool.shared.withFloats(a.k * tiles * tileStride) { packedB in
            loops.parallelFor(a.k, grain: 64) { rows in
                packB(b, ldb: ldb, rows: rows, k: a.k, n: n, into: packedB)
            }
            runItems(BTiles(packed: packedB, tiles: tiles))
        }

        // Each work item (channel panels by pixel tiles), claimed by whichever thread is
        // free, runs block by block of K into a pixel-major scratch small enough to stay in
        // L2, and is transposed into its part of C right after its last block; or, for a
        // blocked C, into C itself, finished in place.
        func runItems(_ source: BTiles) {
            let packedA = a.values.pointer
            loops.parallelForEach(items.count) { index in
                let (panels, tileRange) = (items[index].panels, items[index].tiles)
                if blockedC {
                    let target = OutputTiles(
                        base: c + panels.lowerBound * mr * n + tileRange.lowerBound * nr * 16, panel: mr * n, tile: nr * 16,
                        pixel: 16, vector: 16 * n, blocked: true)
                    for k0 in stride(from: 0, to: a.k, by: kc) {
                        multiplyBlock(Steps.self, a, packedA, panels: panels, k0: k0, b: source, tiles: tileRange, n: n, into: target)
                    }
                    let columns = (tileRange.lowerBound * nr)..<min(n, tileRange.upperBound * nr)
                    finishBlocked(c, n: n, channelBlocks: (panels.lowerBound * mr / 16)..<(min(a.m, panels.upperBound * mr) / 16),
                        columns: columns, finish: finish)
                    return
                }
                ScratchPool.shared.withFloats(tileRange.count * nr * panels.count * mr) { scratch in
                    let width = panels.count * mr
                    let target = OutputTiles(base: scratch, panel: mr, tile: nr * width, pixel: width, vector: 16)
                    for k0 in stride(from: 0, to: a.k, by: kc) {
                        multiplyBlock(Steps.self, a, packedA, panels: panels, k0: k0, b: source, tiles: tileRange, n: n, into: target)
                    }
                    let rows = (panels.lowerBound * mr)..<min(a.m, panels.upperBound * mr)
                    let columns = (tileRange.lowerBound * nr)..<min(n, tileRange.upperBound * nr)
                    transpose(
                        scratch, width: width, rows: rows, columns: columns, into: c, ldc: ldc,
                        accumulate: accumulate, finish: finish, after: epilogue)
                }
            }
        }
    }

    /// Where a tile of B starts: `base + k0 / kc * block + tile * self.tile` for a blocked B
    /// (K blocks are whole 16-channel groups), `base + k0 * packedTiles * tileStride + tile *
    /// depth * tileStride` for a packed one; `group` is BSteps' distance between 16-step groups.
    struct BTiles {
        let base: UnsafePointer<Float>
        let group: Int, tile: Int, block: Int, packedTiles: Int

        init(packed: UnsafeMutablePointer<Float>, tiles: Int) {
            (base, group, tile, block, packedTiles) = (UnsafePointer(packed), 16 * tileStride, 0, 0, tiles)
        }

        init(blocked: UnsafePointer<Float>, n: Int) {
            (base, group, tile, block, packedTiles) = (blocked, 16 * n, nr * 16, kc * n, 0)
        }

        @inline(__always) func start(k0: Int, depth: Int, tile index: Int) -> UnsafePointer<Float> {
            packedTiles > 0
                ? base + k0 * packedTiles * tileStride + index * depth * tileStride
                : base + k0 / kc * block + index * tile
        }
    }

    /// Where a work item's tiles go: tile `local` of the item's panel `p` starts at
    /// `base + p * panel + local * tile`; within it, pixel i's vector v (channels 16v..<16v+16
    /// of the panel) at `i * pixel + v * vector`.
    struct OutputTiles {
        let base: UnsafeMutablePointer<Float>
        let panel: Int, tile: Int, pixel: Int, vector: Int
        /// C itself, channel-blocked: vectors past C's last channel are not stored (a
        /// scratch has room for whole panels).
        var blocked = false
    }

    /// Bias, residual and activation on a blocked C's channel blocks `channelBlocks`, pixels
    /// `columns`: each pixel's 16 channels are one vector, so the bias is a vector add, and
    /// the residual, blocked as C is, lies at a fixed distance from it.
    private static func finishBlocked<F: FloatVectorFunction>(
        _ c: UnsafeMutablePointer<Float>, n: Int, channelBlocks: Range<Int>, columns: Range<Int>, finish: TileFinish<F>?
    ) {
        guard let finish else { return }
        for block in channelBlocks {
            let bias = finish.bias.map { load($0 + 16 * block) } ?? Vector()
            let line = c + block * 16 * n
            if let residual = finish.residualOffset {
                for pixel in columns {
                    let p = line + 16 * pixel
                    store(finish.function(load(p) + bias + load(p + residual)), p)
                }
            } else {
                for pixel in columns {
                    let p = line + 16 * pixel
                    store(finish.function(load(p) + bias), p)
                }
            }
        }
    }

    /// Consecutive channel panels against consecutive pixel tiles: one piece of work.
    struct WorkItem: Equatable {
        let panels: Range<Int>
        let tiles: Range<Int>
    }

    /// Groups of panels whose pixel-major scratch fits in about 128 KiB (so it is still in
    /// L2 when transposed: a 1.6 MB scratch transposed after the last K block came back
    /// from L3), guided with several threads: the last groups are single panels, and the
    /// last `threads` of those are cut in two halves of the tiles, so the thread that
    /// finishes first waits at most about half a panel's time for the other. (ConvNeXt-B's
    /// 14x14 fc2 has 8 panels; with halves a chain of its MLP convolutions ran 3-4% faster
    /// at 2 threads.)
    static func workItems(panels: Int, tiles: Int, threads: Int) -> [WorkItem] {
        let scratchBytesPerPanel = tiles * nr * mr * MemoryLayout<Float>.stride
        let groups = GuidedChunks(units: panels, threads: threads, maximum: max(1, (128 << 10) / scratchBytesPerPanel))
        var items = (0..<groups.count).map { WorkItem(panels: groups.range($0), tiles: 0..<tiles) }
        guard threads > 1, tiles >= 4 else { return items }
        let lastWhole = items.count - min(threads, items.count)
        var index = items.count - 1
        while index >= lastWhole, items[index].panels.count == 1 {
            let panels = items[index].panels, half = tiles / 2
            items.replaceSubrange(index...index, with: [WorkItem(panels: panels, tiles: 0..<half), WorkItem(panels: panels, tiles: half..<tiles)])
            index -= 1
        }
        return items
    }

    /// One work item's share of one K block: its channel panels against its pixel tiles,
    /// into the item's tiles of `target`.
    private static func multiplyBlock<Steps: BSteps>(
        _: Steps.Type, _ a: PackedA, _ packedA: UnsafePointer<Float>, panels: Range<Int>, k0: Int, b: BTiles,
        tiles: Range<Int>, n: Int, into target: OutputTiles
    ) {
        let depth = min(kc, a.k - k0)
        let fullTiles = min(tiles.upperBound, n / nr) - tiles.lowerBound
        for panel in panels {
            let aPanel = a.panel(packedA, k0: k0, panel: panel)
            // The weights stream from memory once per call: while the pixel tiles run over
            // this panel (in L1), bring the next one into L2, a share per full tile.
            let next: (UnsafePointer<Float>, depth: Int)? = panel + 1 < panels.upperBound
                ? (aPanel + depth * mr, depth)
                : k0 + kc < a.k ? (a.panel(packedA, k0: k0 + kc, panel: panels.lowerBound), min(kc, a.k - k0 - kc))
                : panels.upperBound < a.panels ? (a.panel(packedA, k0: 0, panel: panels.upperBound), min(kc, a.k)) : nil
            let nextLines = (next?.depth ?? 0) * mr / 16
            // A blocked C's last panel may hold fewer than four 16-channel blocks.
            let vectors = target.blocked ? min(4, (a.m - panel * mr) / 16) : 4
            let output = target.base + (panel - panels.lowerBound) * target.panel
            for tile in tiles {
                let local = tile - tiles.lowerBound
                let bTile = b.start(k0: k0, depth: depth, tile: tile), tTile = output + local * target.tile
                let pixels = min(nr, n - tile * nr)
                guard pixels == nr else {
                    tailKernel(Steps.self, pixels: pixels, depth, aPanel, bTile, b.group, tTile, target, vectors, load: k0 > 0)
                    continue
                }
                let firstLine = nextLines * local / fullTiles, lines = nextLines * (local + 1) / fullTiles - firstLine
                kernel(
                    Steps.self, depth, aPanel, bTile, b.group, tTile, target, vectors,
                    load: k0 > 0, prefetch: UnsafeRawPointer(next?.0 ?? aPanel) + firstLine * 64, prefetchLines: lines)
            }
        }
    }

    /// Pixels of a tile as packed: 6 used, two pads, so each row of a tile is one 8-float
    /// store.
    static let tileStride = 8

    /// Rows `rows` of B [k, n] (row stride ldb) as 6-pixel tiles per K block,
    /// [K block][tile][k][8], zero pixels past n: each tile's steps then read 32 consecutive
    /// bytes instead of a line per step.
    private static func packB(
        _ b: UnsafePointer<Float>, ldb: Int, rows: Range<Int>, k: Int, n: Int, into out: UnsafeMutablePointer<Float>
    ) {
        let tiles = (n + nr - 1) / nr
        let fullTiles = max(0, (n - tileStride) / nr + 1)  // tiles whose eight-float load stays inside the row
        for row in rows {
            let k0 = row / kc * kc, depth = min(kc, k - k0)
            let source = b + row * ldb
            let target = out + k0 * tiles * tileStride + (row - k0) * tileStride
            for tile in 0..<fullTiles {
                let pixels = UnsafeRawPointer(source + tile * nr).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(target + tile * depth * tileStride).storeBytes(of: pixels, as: SIMD8<Float>.self)
            }
            for tile in fullTiles..<tiles {
                let col0 = tile * nr, cols = min(nr, n - col0)
                var pixels = SIMD8<Float>()
                for j in 0..<cols { pixels[j] = source[col0 + j] }
                UnsafeMutableRawPointer(target + tile * depth * tileStride).storeBytes(of: pixels, as: SIMD8<Float>.self)
            }
        }
    }

    @inline(__always) private static func load(_ p: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(p).loadUnaligned(as: Vector.self)
    }

    @inline(__always) private static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self)
    }

    /// T[6 x 64] (laid out as `target` says) = (load ? T : 0) + B tile [depth][6 pixels] ·
    /// A panel [depth][64], after prefetching `prefetchLines` lines of the next panel into L2.
    @inline(never)
    private static func kernel<Steps: BSteps>(
        _: Steps.Type, _ depth: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ group: Int,
        _ t: UnsafeMutablePointer<Float>, _ target: OutputTiles, _ vectors: Int, load loadT: Bool,
        prefetch: UnsafeRawPointer, prefetchLines: Int
    ) {
        tile(TileCount6.self, Steps.self, depth, a, b, group, t, target, vectors, load: loadT, prefetch: prefetch, prefetchLines: prefetchLines)
    }

    /// The last tile of an image whose pixel count is not a multiple of 6.
    @inline(never)
    private static func tailKernel<Steps: BSteps>(
        _: Steps.Type, pixels: Int, _ depth: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ group: Int,
        _ t: UnsafeMutablePointer<Float>, _ target: OutputTiles, _ vectors: Int, load loadT: Bool
    ) {
        let none = UnsafeRawPointer(b)
        switch pixels {
        case 1: tile(TileCount1.self, Steps.self, depth, a, b, group, t, target, vectors, load: loadT, prefetch: none, prefetchLines: 0)
        case 2: tile(TileCount2.self, Steps.self, depth, a, b, group, t, target, vectors, load: loadT, prefetch: none, prefetchLines: 0)
        case 3: tile(TileCount3.self, Steps.self, depth, a, b, group, t, target, vectors, load: loadT, prefetch: none, prefetchLines: 0)
        case 4: tile(TileCount4.self, Steps.self, depth, a, b, group, t, target, vectors, load: loadT, prefetch: none, prefetchLines: 0)
        default: tile(TileCount5.self, Steps.self, depth, a, b, group, t, target, vectors, load: loadT, prefetch: none, prefetchLines: 0)
        }
    }

    /// The first `Pixels.value` rows of a 6 x 64 tile, pixel-major, channels along the vectors:
    /// 24 accumulators, 4 weight vectors and a broadcast, so each step is 10 loads and 24
    /// FMAs with no other work (the 7 x 32 tile it replaced needed 9 loads for 14 FMAs and
    /// fell further behind ORT's in the host's slow phases). Unused accumulators
    /// compile away.
    @inline(__always)
    private static func tile<Pixels: TileCount, Steps: BSteps>(
        _: Pixels.Type, _: Steps.Type, _ depth: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ group: Int,
        _ t: UnsafeMutablePointer<Float>, _ target: OutputTiles, _ vectors: Int, load loadT: Bool,
        prefetch: UnsafeRawPointer, prefetchLines: Int
    ) {
        let pixels = Pixels.value
        let ps = Steps.pixel
        var c00 = Vector(), c01 = Vector(), c02 = Vector(), c03 = Vector()
        var c10 = Vector(), c11 = Vector(), c12 = Vector(), c13 = Vector()
        var c20 = Vector(), c21 = Vector(), c22 = Vector(), c23 = Vector()
        var c30 = Vector(), c31 = Vector(), c32 = Vector(), c33 = Vector()
        var c40 = Vector(), c41 = Vector(), c42 = Vector(), c43 = Vector()
        var c50 = Vector(), c51 = Vector(), c52 = Vector(), c53 = Vector()
        var pa = a
        // The prefetches are spread over the steps, a few per 8 (a burst of them at the start
        // stalled the loads behind them), with no test in the steps themselves.
        let chunks = (depth + 7) / 8
        var line = 0
        for chunk in 0..<chunks {
            let end = prefetchLines * (chunk + 1) / chunks
            while line < end {
                nx_prefetch_l2(prefetch + line * 64)
                line += 1
            }
            var pb = b + chunk / 2 * group + chunk % 2 * 8 * Steps.step
            for _ in 0..<min(8, depth - chunk * 8) {
                let a0 = load(pa), a1 = load(pa + 16), a2 = load(pa + 32), a3 = load(pa + 48)
                var x = Vector(repeating: pb[0])
                c00.addProduct(x, a0); c01.addProduct(x, a1); c02.addProduct(x, a2); c03.addProduct(x, a3)
                if pixels > 1 {
                    x = Vector(repeating: pb[1 * ps])
                    c10.addProduct(x, a0); c11.addProduct(x, a1); c12.addProduct(x, a2); c13.addProduct(x, a3)
                }
                if pixels > 2 {
                    x = Vector(repeating: pb[2 * ps])
                    c20.addProduct(x, a0); c21.addProduct(x, a1); c22.addProduct(x, a2); c23.addProduct(x, a3)
                }
                if pixels > 3 {
                    x = Vector(repeating: pb[3 * ps])
                    c30.addProduct(x, a0); c31.addProduct(x, a1); c32.addProduct(x, a2); c33.addProduct(x, a3)
                }
                if pixels > 4 {
                    x = Vector(repeating: pb[4 * ps])
                    c40.addProduct(x, a0); c41.addProduct(x, a1); c42.addProduct(x, a2); c43.addProduct(x, a3)
                }
                if pixels > 5 {
                    x = Vector(repeating: pb[5 * ps])
                    c50.addProduct(x, a0); c51.addProduct(x, a1); c52.addProduct(x, a2); c53.addProduct(x, a3)
                }
                pa += mr
                pb += Steps.step
            }
        }
        let vs = target.vector
        @inline(__always) func put(_ row: Int, _ v0: Vector, _ v1: Vector, _ v2: Vector, _ v3: Vector) {
            guard row < pixels else { return }
            let p = t + row * target.pixel
            @inline(__always) func put(_ v: Vector, _ index: Int) {
                guard index < vectors else { return }
                let q = p + index * vs
                store(loadT ? load(q) + v : v, q)
            }
            put(v0, 0); put(v1, 1); put(v2, 2); put(v3, 3)
        }
        put(0, c00, c01, c02, c03); put(1, c10, c11, c12, c13); put(2, c20, c21, c22, c23)
        put(3, c30, c31, c32, c33); put(4, c40, c41, c42, c43); put(5, c50, c51, c52, c53)
    }

    /// C's block `rows` x `columns` (row stride ldc) = finish((accumulate ? C : 0) + the
    /// transpose of T[columns.count][rows.count] (row stride `width`)), in 16x16 blocks
    /// transposed and finished in registers; without a finish, `epilogue` on each 16 rows
    /// while they are in L1.
    static func transpose<F: FloatVectorFunction>(
        _ t: UnsafePointer<Float>, width: Int, rows: Range<Int>, columns: Range<Int>, into c: UnsafeMutablePointer<Float>,
        ldc: Int, accumulate: Bool, finish: TileFinish<F>?, after epilogue: GEMMEpilogue
    ) {
        // The residual's lines (last touched before this op's weights went through the
        // caches) and C's are fetched two blocks ahead, or the residual's loads stall: each
        // block's 16 rows are 16 lines no prefetcher follows. (This transpose fell from 1.5%
        // to 0.9% of ConvNeXt-B's time; fetching the residual alone, to 1.05%.)
        let blocksPerBand = (columns.count + 15) / 16
        let residualOffset = finish?.residualOffset
        func prefetch(block index: Int) {
            let row0 = index / blocksPerBand * 16, n0 = columns.lowerBound + index % blocksPerBand * 16
            guard row0 < rows.count else { return }
            let last = min(15, columns.upperBound - 1 - n0)
            for row in (rows.lowerBound + row0)..<(rows.lowerBound + min(rows.count, row0 + 16)) {
                let line = c + row * ldc + n0
                nx_prefetch_write(line)
                nx_prefetch_write(line + last)
                if let residualOffset {
                    nx_prefetch_l1(line + residualOffset)
                    nx_prefetch_l1(line + residualOffset + last)
                }
            }
        }
        withUnsafeTemporaryAllocation(of: Vector.self, capacity: 32) { buffer in
            let block = buffer.baseAddress!, spare = block + 16
            prefetch(block: 0)
            prefetch(block: 1)
            for row0 in stride(from: 0, to: rows.count, by: 16) {
                let blockRows = min(16, rows.count - row0)
                defer {
                    if finish == nil {
                        let first = rows.lowerBound + row0
                        epilogue.apply(c, ldc: ldc, rows: first..<(first + blockRows), columns: columns)
                    }
                }
                for n0 in stride(from: columns.lowerBound, to: columns.upperBound, by: 16) {
                    prefetch(block: row0 / 16 * blocksPerBand + (n0 - columns.lowerBound) / 16 + 2)
                    let blockColumns = min(16, columns.upperBound - n0)
                    let source = t + (n0 - columns.lowerBound) * width + row0
                    for j in 0..<16 { block[j] = j < blockColumns ? load(source + j * width) : Vector() }
                    RegisterTranspose.transpose16(block, spare: spare)
                    for r in 0..<blockRows {
                        let row = rows.lowerBound + row0 + r
                        let line = c + row * ldc + n0
                        var value = block[r]
                        if blockColumns == 16 {
                            if accumulate { value += load(line) }
                            store(finish?(value, row: row, at: line) ?? value, line)
                        } else {
                            if accumulate { for j in 0..<blockColumns { value[j] += line[j] } }
                            if let finish { value = finish(value, row: row, at: line, count: blockColumns) }
                            for j in 0..<blockColumns { line[j] = value[j] }
                        }
                    }
                }
            }
        }
    }
}
