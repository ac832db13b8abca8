import CBLAS

/// Row-major single-precision GEMM through OpenBLAS: C = alpha * op(A) * op(B) + beta * C,
/// op(A) m x k, op(B) k x n. OpenBLAS runs its own threads (count set by the session), so
/// this must never be called from inside `ExecutionContext.parallelFor`.
enum SGEMM {
    static func multiply(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            // An empty sum: OpenBLAS's handling of k = 0 varies by version, so scale here.
            for row in 0..<m {
                let line = c + row * ldc
                for column in 0..<n { line[column] = beta == 0 ? 0 : beta * line[column] }
            }
            return
        }
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(max(lda, 1)), b, Int32(max(ldb, 1)),
            beta, c, Int32(max(ldc, 1)))
    }
}
