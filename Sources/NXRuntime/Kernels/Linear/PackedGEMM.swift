import CPUHints

/// Our own single-precision GEMM for the convolutions, `C [M, N] = A [M, K] * B [K, N]`,
/// where A is a weight packed once at load and B is activations packed per call.
///
/// Why not OpenBLAS here: Debian's OpenBLAS 0.3.21 runs ConvNeXt's and HistoNeXt's conv
/// shapes at 100-110 GFLOP/s on one core in the network; its kernel repacks the weights on
/// every call and knows nothing of our epilogue. This one keeps A packed, runs the epilogue
/// on each 6x64 output tile right after its last update (still in registers' reach). (The
/// 12x32 tile before it reached about 170 GFLOP/s in its inner kernel on this CPU.)
///
/// The layout is BLIS's: A in panels of `mr` rows, B in panels of `nr` columns, both cut
/// into blocks of `kc` along K; the micro-kernel keeps a 6x64 tile of C in 24 vector
/// registers, so each step is 4 loads of B, 6 broadcasts of A and 24 FMAs (the 12x32 tile
/// needed 14 loads, and fell further behind ORT's in the host's slow phases).
/// One B panel (up to 128 KiB) stays in L2 while every A panel of the K block passes over
/// it. K blocks are 512 deep, not 128 (a B panel in L1): each tile's C is loaded and stored
/// once per K block, and at 128 those tile boundaries cost more than L1 saved (ConvNeXt-T's
/// 56x56 and 28x28 MLP convolutions ran at 0.97 of before at 1 thread, 0.98 at 2).
/// Threads split N, or M when the weights outnumber the activations.
enum PackedGEMM {
    typealias Vector = SIMD16<Float>
    static let mr = 6, nr = 64, kc = 512
    /// Most columns of B packed at a time per thread.
    static let nc = 512

    /// A [M, K] packed as [K block][6-row panel][k][6].
    typealias PackedA = PackedPanels<Panels>
    enum Panels: PanelShape {
        static let rows = PackedGEMM.mr, depth = PackedGEMM.kc
    }

    /// B's rows: `ldb` apart, or anywhere, at offsets from `base` listed in a table (an
    /// implicit im2col: row (c, tap) of a convolution is a shifted window of the input); or
    /// B pixel-paneled, [N / nr][K][w], its full panels already packed B panels.
    struct RowsOfB {
        let base: UnsafePointer<Float>
        let ldb: Int
        let offsets: UnsafePointer<Int>?
        /// K, when B is pixel-paneled; 0 when it is rows.
        let paneledDepth: Int

        init(_ base: UnsafePointer<Float>, ldb: Int) {
            (self.base, self.ldb, offsets, paneledDepth) = (base, ldb, nil, 0)
        }

        init(_ base: UnsafePointer<Float>, offsets: UnsafePointer<Int>) {
            (self.base, ldb, self.offsets, paneledDepth) = (base, 0, offsets, 0)
        }

        init(paneled base: UnsafePointer<Float>, k: Int) {
            (self.base, ldb, offsets, paneledDepth) = (base, 0, nil, k)
        }

        var isPaneled: Bool { paneledDepth > 0 }

        @inline(__always) func row(_ k: Int) -> UnsafePointer<Float> { base + (offsets?[k] ?? k * ldb) }

        /// A paneled B's panel `index`, all of K: [K][width].
        func panel(_ index: Int) -> UnsafePointer<Float> { base + index * nr * paneledDepth }
    }

    /// C = A * B (or C += A * B when `accumulate`), then `epilogue` on each finished tile.
    ///
    /// `paneledB`: B is stored pixel-paneled, [N / 64 panels][K][w] with w = 64 but for a
    /// last partial panel (`ldb` unused), and its full panels are read in place: each is
    /// already one packed B panel per K block. `paneledC`: C is written the same way,
    /// [N / 64][M][w] (`ldc` unused), each tile's rows 64 floats apart; the epilogue may then
    /// hold a bias per row and an activation, not a residual. The optimizer puts the tensor
    /// between two pointwise convolutions on a large image in this layout (Spec/OPERATORS.md,
    /// `blocked-mlp-hidden`).
    static func multiply(
        _ a: PackedA, b: UnsafePointer<Float>, ldb: Int, n: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool = false, epilogue: GEMMEpilogue = GEMMEpilogue(), paneledB: Bool = false, paneledC: Bool = false,
        context: ExecutionContext
    ) {
        multiply(
            a, rows: paneledB ? RowsOfB(paneled: b, k: a.k) : RowsOfB(b, ldb: ldb), n: n, c: c, ldc: ldc,
            accumulate: accumulate, epilogue: epilogue, paneledC: paneledC, context: context)
    }

    /// C = A * B for B given by its rows.
    static func multiply(
        _ a: PackedA, rows b: RowsOfB, n: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool = false, epilogue: GEMMEpilogue = GEMMEpilogue(), paneledC: Bool = false, context: ExecutionContext
    ) {
        precondition(!paneledC || (epilogue.residual == nil && !epilogue.hasColumnBias), "a paneled C takes a bias per row and an activation only")
        guard a.m > 0, n > 0 else { return }
        if a.k == 0 {
            for panel in stride(from: 0, to: n, by: paneledC ? nr : n) {
                let (panelC, panelLDC) = paneledC ? Self.panelOfC(c, m: a.m, n: n, col0: panel) : (c, ldc)
                let columns = panel..<(paneledC ? min(n, panel + nr) : n)
                for row in 0..<a.m where !accumulate { LinearSupport.fill(panelC + row * panelLDC + panel, columns.count, 0) }
                epilogue.apply(panelC, ldc: panelLDC, rows: 0..<a.m, columns: columns)
            }
            return
        }
        // A bias per row and the activation finish each full tile in registers, before it
        // is stored (a tile stored and reloaded by a second pass cost GELU convolutions
        // 0.5-0.9 ms of 2.4 at 56x56).
        epilogue.withTileFinish(Specialized(
            a: a, b: b, n: n, c: c, ldc: ldc, accumulate: accumulate, epilogue: epilogue, paneledC: paneledC, context: context), c: c)
    }

    /// Where a paneled C's panel holding column `col0` (a multiple of nr) goes, as a base and
    /// row stride under which element (row, col) of the panel is at `base + row * ldc + col`.
    @inline(__always)
    static func panelOfC(_ c: UnsafeMutablePointer<Float>, m: Int, n: Int, col0: Int) -> (UnsafeMutablePointer<Float>, Int) {
        (c + col0 * m - col0, min(nr, n - col0))
    }

    private struct Specialized: TileFinishVisitor {
        let a: PackedA, b: RowsOfB, n: Int, c: UnsafeMutablePointer<Float>, ldc: Int
        let accumulate: Bool, epilogue: GEMMEpilogue, paneledC: Bool, context: ExecutionContext
        func visit<F: FloatVectorFunction>(_ finish: TileFinish<F>?) {
            multiply(
                a, b: b, n: n, c: c, ldc: ldc, accumulate: accumulate, finish: finish, after: epilogue, paneledC: paneledC,
                context: context)
        }
    }

    /// `finish` runs on full tiles in registers; `after` (the whole epilogue) on edge tiles
    /// once stored, and on full ones too when `finish` is nil.
    private static func multiply<F: FloatVectorFunction>(
        _ a: PackedA, b: RowsOfB, n: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool, finish: TileFinish<F>?, after epilogue: GEMMEpilogue, paneledC: Bool, context: ExecutionContext
    ) {
        let panelsN = (n + nr - 1) / nr
        let work = a.m * n * a.k
        // Threads split the larger side: columns when activations outnumber weights (each
        // thread packs only its columns), rows of panels when the weights do (each thread
        // streams only its part of A: ConvNeXt's late stages, 49 or 196 columns).
        let splitRows = a.m > n
        let units = splitRows ? a.panels : panelsN
        let packedA = a.values.pointer
        let run = { (range: Range<Int>) in
            let (panels, columns) = splitRows
                ? (range, 0..<n) : (0..<a.panels, range.lowerBound * nr..<min(n, range.upperBound * nr))
            multiplyBlock(
                a, packedA, panels: panels, b: b, n: n, columns: columns, c: c, ldc: ldc, paneledC: paneledC,
                accumulate: accumulate, finish: finish, epilogue: epilogue)
        }
        if work < SGEMM.parallelThreshold || context.threads == 1 || units == 1 {
            run(0..<units)
            return
        }
        // Claimed dynamically in guided chunks; a column chunk streams all of A again, so
        // none is narrower than 2 panels (128 columns).
        let chunks = GuidedChunks(units: units, threads: context.threads, minimum: splitRows ? 1 : 2)
        context.parallelForEach(chunks.count) { chunk in run(chunks.range(chunk)) }
    }

    /// One chunk of work: A's row panels `panels` times columns `columns` of C, in
    /// slabs of at most nc columns.
    private static func multiplyBlock<F: FloatVectorFunction>(
        _ a: PackedA, _ packedA: UnsafePointer<Float>, panels rowPanels: Range<Int>, b: RowsOfB, n: Int,
        columns: Range<Int>, c: UnsafeMutablePointer<Float>, ldc: Int, paneledC: Bool, accumulate: Bool,
        finish: TileFinish<F>?, epilogue: GEMMEpilogue
    ) {
        // A slab is as wide as keeps B packed for all of K within about 512 KiB. A paneled
        // B's full panels need no packing; only a last partial one is packed, alone.
        let slab = max(nr, min(nc, (128 << 10) / max(a.k, 1) / nr * nr))
        ScratchPool.shared.withFloats(a.k * (b.isPaneled ? nr : slab)) { packedB in
            for n0 in stride(from: columns.lowerBound, to: columns.upperBound, by: slab) {
                let width = min(slab, columns.upperBound - n0)
                let panels = (width + nr - 1) / nr, fullPanels = width / nr
                /// B's panel `column` of the slab for K block k0 (`depth` rows, nr apart).
                func bPanel(_ column: Int, k0: Int, depth: Int) -> UnsafePointer<Float> {
                    let packed = UnsafePointer(packedB)
                    guard b.isPaneled else { return packed + (k0 * panels * nr + column * depth * nr) }
                    return column < fullPanels ? b.panel(n0 / nr + column) + k0 * nr : packed + k0 * nr
                }
                if !b.isPaneled {
                    for k0 in stride(from: 0, to: a.k, by: kc) {
                        packB(b, k0: k0, n0: n0, depth: min(kc, a.k - k0), width: width, into: packedB + k0 * panels * nr)
                    }
                } else if fullPanels < panels {
                    let partial = RowsOfB(b.panel(n0 / nr + fullPanels), ldb: width - fullPanels * nr)
                    for k0 in stride(from: 0, to: a.k, by: kc) {
                        packB(partial, k0: k0, n0: 0, depth: min(kc, a.k - k0), width: partial.ldb, into: packedB + k0 * nr)
                    }
                }
                // Column panel by column panel, all of K each, so a strip of C stays in L2
                // from one K block to the next; within a block, the B panel stays in L2
                // while the A panels (12 KiB each) stream past it. C is written down
                // the strip, whose lines would be cold misses, so the next tile's lines
                // are fetched while this one runs.
                for column in 0..<panels {
                    let col0 = n0 + column * nr, cols = min(nr, n0 + width - col0)
                    let (c, ldc) = paneledC ? panelOfC(c, m: a.m, n: n, col0: col0) : (c, ldc)
                    for k0 in stride(from: 0, to: a.k, by: kc) {
                        let depth = min(kc, a.k - k0)
                        let bPanel = bPanel(column, k0: k0, depth: depth)
                        let load = accumulate || k0 > 0
                        let finishing = k0 + kc >= a.k
                        guard column < fullPanels else {
                            // The last, partial column panel; at most 32 columns wide, it
                            // takes two row panels at once (a 12 x 32 tile), or its 12
                            // accumulators would wait on the loads.
                            var panel = rowPanels.lowerBound
                            while panel < rowPanels.upperBound {
                                let paired = cols <= 32 && panel + 1 < rowPanels.upperBound && (panel + 2) * mr <= a.m
                                let pair = panel..<(panel + (paired ? 2 : 1))
                                runTile(
                                    a, packedA, k0: k0, depth: depth, panels: pair, bPanel: bPanel, row0: panel * mr,
                                    col0: col0, cols: cols, c: c, ldc: ldc, load: load, finishing: finishing,
                                    finish: finish, epilogue: epilogue)
                                panel = pair.upperBound
                            }
                            continue
                        }
                        for panel in rowPanels {
                            if load || finishing, panel + 1 < rowPanels.upperBound {
                                let next = c + (panel + 1) * mr * ldc + col0
                                for row in 0..<min(mr, a.m - (panel + 1) * mr) {
                                    for line in 0..<(nr / 16) { nx_prefetch_write(next + row * ldc + 16 * line) }
                                }
                            }
                            runTile(
                                a, packedA, k0: k0, depth: depth, panels: panel..<(panel + 1), bPanel: bPanel,
                                row0: panel * mr, col0: col0, cols: nr, c: c, ldc: ldc, load: load,
                                finishing: finishing, finish: finish, epilogue: epilogue)
                        }
                    }
                }
            }
        }
    }

    /// One tile of C: rows of one row panel (or two consecutive ones, for at most 32
    /// columns) from row0, `cols` columns from col0, against one B panel.
    @inline(__always)
    private static func runTile<F: FloatVectorFunction>(
        _ a: PackedA, _ packedA: UnsafePointer<Float>, k0: Int, depth: Int, panels: Range<Int>, bPanel: UnsafePointer<Float>,
        row0: Int, col0: Int, cols: Int, c: UnsafeMutablePointer<Float>, ldc: Int, load: Bool, finishing: Bool,
        finish: TileFinish<F>?, epilogue: GEMMEpilogue
    ) {
        let aPanel = a.panel(packedA, k0: k0, panel: panels.lowerBound)
        let secondPanel = panels.count == 2 ? a.panel(packedA, k0: k0, panel: panels.lowerBound + 1) : nil
        let rows = min(panels.count * mr, a.m - row0)
        let tile = c + row0 * ldc + col0
        guard rows % mr == 0 && cols % 16 == 0 else {
            edgeTile(depth, aPanel, secondPanel, bPanel, tile, ldc, rows: rows, cols: cols, load: load)
            if finishing { epilogue.apply(c, ldc: ldc, rows: row0..<(row0 + rows), columns: col0..<(col0 + cols)) }
            return
        }
        let tileFinish = finishing
            ? finish.map { TileFinish(bias: $0.bias.map { $0 + row0 }, residualOffset: $0.residualOffset, function: $0.function) }
            : nil
        if let secondPanel {
            pairKernel(vectors: cols / 16, depth, aPanel, secondPanel, bPanel, tile, ldc, load: load, finish: tileFinish)
        } else if cols == nr {
            kernel(depth, aPanel, bPanel, tile, ldc, load: load, finish: tileFinish)
        } else {
            narrowKernel(vectors: cols / 16, depth, aPanel, bPanel, tile, ldc, load: load, finish: tileFinish)
        }
        if finishing && finish == nil {
            epilogue.apply(c, ldc: ldc, rows: row0..<(row0 + rows), columns: col0..<(col0 + cols))
        }
    }

    /// B's rows k0..<k0+depth, columns n0..<n0+width, into nr-wide panels [panel][k][nr],
    /// zero columns past width.
    private static func packB(_ b: RowsOfB, k0: Int, n0: Int, depth: Int, width: Int, into out: UnsafeMutablePointer<Float>) {
        let panels = (width + nr - 1) / nr, fullPanels = width / nr
        // Row by row, each read is one contiguous run of B's row (a stream the prefetchers
        // follow); panel by panel, they were 256-byte pieces of `depth` rows at once.
        for kk in 0..<depth {
            let source = b.row(k0 + kk) + n0
            let target = out + kk * nr
            for panel in 0..<fullPanels {
                let from = source + panel * nr, to = target + panel * depth * nr
                store(load(from), to)
                store(load(from + 16), to + 16)
                store(load(from + 32), to + 32)
                store(load(from + 48), to + 48)
            }
            for panel in fullPanels..<panels {
                let col0 = panel * nr, cols = width - col0
                let from = source + col0, to = target + panel * depth * nr
                for j in 0..<nr { to[j] = j < cols ? from[j] : 0 }
            }
        }
    }

    @inline(__always) private static func load(_ p: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(p).loadUnaligned(as: Vector.self)
    }

    @inline(__always) private static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self)
    }

    /// A partial tile: a kernel into a scratch tile, then the valid part.
    private static func edgeTile(
        _ depth: Int, _ a: UnsafePointer<Float>, _ second: UnsafePointer<Float>?, _ b: UnsafePointer<Float>,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int, rows: Int, cols: Int, load: Bool
    ) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * mr * nr) { scratch in
            let tile = scratch.baseAddress!
            let none: TileFinish<IdentityFunction>? = nil
            let vectors = (cols + 15) / 16
            if let second {
                pairKernel(vectors: vectors, depth, a, second, b, tile, nr, load: false, finish: none)
            } else if vectors == 4 {
                kernel(depth, a, b, tile, nr, load: false, finish: none)
            } else {
                narrowKernel(vectors: vectors, depth, a, b, tile, nr, load: false, finish: none)
            }
            // Whole vectors where the columns allow (HistoNeXt's 32-channel dense layers end
            // every column panel on a 2-row edge tile); a float at a time past them.
            let vectorColumns = cols / 16 * 16
            for r in 0..<rows {
                let line = c + r * ldc, values = UnsafePointer(tile + r * nr)
                for j in stride(from: 0, to: vectorColumns, by: 16) {
                    store(load ? Self.load(line + j) + Self.load(values + j) : Self.load(values + j), line + j)
                }
                for j in vectorColumns..<cols { line[j] = (load ? line[j] : 0) + values[j] }
            }
        }
    }

    /// C[6 x 64] (row stride ldc) = finish((load ? C : 0) + A panel [depth][6] * B panel
    /// [depth][64]), `finish` indexing its bias by the tile's rows.
    @inline(never)
    private static func kernel<F: FloatVectorFunction>(
        _ depth: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
        load loadC: Bool, finish: TileFinish<F>?
    ) {
        tile(TileCount4.self, depth, a, b, c, ldc, load: loadC, finish: finish)
    }

    /// The first 16, 32 or 48 columns of the tile: a last panel that narrow (Winograd's
    /// blocks on small images are 32 tiles wide) runs without the padding's FMAs.
    @inline(never)
    private static func narrowKernel<F: FloatVectorFunction>(
        vectors: Int, _ depth: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
        _ ldc: Int, load loadC: Bool, finish: TileFinish<F>?
    ) {
        switch vectors {
        case 1: tile(TileCount1.self, depth, a, b, c, ldc, load: loadC, finish: finish)
        case 2: tile(TileCount2.self, depth, a, b, c, ldc, load: loadC, finish: finish)
        default: tile(TileCount3.self, depth, a, b, c, ldc, load: loadC, finish: finish)
        }
    }

    /// The first `Vectors.value` 16-column vectors of a 6 x 64 tile (unused accumulators
    /// compile away).
    @inline(__always)
    private static func tile<Vectors: TileCount, F: FloatVectorFunction>(
        _: Vectors.Type, _ depth: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
        _ ldc: Int, load loadC: Bool, finish: TileFinish<F>?
    ) {
        let vectors = Vectors.value
        var c00 = Vector(), c01 = Vector(), c02 = Vector(), c03 = Vector()
        var c10 = Vector(), c11 = Vector(), c12 = Vector(), c13 = Vector()
        var c20 = Vector(), c21 = Vector(), c22 = Vector(), c23 = Vector()
        var c30 = Vector(), c31 = Vector(), c32 = Vector(), c33 = Vector()
        var c40 = Vector(), c41 = Vector(), c42 = Vector(), c43 = Vector()
        var c50 = Vector(), c51 = Vector(), c52 = Vector(), c53 = Vector()
        var pa = a, pb = b
        for _ in 0..<depth {
            let b0 = load(pb)
            let b1 = vectors > 1 ? load(pb + 16) : Vector()
            let b2 = vectors > 2 ? load(pb + 32) : Vector()
            let b3 = vectors > 3 ? load(pb + 48) : Vector()
            @inline(__always) func row(_ x: Vector, _ r0: inout Vector, _ r1: inout Vector, _ r2: inout Vector, _ r3: inout Vector) {
                r0.addProduct(x, b0)
                if vectors > 1 { r1.addProduct(x, b1) }
                if vectors > 2 { r2.addProduct(x, b2) }
                if vectors > 3 { r3.addProduct(x, b3) }
            }
            row(Vector(repeating: pa[0]), &c00, &c01, &c02, &c03)
            row(Vector(repeating: pa[1]), &c10, &c11, &c12, &c13)
            row(Vector(repeating: pa[2]), &c20, &c21, &c22, &c23)
            row(Vector(repeating: pa[3]), &c30, &c31, &c32, &c33)
            row(Vector(repeating: pa[4]), &c40, &c41, &c42, &c43)
            row(Vector(repeating: pa[5]), &c50, &c51, &c52, &c53)
            pa += mr
            pb += nr
        }
        @inline(__always) func put(_ row: Int, _ values: (Vector, Vector, Vector, Vector)) {
            let p = c + row * ldc
            for j in 0..<vectors {
                let v = j == 0 ? values.0 : j == 1 ? values.1 : j == 2 ? values.2 : values.3
                var w = loadC ? load(p + 16 * j) + v : v
                if let finish { w = finish(w, row: row, at: p + 16 * j) }
                store(w, p + 16 * j)
            }
        }
        put(0, (c00, c01, c02, c03)); put(1, (c10, c11, c12, c13)); put(2, (c20, c21, c22, c23))
        put(3, (c30, c31, c32, c33)); put(4, (c40, c41, c42, c43)); put(5, (c50, c51, c52, c53))
    }

    /// C[12 x 16·vectors] for two consecutive row panels (`a`: rows 0-5, `second`: rows
    /// 6-11) against the first one or two vectors of a B panel.
    @inline(never)
    private static func pairKernel<F: FloatVectorFunction>(
        vectors: Int, _ depth: Int, _ a: UnsafePointer<Float>, _ second: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int, load loadC: Bool, finish: TileFinish<F>?
    ) {
        if vectors == 1 {
            pairTile(TileCount1.self, depth, a, second, b, c, ldc, load: loadC, finish: finish)
        } else {
            pairTile(TileCount2.self, depth, a, second, b, c, ldc, load: loadC, finish: finish)
        }
    }

    @inline(__always)
    private static func pairTile<Vectors: TileCount, F: FloatVectorFunction>(
        _: Vectors.Type, _ depth: Int, _ a: UnsafePointer<Float>, _ second: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int, load loadC: Bool, finish: TileFinish<F>?
    ) {
        let vectors = Vectors.value
        var c00 = Vector(), c01 = Vector(), c10 = Vector(), c11 = Vector(), c20 = Vector(), c21 = Vector()
        var c30 = Vector(), c31 = Vector(), c40 = Vector(), c41 = Vector(), c50 = Vector(), c51 = Vector()
        var c60 = Vector(), c61 = Vector(), c70 = Vector(), c71 = Vector(), c80 = Vector(), c81 = Vector()
        var c90 = Vector(), c91 = Vector(), ca0 = Vector(), ca1 = Vector(), cb0 = Vector(), cb1 = Vector()
        var pa = a, ps = second, pb = b
        for _ in 0..<depth {
            let b0 = load(pb), b1 = vectors > 1 ? load(pb + 16) : Vector()
            @inline(__always) func row(_ x: Float, _ r0: inout Vector, _ r1: inout Vector) {
                let broadcast = Vector(repeating: x)
                r0.addProduct(broadcast, b0)
                if vectors > 1 { r1.addProduct(broadcast, b1) }
            }
            row(pa[0], &c00, &c01); row(pa[1], &c10, &c11); row(pa[2], &c20, &c21)
            row(pa[3], &c30, &c31); row(pa[4], &c40, &c41); row(pa[5], &c50, &c51)
            row(ps[0], &c60, &c61); row(ps[1], &c70, &c71); row(ps[2], &c80, &c81)
            row(ps[3], &c90, &c91); row(ps[4], &ca0, &ca1); row(ps[5], &cb0, &cb1)
            pa += mr
            ps += mr
            pb += nr
        }
        @inline(__always) func put(_ row: Int, _ v0: Vector, _ v1: Vector) {
            let p = c + row * ldc
            for j in 0..<vectors {
                var w = loadC ? load(p + 16 * j) + (j == 0 ? v0 : v1) : (j == 0 ? v0 : v1)
                if let finish { w = finish(w, row: row, at: p + 16 * j) }
                store(w, p + 16 * j)
            }
        }
        put(0, c00, c01); put(1, c10, c11); put(2, c20, c21); put(3, c30, c31)
        put(4, c40, c41); put(5, c50, c51); put(6, c60, c61); put(7, c70, c71)
        put(8, c80, c81); put(9, c90, c91); put(10, ca0, ca1); put(11, cb0, cb1)
    }
}
