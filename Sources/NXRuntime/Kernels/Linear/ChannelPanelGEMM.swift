import CPUHints

/// `C [M, N] = A [M, K] * B [K, N]` for pointwise convolutions on small images, where N
/// (pixels) is narrow and M (output channels) wide: ConvNeXt's 14x14 and 7x7 stages.
///
/// Why a second GEMM: `PackedGEMM` runs vectors along N in 32-column panels, so N = 49
/// pads to 64 and N = 196 to 224 (23% and 12% of its work wasted), and its 12-row tiles
/// stream a weight too large for L2 once per 32 columns. Here vectors run along M: the
/// weight is packed at load in 32-channel panels, the micro-kernel keeps a 7-pixel x
/// 32-channel tile in 14 registers and broadcasts 7 pixels of B per step straight from the
/// activations (no packing of B). 7 divides every ConvNeXt stage at 224 (56², 28², 14², 7²)
/// and most others closely. The tile comes out pixel-major, so each thread gathers its
/// channels' tiles in a small pixel-major scratch and transposes it into C (16x16 blocks in
/// registers) before the epilogue, while its rows are in cache.
enum ChannelPanelGEMM {
    typealias Vector = SIMD16<Float>
    /// Channels per panel (two vectors), pixels per tile, depth per K block (a 32 KiB panel
    /// block stays in L1 while every pixel tile passes over it).
    static let mr = 32, nr = 7, kc = 256

    /// Whether outputs of this many pixels run faster here than in PackedGEMM. Measured on
    /// ConvNeXt-T's pointwise shapes, one thread, in the network: 49 and 196 pixels run at
    /// 140-160 GFLOP/s here against 80-130 there; at 784 pixels and more PackedGEMM wins
    /// (this kernel's transpose and its B reads cost more as K shrinks relative to N).
    static func suits(pixels: Int) -> Bool { pixels <= 320 }

    /// A [M, K] packed as [K block][32-channel panel][k][32].
    typealias PackedA = PackedPanels<Panels>
    enum Panels: PanelShape {
        static let rows = ChannelPanelGEMM.mr, depth = ChannelPanelGEMM.kc
    }

    /// C = A * B (or C += A * B when `accumulate`), then `epilogue` on C's rows.
    static func multiply(
        _ a: PackedA, b: UnsafePointer<Float>, ldb: Int, n: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool = false, epilogue: GEMMEpilogue = GEMMEpilogue(), context: ExecutionContext
    ) {
        guard a.m > 0, n > 0 else { return }
        if a.k == 0 {
            for row in 0..<a.m where !accumulate { LinearSupport.fill(c + row * ldc, n, 0) }
            epilogue.apply(c, ldc: ldc, rows: 0..<a.m, columns: 0..<n)
            return
        }
        epilogue.withTileFinish(Specialized(
            a: a, b: b, ldb: ldb, n: n, c: c, ldc: ldc, accumulate: accumulate, epilogue: epilogue, context: context), c: c)
    }

    private struct Specialized: TileFinishVisitor {
        let a: PackedA, b: UnsafePointer<Float>, ldb: Int, n: Int, c: UnsafeMutablePointer<Float>, ldc: Int
        let accumulate: Bool, epilogue: GEMMEpilogue, context: ExecutionContext
        func visit<F: FloatVectorFunction>(_ finish: TileFinish<F>?) {
            multiply(a, b: b, ldb: ldb, n: n, c: c, ldc: ldc, accumulate: accumulate, finish: finish, after: epilogue, context: context)
        }
    }

    /// `finish` runs on each transposed 16x16 block in registers; `after` (the whole
    /// epilogue) on C's rows once stored when `finish` is nil.
    private static func multiply<F: FloatVectorFunction>(
        _ a: PackedA, b: UnsafePointer<Float>, ldb: Int, n: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool, finish: TileFinish<F>?, after epilogue: GEMMEpilogue, context: ExecutionContext
    ) {
        let serial = a.m * n * a.k < SGEMM.parallelThreshold
        let chunks = serial ? 1 : min(context.threads, a.panels)
        let loops = serial ? context.singleThreaded() : context
        let tiles = (n + nr - 1) / nr, width = a.panels * mr
        // B is packed once for all threads (each would otherwise pack all of it; at K = 1536
        // that is a tenth of the work), split by rows of K. Then each thread runs its channel
        // panels, block by block of K, into a pixel-major scratch [tiles * 7][panels * 32],
        // and transposes its part into its rows of C. (Packing per K block instead, between
        // the blocks, measured the same on one thread and 5-10% slower on two.)
        ScratchPool.shared.withFloats(tiles * nr * width + a.k * tiles * nr) { scratch in
            let packedB = scratch + tiles * nr * width
            loops.parallelFor(a.k, grain: 64) { rows in
                for row in rows {
                    let k0 = row / kc * kc
                    packB(b + k0 * ldb, ldb: ldb, rows: (row - k0)..<(row - k0 + 1), depth: min(kc, a.k - k0), n: n, into: packedB + k0 * tiles * nr)
                }
            }
            a.values.withUnsafeBufferPointer { values in
                loops.parallelFor(chunks) { range in
                    for chunk in range {
                        let panels = (a.panels * chunk / chunks)..<(a.panels * (chunk + 1) / chunks)
                        guard !panels.isEmpty else { continue }
                        for k0 in stride(from: 0, to: a.k, by: kc) {
                            multiplyBlock(
                                a, values.baseAddress!, panels: panels, k0: k0, packedB: packedB + k0 * tiles * nr, tiles: tiles,
                                scratch: scratch, width: width)
                        }
                        let rows = (panels.lowerBound * mr)..<min(a.m, panels.upperBound * mr)
                        transpose(
                            scratch + rows.lowerBound, width: width, rows: rows, n: n, into: c, ldc: ldc,
                            accumulate: accumulate, finish: finish, after: epilogue)
                    }
                }
            }
        }
    }

    /// One thread's share of one K block: channel panels `panels` against every pixel tile,
    /// into the pixel-major scratch (row stride `width`).
    private static func multiplyBlock(
        _ a: PackedA, _ packedA: UnsafePointer<Float>, panels: Range<Int>, k0: Int, packedB: UnsafePointer<Float>,
        tiles: Int, scratch: UnsafeMutablePointer<Float>, width: Int
    ) {
        let depth = min(kc, a.k - k0)
        for panel in panels {
            let aPanel = a.panel(packedA, k0: k0, panel: panel)
            // The weights stream from memory once per call: while the pixel tiles run over
            // this panel (in L1), bring the next one into L2, a share per tile.
            let next: (UnsafePointer<Float>, depth: Int)? = panel + 1 < panels.upperBound
                ? (aPanel + depth * mr, depth)
                : k0 + kc < a.k ? (a.panel(packedA, k0: k0 + kc, panel: panels.lowerBound), min(kc, a.k - k0 - kc)) : nil
            let nextLines = (next?.depth ?? 0) * mr / 16
            for tile in 0..<tiles {
                let firstLine = nextLines * tile / tiles, lines = nextLines * (tile + 1) / tiles - firstLine
                kernel(
                    depth, aPanel, packedB + tile * depth * nr, scratch + tile * nr * width + panel * mr, width, load: k0 > 0,
                    prefetch: UnsafeRawPointer(next?.0 ?? aPanel) + firstLine * 64, prefetchLines: lines)
            }
        }
    }

    /// Rows `rows` of a K block of B [depth, n] (row stride ldb) as 7-pixel tiles
    /// [tile][k][7], zero pixels past n: each tile's steps then read 28 consecutive bytes
    /// instead of a line per step.
    private static func packB(
        _ b: UnsafePointer<Float>, ldb: Int, rows: Range<Int>, depth: Int, n: Int, into out: UnsafeMutablePointer<Float>
    ) {
        let tiles = (n + nr - 1) / nr
        for row in rows {
            let source = b + row * ldb
            for tile in 0..<tiles {
                let col0 = tile * nr, cols = min(nr, n - col0)
                let target = out + tile * depth * nr + row * nr
                if cols == nr {
                    for j in 0..<nr { target[j] = source[col0 + j] }
                } else {
                    for j in 0..<nr { target[j] = j < cols ? source[col0 + j] : 0 }
                }
            }
        }
    }

    @inline(__always) private static func load(_ p: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(p).loadUnaligned(as: Vector.self)
    }

    @inline(__always) private static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self)
    }

    /// T[7 x 32] (row stride ldt) = (load ? T : 0) + B tile [depth][7 pixels] ·
    /// A panel [depth][32]: pixel-major, channels along the vectors.
    @inline(never)
    private static func kernel(
        _ depth: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ t: UnsafeMutablePointer<Float>,
        _ ldt: Int, load loadT: Bool, prefetch: UnsafeRawPointer, prefetchLines: Int
    ) {
        var c00 = Vector(), c01 = Vector(), c10 = Vector(), c11 = Vector(), c20 = Vector(), c21 = Vector()
        var c30 = Vector(), c31 = Vector(), c40 = Vector(), c41 = Vector(), c50 = Vector(), c51 = Vector()
        var c60 = Vector(), c61 = Vector()
        var pa = a, pb = b
        // One prefetch every `spacing` steps, spread over the loop.
        let spacing = max(1, depth / max(1, prefetchLines))
        var nextPrefetch = 0, prefetched = 0
        for step in 0..<depth {
            if step == nextPrefetch && prefetched < prefetchLines {
                nx_prefetch_l2(prefetch + prefetched * 64)
                prefetched += 1
                nextPrefetch += spacing
            }
            let a0 = load(pa), a1 = load(pa + 16)
            var x = Vector(repeating: pb[0]); c00.addProduct(x, a0); c01.addProduct(x, a1)
            x = Vector(repeating: pb[1]); c10.addProduct(x, a0); c11.addProduct(x, a1)
            x = Vector(repeating: pb[2]); c20.addProduct(x, a0); c21.addProduct(x, a1)
            x = Vector(repeating: pb[3]); c30.addProduct(x, a0); c31.addProduct(x, a1)
            x = Vector(repeating: pb[4]); c40.addProduct(x, a0); c41.addProduct(x, a1)
            x = Vector(repeating: pb[5]); c50.addProduct(x, a0); c51.addProduct(x, a1)
            x = Vector(repeating: pb[6]); c60.addProduct(x, a0); c61.addProduct(x, a1)
            pa += mr
            pb += nr
        }
        @inline(__always) func put(_ row: Int, _ v0: Vector, _ v1: Vector) {
            let p = t + row * ldt
            if loadT {
                store(load(p) + v0, p)
                store(load(p + 16) + v1, p + 16)
            } else {
                store(v0, p)
                store(v1, p + 16)
            }
        }
        put(0, c00, c01); put(1, c10, c11); put(2, c20, c21); put(3, c30, c31)
        put(4, c40, c41); put(5, c50, c51); put(6, c60, c61)
    }

    /// C's rows `rows` (row stride ldc) = finish((accumulate ? C : 0) + the transpose of
    /// T[n][rows.count] (row stride `width`)), in 16x16 blocks transposed and finished in
    /// registers; without a finish, `epilogue` on each 16 rows while they are in L1.
    static func transpose<F: FloatVectorFunction>(
        _ t: UnsafePointer<Float>, width: Int, rows: Range<Int>, n: Int, into c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool, finish: TileFinish<F>?, after epilogue: GEMMEpilogue
    ) {
        withUnsafeTemporaryAllocation(of: Vector.self, capacity: 32) { buffer in
            let block = buffer.baseAddress!, spare = block + 16
            for row0 in stride(from: 0, to: rows.count, by: 16) {
                let blockRows = min(16, rows.count - row0)
                defer {
                    if finish == nil {
                        let first = rows.lowerBound + row0
                        epilogue.apply(c, ldc: ldc, rows: first..<(first + blockRows), columns: 0..<n)
                    }
                }
                for n0 in stride(from: 0, to: n, by: 16) {
                    let blockColumns = min(16, n - n0)
                    for j in 0..<16 { block[j] = j < blockColumns ? load(t + (n0 + j) * width + row0) : Vector() }
                    transpose16(block, spare: spare)
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

    /// Transposes 16 rows of 16 lanes in place: four rounds of unzipping row pairs (each
    /// round rotates an element's 8-bit row-lane index right by one bit; four rounds make
    /// row and lane swap places).
    @inline(__always)
    static func transpose16(_ rows: UnsafeMutablePointer<Vector>, spare: UnsafeMutablePointer<Vector>) {
        for round in 0..<4 {
            let (from, to) = round % 2 == 0 ? (rows, spare) : (spare, rows)
            for pair in 0..<8 {
                let joined = SIMD32<Float>(lowHalf: from[2 * pair], highHalf: from[2 * pair + 1])
                to[pair] = joined.evenHalf
                to[pair + 8] = joined.oddHalf
            }
        }
    }
}
