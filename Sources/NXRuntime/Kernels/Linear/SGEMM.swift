import CBLAS

/// Row-major single-precision GEMM: C = alpha * op(A) * op(B) + beta * C, op(A) m x k,
/// op(B) k x n, then an optional epilogue on C.
///
/// OpenBLAS runs single-threaded (the session sets it so); the parallelism is ours: C is cut
/// into blocks of whole rows or whole columns, about half an L2 each, and the session's
/// threads take contiguous runs of blocks. Each block gets one OpenBLAS call and then its
/// epilogue while it is still in cache. One pool of threads for the whole graph means no
/// spinning BLAS workers between ops and no oversubscription; the price is that OpenBLAS
/// packs the shared operand once per block, about 1/block-width of the work.
enum SGEMM {
    /// Output floats per block when an epilogue follows: 1 MiB, half of this machine's L2.
    /// Without an epilogue each thread gets one block: every OpenBLAS call repacks the
    /// shared operand and pays its setup, measurably (10 blocks of a 384x3136x96 GEMM ran
    /// at 100 GFLOP/s against 145 for one call).
    static let blockElements = 262_144
    /// Below this many multiply-adds a GEMM runs as one call on the calling thread.
    static let parallelThreshold = 1 << 20

    static func multiply(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
        context: ExecutionContext, epilogue: GEMMEpilogue = GEMMEpilogue()
    ) {
        guard m > 0, n > 0 else { return }
        if m == 1 && k > 0 {
            multiplyRow(
                transA: transA, transB: transB, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c,
                context: context, epilogue: epilogue)
            return
        }
        let splitRows = m >= n
        let (extent, other) = splitRows ? (m, n) : (n, m)
        let blocks = blockCount(
            extent: extent, other: other, work: m * n * max(k, 1), threads: context.threads, cacheBlocks: !epilogue.isEmpty)
        let run = { (range: Range<Int>) in
            let (rows, columns) = splitRows ? (range, 0..<n) : (0..<m, range)
            callBLAS(
                transA: transA, transB: transB, rows: rows, columns: columns, k: k, alpha: alpha, a: a, lda: lda, b: b,
                ldb: ldb, beta: beta, c: c, ldc: ldc)
            epilogue.apply(c, ldc: ldc, rows: rows, columns: columns)
        }
        if blocks == 1 {
            run(0..<extent)
            return
        }
        context.parallelFor(blocks) { indices in
            for index in indices { run(extent * index / blocks..<extent * (index + 1) / blocks) }
        }
    }

    /// Below this many weights a one-row product runs on the calling thread.
    static let rowParallelThreshold = 1 << 16

    /// One row of output (a classifier head: [1, K] x [K, N]) as a matrix-vector product,
    /// its columns split between the threads. OpenBLAS's sgemm packs all of B for a single
    /// row, which made ConvNeXt-B's 1024 -> 1000 head 3.5x slower than ORT's; sgemv reads
    /// each weight once.
    private static func multiplyRow(
        transA: Bool, transB: Bool, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>,
        context: ExecutionContext, epilogue: GEMMEpilogue
    ) {
        // op(A) is [1, K]: A itself, or A's single column when transposed.
        let increment = Int32(transA ? max(lda, 1) : 1)
        let run = { (columns: Range<Int>) in
            // sgemv scales y by beta first; a recycled buffer may hold NaNs, and whether
            // 0 x NaN is zeroed there varies by OpenBLAS version.
            if beta == 0 { LinearSupport.fill(c + columns.lowerBound, columns.count, 0) }
            if transB {
                // B is [N, K]: each output column is a row of B dotted with the row of A.
                cblas_sgemv(
                    CblasRowMajor, CblasNoTrans, Int32(columns.count), Int32(k), alpha, b + columns.lowerBound * ldb,
                    Int32(max(ldb, 1)), a, increment, beta, c + columns.lowerBound, 1)
            } else {
                cblas_sgemv(
                    CblasRowMajor, CblasTrans, Int32(k), Int32(columns.count), alpha, b + columns.lowerBound,
                    Int32(max(ldb, 1)), a, increment, beta, c + columns.lowerBound, 1)
            }
            epilogue.apply(c, ldc: n, rows: 0..<1, columns: columns)
        }
        let blocks = n * k >= rowParallelThreshold ? min(context.threads, max(1, n / 16)) : 1
        if blocks == 1 {
            run(0..<n)
            return
        }
        context.parallelFor(blocks) { indices in
            for index in indices { run(n * index / blocks..<n * (index + 1) / blocks) }
        }
    }

    /// How many blocks to cut the split dimension into: one per thread, or with an epilogue
    /// (`cacheBlocks`) as many as keep each about `blockElements` outputs; none narrower than 16.
    static func blockCount(extent: Int, other: Int, work: Int, threads: Int, cacheBlocks: Bool) -> Int {
        guard threads > 1 || (cacheBlocks && extent * other > blockElements), work >= parallelThreshold else { return 1 }
        let bySize = cacheBlocks ? (extent * other + blockElements - 1) / blockElements : 1
        let count = max(bySize, threads)
        return max(1, min(count, extent / 16))
    }

    /// One OpenBLAS call on the block `rows` x `columns` of C.
    private static func callBLAS(
        transA: Bool, transB: Bool, rows: Range<Int>, columns: Range<Int>, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let block = c + rows.lowerBound * ldc + columns.lowerBound
        if k == 0 {
            // An empty sum: OpenBLAS's handling of k = 0 varies by version, so scale here.
            for row in 0..<rows.count {
                let line = block + row * ldc
                for column in 0..<columns.count { line[column] = beta == 0 ? 0 : beta * line[column] }
            }
            return
        }
        let aBlock = a + (transA ? rows.lowerBound : rows.lowerBound * lda)
        let bBlock = b + (transB ? columns.lowerBound * ldb : columns.lowerBound)
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(rows.count), Int32(columns.count), Int32(k), alpha, aBlock, Int32(max(lda, 1)), bBlock,
            Int32(max(ldb, 1)), beta, block, Int32(max(ldc, 1)))
    }
}

/// What happens to each finished block of a GEMM result while it is in cache: a bias per
/// row (a convolution's output channel in NCHW) or per column (a Linear layer's output
/// feature), then an activation.
struct GEMMEpilogue {
    enum Bias {
        case none
        case perRow(UnsafePointer<Float>)
        case perColumn(UnsafePointer<Float>)
    }

    var bias: Bias = .none
    var activation: UnaryFunction?
    /// Added before the activation: a matrix laid out as C (same row stride), element (r, c)
    /// at `residual[r * ldc + c]`.
    var residual: UnsafePointer<Float>?

    var hasColumnBias: Bool {
        if case .perColumn = bias { return true }
        return false
    }

    var isEmpty: Bool {
        if case .none = bias { return activation == nil && residual == nil }
        return false
    }

    /// Applies the epilogue to C's block `rows` x `columns` (indices into the whole C).
    func apply(_ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Range<Int>, columns: Range<Int>) {
        if isEmpty { return }
        let width = columns.count
        for row in rows {
            let line = c + row * ldc + columns.lowerBound
            switch bias {
            case .none: break
            case .perRow(let values):
                let value = values[row]
                for column in 0..<width { line[column] += value }
            case .perColumn(let values):
                let start = values + columns.lowerBound
                for column in 0..<width { line[column] += start[column] }
            }
            if let residual {
                let source = residual + row * ldc + columns.lowerBound
                for column in 0..<width { line[column] += source[column] }
            }
            activation?.map(line, line, count: width)
        }
    }
}

/// An epilogue's bias per row, residual and activation, applied to a vector of one row of a
/// tile while it is in registers (GEMM kernels call it just before storing).
struct TileFinish<F: FloatVectorFunction> {
    /// The bias of C's row 0 (indexed by absolute row), or nil.
    let bias: UnsafePointer<Float>?
    /// How far the residual's element lies from C's (same layout), or nil.
    let residualOffset: Int?
    let function: F

    /// The finished vector bound for `destination` (its first `count` lanes are real).
    @inline(__always) func callAsFunction(
        _ v: SIMD16<Float>, row: Int, at destination: UnsafeMutablePointer<Float>, count: Int = 16
    ) -> SIMD16<Float> {
        var x = bias.map { v + SIMD16(repeating: $0[row]) } ?? v
        if let residualOffset {
            let source = UnsafePointer(destination + residualOffset)
            if count >= 16 {
                x += UnsafeRawPointer(source).loadUnaligned(as: SIMD16<Float>.self)
            } else {
                for lane in 0..<count { x[lane] += source[lane] }
            }
        }
        return function(x)
    }
}

/// GEMM code generic over the tile finish, run specialized for an epilogue's activation.
protocol TileFinishVisitor {
    associatedtype Result
    func visit<F: FloatVectorFunction>(_ finish: TileFinish<F>?) -> Result
}

extension GEMMEpilogue {
    /// Calls `visitor` with this epilogue as a tile finish specialized for its activation;
    /// with nil when the bias runs per column (the caller then applies `self` to stored
    /// blocks instead).
    func withTileFinish<Visitor: TileFinishVisitor>(_ visitor: Visitor, c: UnsafeMutablePointer<Float>) -> Visitor.Result {
        let residualOffset = residual.map { $0 - UnsafePointer(c) }
        let rowBias: UnsafePointer<Float>?
        switch bias {
        case .perColumn: return visitor.visit(nil as TileFinish<IdentityFunction>?)
        case .perRow(let values): rowBias = values
        case .none: rowBias = nil
        }
        guard let activation else {
            return visitor.visit(TileFinish(bias: rowBias, residualOffset: residualOffset, function: IdentityFunction()))
        }
        return activation.accept(TileFinishAdapter(visitor: visitor, bias: rowBias, residualOffset: residualOffset))
    }
}

private struct TileFinishAdapter<Visitor: TileFinishVisitor>: FloatVectorFunctionVisitor {
    let visitor: Visitor
    let bias: UnsafePointer<Float>?
    let residualOffset: Int?
    func visit<F: FloatVectorFunction>(_ function: F) -> Visitor.Result {
        visitor.visit(TileFinish(bias: bias, residualOffset: residualOffset, function: function))
    }
}
