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
    func matchesDefinition(_ m: Int, _ n: Int, _ k: Int) throws {
        var random = LinearTestRandom(UInt64(m * 1000 + n * 10 + k))
        let a = random.floats(m * k), b = random.floats(k * n), bias = random.floats(m), initial = random.floats(m * n)
        var product = [Float](repeating: 0, count: m * n)
        for row in 0..<m {
            for column in 0..<n {
                var sum: Float = 0
                for index in 0..<k { sum += a[row * k + index] * b[index * n + column] }
                product[row * n + column] = sum
            }
        }
        let packed = a.withUnsafeBufferPointer { PackedGEMM.PackedA($0.baseAddress!, lda: k, m: m, k: k) }
        for threads in 1...3 {
            for accumulate in [false, true] {
                var c = accumulate ? initial : [Float](repeating: .nan, count: m * n)
                bias.withUnsafeBufferPointer { biasValues in
                    b.withUnsafeBufferPointer { bValues in
                        c.withUnsafeMutableBufferPointer { cValues in
                            PackedGEMM.multiply(
                                packed, b: bValues.baseAddress!, ldb: n, n: n, c: cValues.baseAddress!, ldc: n,
                                accumulate: accumulate,
                                epilogue: GEMMEpilogue(bias: .perRow(biasValues.baseAddress!), activation: .relu),
                                context: ExecutionContext(threads: threads, pool: BufferPool()))
                        }
                    }
                }
                let expected = (0..<(m * n)).map { index in
                    max(0, (accumulate ? initial[index] : 0) + product[index] + bias[index / n])
                }
                #expect(
                    relativeDifference(c, expected) < 1e-5,
                    "\(m)x\(n)x\(k), \(threads) threads, accumulate \(accumulate)")
            }
        }
    }
}
