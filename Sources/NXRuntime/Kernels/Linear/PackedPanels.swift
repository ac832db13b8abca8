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
    let values: [Float]
    var panels: Int { (m + Shape.rows - 1) / Shape.rows }

    /// Packs A, or with `transposed` the matrix whose (row, k) element is `a[k * lda + row]`.
    init(_ a: UnsafePointer<Float>, lda: Int, m: Int, k: Int, transposed: Bool = false) {
        self.m = m
        self.k = k
        let (rows, depth) = (Shape.rows, Shape.depth)
        let panels = (m + rows - 1) / rows
        values = [Float](unsafeUninitializedCapacity: max(1, panels * rows * k)) { buffer, initialized in
            let out = buffer.baseAddress!
            var offset = 0
            for k0 in stride(from: 0, to: k, by: depth) {
                let blockDepth = min(depth, k - k0)
                for panel in 0..<panels {
                    // The inner loop walks A's memory order: along k, or along rows when
                    // transposed (strided reads made packing HistoNeXt's ConvTransposes slow).
                    for outer in 0..<(transposed ? blockDepth : rows) {
                        for inner in 0..<(transposed ? rows : blockDepth) {
                            let (r, kk) = transposed ? (inner, outer) : (outer, inner)
                            let row = panel * rows + r
                            let index = transposed ? (k0 + kk) * lda + row : row * lda + k0 + kk
                            out[offset + kk * rows + r] = row < m ? a[index] : 0
                        }
                    }
                    offset += blockDepth * rows
                }
            }
            initialized = max(1, panels * rows * k)
        }
    }

    /// The panel for rows `panel * rows...` in the K block starting at `k0`.
    @inline(__always)
    func panel(_ base: UnsafePointer<Float>, k0: Int, panel: Int) -> UnsafePointer<Float> {
        base + k0 * panels * Shape.rows + panel * min(Shape.depth, k - k0) * Shape.rows
    }
}
