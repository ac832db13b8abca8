/// Our own single-precision GEMM for the convolutions, `C [M, N] = A [M, K] * B [K, N]`,
/// where A is a weight packed once at load and B is activations packed per call.
///
/// Why not OpenBLAS here: Debian's OpenBLAS 0.3.21 runs ConvNeXt's and HistoNeXt's conv
/// shapes at 100-110 GFLOP/s on one core in the network; its kernel repacks the weights on
/// every call and knows nothing of our epilogue. This one keeps A packed, runs the epilogue
/// on each 12x32 output tile right after its last update (still in registers' reach), and
/// reaches about 170 GFLOP/s in its inner kernel on this CPU (AVX-512, two FMA ports).
///
/// The layout is BLIS's: A in panels of `mr` rows, B in panels of `nr` columns, both cut
/// into blocks of `kc` along K; the micro-kernel keeps a 12x32 tile of C in 24 vector
/// registers and streams one A panel (L1) against one B panel (L2). Threads split N.
enum PackedGEMM {
    typealias Vector = SIMD16<Float>
    static let mr = 12, nr = 32, kc = 256
    /// Columns of B packed at a time per thread: kc x 512 floats = 512 KiB, in L2.
    static let nc = 512

    /// A [M, K] packed as [K block][12-row panel][k][12].
    typealias PackedA = PackedPanels<Panels>
    enum Panels: PanelShape {
        static let rows = PackedGEMM.mr, depth = PackedGEMM.kc
    }

    /// B's rows: `ldb` apart, or anywhere, at offsets from `base` listed in a table (an
    /// implicit im2col: row (c, tap) of a convolution is a shifted window of the input).
    struct RowsOfB {
        let base: UnsafePointer<Float>
        let ldb: Int
        let offsets: UnsafePointer<Int>?

        init(_ base: UnsafePointer<Float>, ldb: Int) {
            self.base = base
            self.ldb = ldb
            offsets = nil
        }

        init(_ base: UnsafePointer<Float>, offsets: UnsafePointer<Int>) {
            self.base = base
            ldb = 0
            self.offsets = offsets
        }

        @inline(__always) func row(_ k: Int) -> UnsafePointer<Float> { base + (offsets?[k] ?? k * ldb) }
    }

    /// C = A * B (or C += A * B when `accumulate`), then `epilogue` on each finished tile.
    static func multiply(
        _ a: PackedA, b: UnsafePointer<Float>, ldb: Int, n: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool = false, epilogue: GEMMEpilogue = GEMMEpilogue(), context: ExecutionContext
    ) {
        multiply(a, rows: RowsOfB(b, ldb: ldb), n: n, c: c, ldc: ldc, accumulate: accumulate, epilogue: epilogue, context: context)
    }

    /// C = A * B for B given by its rows.
    static func multiply(
        _ a: PackedA, rows b: RowsOfB, n: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool = false, epilogue: GEMMEpilogue = GEMMEpilogue(), context: ExecutionContext
    ) {
        guard a.m > 0, n > 0 else { return }
        if a.k == 0 {
            for row in 0..<a.m where !accumulate { LinearSupport.fill(c + row * ldc, n, 0) }
            epilogue.apply(c, ldc: ldc, rows: 0..<a.m, columns: 0..<n)
            return
        }
        // A bias per row and the activation finish each full tile in registers, before it
        // is stored (a tile stored and reloaded by a second pass cost GELU convolutions
        // 0.5-0.9 ms of 2.4 at 56x56).
        epilogue.withTileFinish(Specialized(
            a: a, b: b, n: n, c: c, ldc: ldc, accumulate: accumulate, epilogue: epilogue, context: context), c: c)
    }

    private struct Specialized: TileFinishVisitor {
        let a: PackedA, b: RowsOfB, n: Int, c: UnsafeMutablePointer<Float>, ldc: Int
        let accumulate: Bool, epilogue: GEMMEpilogue, context: ExecutionContext
        func visit<F: FloatVectorFunction>(_ finish: TileFinish<F>?) {
            multiply(a, b: b, n: n, c: c, ldc: ldc, accumulate: accumulate, finish: finish, after: epilogue, context: context)
        }
    }

    /// `finish` runs on full tiles in registers; `after` (the whole epilogue) on edge tiles
    /// once stored, and on full ones too when `finish` is nil.
    private static func multiply<F: FloatVectorFunction>(
        _ a: PackedA, b: RowsOfB, n: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool, finish: TileFinish<F>?, after epilogue: GEMMEpilogue, context: ExecutionContext
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
                a, packedA, panels: panels, b: b, columns: columns, c: c, ldc: ldc,
                accumulate: accumulate, finish: finish, epilogue: epilogue)
        }
        if work < SGEMM.parallelThreshold || context.threads == 1 || units == 1 {
            run(0..<units)
            return
        }
        // Claimed dynamically in guided chunks; a column chunk streams all of A again, so
        // none is narrower than 4 panels (128 columns).
        let chunks = GuidedChunks(units: units, threads: context.threads, minimum: splitRows ? 1 : 4)
        context.parallelForEach(chunks.count) { chunk in run(chunks.range(chunk)) }
    }

    /// One chunk of work: A's row panels `panels` times columns `columns` of C, in
    /// nc-wide slabs.
    private static func multiplyBlock<F: FloatVectorFunction>(
        _ a: PackedA, _ packedA: UnsafePointer<Float>, panels rowPanels: Range<Int>, b: RowsOfB,
        columns: Range<Int>, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, finish: TileFinish<F>?,
        epilogue: GEMMEpilogue
    ) {
        ScratchPool.shared.withFloats(kc * nc) { packedB in
            for n0 in stride(from: columns.lowerBound, to: columns.upperBound, by: nc) {
                let width = min(nc, columns.upperBound - n0)
                let panels = (width + nr - 1) / nr
                for k0 in stride(from: 0, to: a.k, by: kc) {
                    let depth = min(kc, a.k - k0)
                    packB(b, k0: k0, n0: n0, depth: depth, width: width, into: packedB)
                    let load = accumulate || k0 > 0
                    let finishing = k0 + kc >= a.k
                    for panel in rowPanels {
                        let aPanel = a.panel(packedA, k0: k0, panel: panel)
                        let row0 = panel * mr, rows = min(mr, a.m - row0)
                        for column in 0..<panels {
                            let col0 = n0 + column * nr, cols = min(nr, n0 + width - col0)
                            let tile = c + row0 * ldc + col0
                            if rows == mr && cols == nr {
                                let tileFinish = finishing
                                    ? finish.map { TileFinish(bias: $0.bias.map { $0 + row0 }, residualOffset: $0.residualOffset, function: $0.function) }
                                    : nil
                                kernel(depth, aPanel, packedB + column * depth * nr, tile, ldc, load: load, finish: tileFinish)
                                if finishing && finish == nil {
                                    epilogue.apply(c, ldc: ldc, rows: row0..<(row0 + rows), columns: col0..<(col0 + cols))
                                }
                            } else {
                                edgeTile(depth, aPanel, packedB + column * depth * nr, tile, ldc, rows: rows, cols: cols, load: load)
                                if finishing { epilogue.apply(c, ldc: ldc, rows: row0..<(row0 + rows), columns: col0..<(col0 + cols)) }
                            }
                        }
                    }
                }
            }
        }
    }

    /// B's rows k0..<k0+depth, columns n0..<n0+width, into nr-wide panels [panel][k][nr],
    /// zero columns past width.
    private static func packB(_ b: RowsOfB, k0: Int, n0: Int, depth: Int, width: Int, into out: UnsafeMutablePointer<Float>) {
        let panels = (width + nr - 1) / nr
        for panel in 0..<panels {
            let col0 = panel * nr, cols = min(nr, width - col0)
            let destination = out + panel * depth * nr
            if cols == nr {
                for kk in 0..<depth {
                    let source = b.row(k0 + kk) + n0 + col0
                    let target = destination + kk * nr
                    store(load(source), target)
                    store(load(source + 16), target + 16)
                }
            } else {
                for kk in 0..<depth {
                    let source = b.row(k0 + kk) + n0 + col0
                    let target = destination + kk * nr
                    for j in 0..<nr { target[j] = j < cols ? source[j] : 0 }
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

    /// A partial tile: the full kernel into a scratch tile, then the valid part.
    private static func edgeTile(
        _ depth: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
        rows: Int, cols: Int, load: Bool
    ) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: mr * nr) { scratch in
            let tile = scratch.baseAddress!
            kernel(depth, a, b, tile, nr, load: false, finish: nil as TileFinish<IdentityFunction>?)
            for r in 0..<rows {
                for j in 0..<cols { c[r * ldc + j] = (load ? c[r * ldc + j] : 0) + tile[r * nr + j] }
            }
        }
    }

    /// C[12 x 32] (row stride ldc) = finish((load ? C : 0) + A panel [depth][12] * B panel
    /// [depth][32]), `finish` indexing its bias by the tile's rows.
    @inline(never)
    private static func kernel<F: FloatVectorFunction>(
        _ depth: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
        load loadC: Bool, finish: TileFinish<F>?
    ) {
        var c00 = Vector(), c01 = Vector(), c10 = Vector(), c11 = Vector(), c20 = Vector(), c21 = Vector()
        var c30 = Vector(), c31 = Vector(), c40 = Vector(), c41 = Vector(), c50 = Vector(), c51 = Vector()
        var c60 = Vector(), c61 = Vector(), c70 = Vector(), c71 = Vector(), c80 = Vector(), c81 = Vector()
        var c90 = Vector(), c91 = Vector(), ca0 = Vector(), ca1 = Vector(), cb0 = Vector(), cb1 = Vector()
        var pa = a, pb = b
        for _ in 0..<depth {
            let b0 = load(pb), b1 = load(pb + 16)
            var x = Vector(repeating: pa[0]); c00.addProduct(x, b0); c01.addProduct(x, b1)
            x = Vector(repeating: pa[1]); c10.addProduct(x, b0); c11.addProduct(x, b1)
            x = Vector(repeating: pa[2]); c20.addProduct(x, b0); c21.addProduct(x, b1)
            x = Vector(repeating: pa[3]); c30.addProduct(x, b0); c31.addProduct(x, b1)
            x = Vector(repeating: pa[4]); c40.addProduct(x, b0); c41.addProduct(x, b1)
            x = Vector(repeating: pa[5]); c50.addProduct(x, b0); c51.addProduct(x, b1)
            x = Vector(repeating: pa[6]); c60.addProduct(x, b0); c61.addProduct(x, b1)
            x = Vector(repeating: pa[7]); c70.addProduct(x, b0); c71.addProduct(x, b1)
            x = Vector(repeating: pa[8]); c80.addProduct(x, b0); c81.addProduct(x, b1)
            x = Vector(repeating: pa[9]); c90.addProduct(x, b0); c91.addProduct(x, b1)
            x = Vector(repeating: pa[10]); ca0.addProduct(x, b0); ca1.addProduct(x, b1)
            x = Vector(repeating: pa[11]); cb0.addProduct(x, b0); cb1.addProduct(x, b1)
            pa += mr
            pb += nr
        }
        @inline(__always) func put(_ row: Int, _ v0: Vector, _ v1: Vector) {
            let p = c + row * ldc
            var (w0, w1) = loadC ? (load(p) + v0, load(p + 16) + v1) : (v0, v1)
            if let finish {
                w0 = finish(w0, row: row, at: p)
                w1 = finish(w1, row: row, at: p + 16)
            }
            store(w0, p)
            store(w1, p + 16)
        }
        put(0, c00, c01); put(1, c10, c11); put(2, c20, c21); put(3, c30, c31)
        put(4, c40, c41); put(5, c50, c51); put(6, c60, c61); put(7, c70, c71)
        put(8, c80, c81); put(9, c90, c91); put(10, ca0, ca1); put(11, cb0, cb1)
    }
}
