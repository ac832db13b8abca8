import NXIR
import Testing

@testable import NXRuntime

/// PackedGEMM (6 x 64 tiles, vectors along columns) called directly, against the definition.
@Suite struct PackedGEMMTests {
    /// Every kind of tile: full; last column panels of 16, 32 and 48 columns (narrow kernels)
    /// and of 25 (through scratch); panels of at most 32 columns taken two row panels at a
    /// time (12 x 32), with a single row panel left over or a partial one; partial row panels
    /// (M not a multiple of 6); several nc-wide slabs (N > 512); several K blocks, the last
    /// partial. With and without accumulation, with a per-row bias and an activation, on 1
    /// to 3 threads.
    @Test(arguments: [
        (6, 64, 128), (13, 32, 300), (12, 25, 64), (18, 16, 7), (7, 48, 129), (30, 80, 200), (5, 600, 40),
        (100, 200, 260), (13, 70, 1100), (1, 1, 1),
    ])
    func matchesDefinition(_ m: Int, _ n: Int, _ k: Int) {
        expectMatchesDefinition(m, n, k, pack: { PackedGEMM.PackedA($0, lda: k, m: m, k: k) }) { a, b, n, c, accumulate, epilogue, context in
            PackedGEMM.multiply(a, b: b, ldb: n, n: n, c: c, ldc: n, accumulate: accumulate, epilogue: epilogue, context: context)
        }
    }

    /// A pixel-paneled B ([N/64][K][w], full panels read in place, a last partial one
    /// packed) and a pixel-paneled C ([N/64][M][w], tiles stored into their panel), alone
    /// and together: one full panel; a partial one only; full panels and a partial one of
    /// 16, 24 or 36 columns; several slabs; several K blocks; threads splitting rows (M > N)
    /// or columns.
    @Test(arguments: [(6, 64, 128), (12, 25, 64), (13, 100, 300), (30, 784, 200), (7, 600, 40), (200, 70, 50), (12, 130, 1030)])
    func paneledLayoutsMatchDefinition(_ m: Int, _ n: Int, _ k: Int) {
        for (paneledB, paneledC) in [(true, false), (false, true), (true, true)] {
            expectMatchesDefinition(m, n, k, pack: { PackedGEMM.PackedA($0, lda: k, m: m, k: k) }) {
                a, b, n, c, accumulate, epilogue, context in
                let bValues = paneledB ? Self.paneled(b, rows: k, n: n) : Array(UnsafeBufferPointer(start: b, count: k * n))
                var cValues = paneledC ? Self.paneled(c, rows: m, n: n) : Array(UnsafeBufferPointer(start: c, count: m * n))
                PackedGEMM.multiply(
                    a, b: bValues, ldb: n, n: n, c: &cValues, ldc: n, accumulate: accumulate, epilogue: epilogue,
                    paneledB: paneledB, paneledC: paneledC, context: context)
                let result = paneledC ? Self.unpaneled(cValues, rows: m, n: n) : cValues
                for index in 0..<(m * n) { c[index] = result[index] }
            }
        }
    }

    /// [rows][n] as [n/64 panels][rows][w], and back.
    static func paneled(_ values: UnsafePointer<Float>, rows: Int, n: Int) -> [Float] {
        var result = [Float](repeating: .nan, count: rows * n)
        for row in 0..<rows {
            for column in 0..<n {
                let col0 = column / 64 * 64
                result[col0 * rows + row * min(64, n - col0) + column - col0] = values[row * n + column]
            }
        }
        return result
    }

    static func unpaneled(_ values: [Float], rows: Int, n: Int) -> [Float] {
        var result = [Float](repeating: .nan, count: rows * n)
        for row in 0..<rows {
            for column in 0..<n {
                let col0 = column / 64 * 64
                result[row * n + column] = values[col0 * rows + row * min(64, n - col0) + column - col0]
            }
        }
        return result
    }
}
