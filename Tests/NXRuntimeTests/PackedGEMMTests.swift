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
        (100, 200, 260), (1, 1, 1),
    ])
    func matchesDefinition(_ m: Int, _ n: Int, _ k: Int) {
        expectMatchesDefinition(m, n, k, pack: { PackedGEMM.PackedA($0, lda: k, m: m, k: k) }) { a, b, n, c, accumulate, epilogue, context in
            PackedGEMM.multiply(a, b: b, ldb: n, n: n, c: c, ldc: n, accumulate: accumulate, epilogue: epilogue, context: context)
        }
    }
}
