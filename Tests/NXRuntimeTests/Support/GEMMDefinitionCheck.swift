import Testing

@testable import NXRuntime

/// One of our GEMMs, given A packed its way: C = A · B (+ C when accumulating) with the
/// epilogue, through the context.
typealias PackedMultiply<Packed> = (
    _ a: Packed, _ b: UnsafePointer<Float>, _ n: Int, _ c: UnsafeMutablePointer<Float>, _ accumulate: Bool,
    _ epilogue: GEMMEpilogue, _ context: ExecutionContext
) -> Void

/// Checks a GEMM on seeded A [m, k] and B [k, n] against the definition, with and without
/// accumulation, with a per-row bias and ReLU, on 1 to 3 threads.
func expectMatchesDefinition<Packed>(
    _ m: Int, _ n: Int, _ k: Int, pack: (UnsafePointer<Float>) -> Packed, multiply: PackedMultiply<Packed>
) {
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
    let packed = a.withUnsafeBufferPointer { pack($0.baseAddress!) }
    for threads in 1...3 {
        for accumulate in [false, true] {
            var c = accumulate ? initial : [Float](repeating: .nan, count: m * n)
            bias.withUnsafeBufferPointer { biasValues in
                b.withUnsafeBufferPointer { bValues in
                    c.withUnsafeMutableBufferPointer { cValues in
                        multiply(
                            packed, bValues.baseAddress!, n, cValues.baseAddress!, accumulate,
                            GEMMEpilogue(bias: .perRow(biasValues.baseAddress!), activation: .relu),
                            ExecutionContext(threads: threads, pool: BufferPool()))
                    }
                }
            }
            let expected = (0..<(m * n)).map { index in
                max(0, (accumulate ? initial[index] : 0) + product[index] + bias[index / n])
            }
            #expect(
                relativeDifference(c, expected) < 1e-5, "\(m)x\(n)x\(k), \(threads) threads, accumulate \(accumulate)")
        }
    }
}
