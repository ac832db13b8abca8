/// How a GEMM kernel wants its weight cut: panels of `rows` rows (the micro-kernel's register
/// tile height) in blocks of `depth` along K (what stays in L1 while a panel is reused).
protocol PanelShape {
    static var rows: Int { get }
    static var depth: Int { get }
}

/// A weight A [M, K] packed once, at load, the way one GEMM kernel streams it:
/// [K block][panel][k][row within the panel], zero rows past M.
struct PackedPanels<Shape: PanelShape>: Sendable {
    let m: Int, k: Int
    let values: PackedBuffer
    var panels: Int { (m + Shape.rows - 1) / Shape.rows }

    /// Packs A, or with `transposed` the matrix whose (row, k) element is `a[k * lda + row]`.
    init(_ a: UnsafePointer<Float>, lda: Int, m: Int, k: Int, transposed: Bool = false) {
        self.init(UnalignedFloats(a), lda: lda, m: m, k: k, transposed: transposed)
    }

    /// Packs A read where it lies, aligned or not (a weight mapped from its file), each row
    /// multiplied by its `rowScale` when given (a layer scale folded into the weight while
    /// packing, rather than into a scaled copy first).
    init(_ a: UnalignedFloats, lda: Int, m: Int, k: Int, transposed: Bool = false, rowScale: UnsafePointer<Float>? = nil) {
        self.m = m
        self.k = k
        let (rows, depth) = (Shape.rows, Shape.depth)
        let panels = (m + rows - 1) / rows
        values = PackedBuffer(count: panels * rows * k) { out in
            var offset = 0
            for k0 in stride(from: 0, to: k, by: depth) {
                let blockDepth = min(depth, k - k0)
                for panel in 0..<panels {
                    let target = out + offset
                    let validRows = min(rows, m - panel * rows)
                    // Each loop reads A in memory order, with its pointers hoisted: packing
                    // with an index computed and a bound checked per element took a fifth
                    // of ConvNeXt-B's load.
                    if transposed {
                        for kk in 0..<blockDepth {
                            let source = a + (k0 + kk) * lda + panel * rows
                            let line = target + kk * rows
                            if validRows == rows && rows % 16 == 0 {
                                // Whole vectors: element by element (unaligned loads from the
                                // file's mapping) this loop did not vectorize.
                                for r0 in stride(from: 0, to: rows, by: 16) {
                                    var vector = (source + r0).base.loadUnaligned(as: SIMD16<Float>.self)
                                    if let rowScale {
                                        vector *= UnsafeRawPointer(rowScale + panel * rows + r0).loadUnaligned(as: SIMD16<Float>.self)
                                    }
                                    UnsafeMutableRawPointer(line + r0).storeBytes(of: vector, as: SIMD16<Float>.self)
                                }
                            } else if let rowScale {
                                let scale = rowScale + panel * rows
                                for r in 0..<validRows { line[r] = source[r] * scale[r] }
                            } else {
                                for r in 0..<validRows { line[r] = source[r] }
                            }
                            for r in validRows..<rows { line[r] = 0 }
                        }
                    } else if rows % 16 == 0 {
                        Self.transposeRows(
                            a + panel * rows * lda + k0, lda: lda, rows: validRows, depth: blockDepth, into: target,
                            rowScale: rowScale.map { $0 + panel * rows })
                    } else {
                        for r in 0..<validRows {
                            let source = a + (panel * rows + r) * lda + k0
                            if let scale = rowScale?[panel * rows + r] {
                                for kk in 0..<blockDepth { target[kk * rows + r] = source[kk] * scale }
                            } else {
                                for kk in 0..<blockDepth { target[kk * rows + r] = source[kk] }
                            }
                        }
                        for r in validRows..<rows {
                            for kk in 0..<blockDepth { target[kk * rows + r] = 0 }
                        }
                    }
                    offset += blockDepth * rows
                }
            }
        }
    }

    /// One panel block of a weight stored row by row: target[kk * Shape.rows + r] =
    /// source[r * lda + kk] (times rowScale[r]) for r < rows, zero for the panel's rows past
    /// them. Whole 16x16 blocks go through registers: element by element, the stores fell a
    /// panel row (256 bytes) apart and packing took a third of ConvNeXt-B's load at 1 thread.
    /// (Reading each group of 16 rows along all of K, for longer runs, measured the same.
    /// 6-row panels keep their row-by-row loop: through this one's element-by-element edge
    /// path HistoNeXt-T loaded 4% slower.)
    private static func transposeRows(
        _ source: UnalignedFloats, lda: Int, rows: Int, depth: Int, into target: UnsafeMutablePointer<Float>,
        rowScale: UnsafePointer<Float>?
    ) {
        let width = Shape.rows
        withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 32) { buffer in
            let block = buffer.baseAddress!, spare = block + 16
            for r0 in stride(from: 0, to: width, by: 16) {
                let blockRows = max(0, min(16, rows - r0))
                for kk0 in stride(from: 0, to: depth, by: 16) {
                    let blockDepth = min(16, depth - kk0)
                    guard blockRows == 16 && blockDepth == 16 else {
                        for kk in kk0..<(kk0 + blockDepth) {
                            for r in r0..<(r0 + 16) {
                                guard r < rows else { target[kk * width + r] = 0; continue }
                                let value = source[r * lda + kk]
                                target[kk * width + r] = rowScale.map { value * $0[r] } ?? value
                            }
                        }
                        continue
                    }
                    for j in 0..<16 {
                        let row = (source + (r0 + j) * lda + kk0).base.loadUnaligned(as: SIMD16<Float>.self)
                        block[j] = rowScale.map { row * $0[r0 + j] } ?? row
                    }
                    RegisterTranspose.transpose16(block, spare: spare)
                    for j in 0..<16 {
                        UnsafeMutableRawPointer(target + (kk0 + j) * width + r0).storeBytes(of: block[j], as: SIMD16<Float>.self)
                    }
                }
            }
        }
    }

    /// The panel for rows `panel * rows...` in the K block starting at `k0`.
    @inline(__always)
    func panel(_ base: UnsafePointer<Float>, k0: Int, panel: Int) -> UnsafePointer<Float> {
        base + k0 * panels * Shape.rows + panel * min(Shape.depth, k - k0) * Shape.rows
    }
}
