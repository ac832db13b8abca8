import CBLAS
import Foundation

/// OpenBLAS keeps one global thread count. Sessions set it to one: `SGEMM` cuts each GEMM
/// into blocks and runs them on the session's own threads, so one pool serves every op.
enum BLASThreads {
    static func useCallerThreadOnly() {
        _ = kernelSelection
        openblas_set_num_threads(1)
        _ = stopOwnThreads
    }

    /// OpenBLAS's worker threads, started when the library loads, are never used (one thread
    /// count, ours). Left alive, one spun in sched_yield on the second core for 0.1 s after
    /// start-up: a 2-thread 1x1 convolution run alone took 2.7 ms instead of 1.45 half the
    /// time, and whole networks ran about 2% slower.
    private static let stopOwnThreads: Void = nx_stop_blas_threads()

    /// Debian's OpenBLAS 0.3.21 does not recognise some current CPUs (a Zen 4 VM reports
    /// itself as a generic "Intel Xeon Processor") and falls back to its SSE3 "Prescott"
    /// kernels, 8-10x slower. When the user has not chosen a core (OPENBLAS_CORETYPE) and
    /// the detected one is such a fallback, pick the kernels the CPU flags support and
    /// redo OpenBLAS's dynamic-arch initialisation. Runs once, before any BLAS call of ours.
    static let kernelSelection: Void = {
        guard getenv("OPENBLAS_CORETYPE") == nil else { return }
        let fallbacks: Set<String> = [
            "Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Katmai", "Coppermine", "Northwood",
            "Banias", "Barcelona", "Sandybridge",
        ]
        guard fallbacks.contains(String(cString: openblas_get_corename())),
            let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return }
        let flags = Set(line.split(separator: " ").map(String.init))
        let core: String
        if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512dq", "avx512vl"]) {
            core = "SkylakeX"
        } else if flags.isSuperset(of: ["avx2", "fma"]) {
            core = "Haswell"
        } else {
            return
        }
        setenv("OPENBLAS_CORETYPE", core, 1)
        nx_reset_gotoblas()
        gotoblas_dynamic_init()
    }()

    /// The OpenBLAS kernel set in use, for benchmark reports.
    static var coreName: String {
        _ = kernelSelection
        return String(cString: openblas_get_corename())
    }
}
