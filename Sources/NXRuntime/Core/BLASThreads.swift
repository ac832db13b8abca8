import CBLAS

/// OpenBLAS keeps one global thread count; sessions set it so `--threads` caps OpenBLAS's
/// threads as well as ours (our parallel loops never call BLAS, so the two never nest).
enum BLASThreads {
    static func set(_ threads: Int) { openblas_set_num_threads(Int32(max(1, threads))) }
}
