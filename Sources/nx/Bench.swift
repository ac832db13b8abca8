import ArgumentParser
import Foundation
import NXFormat
import NXIR
import NXRuntime

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time a model: load time, median and spread of N runs, peak memory, per-op profile.")

    @Argument(help: "An .onnx file.") var model: String
    @Option(help: "Threads for kernels and OpenBLAS (default: all cores).") var threads: Int?
    @Option(help: "Timed runs.") var runs = 20
    @Option(help: "Untimed warm-up runs.") var warmup = 3
    @Option(name: .customLong("shape"), help: "NAME=1x3x224x224 for inputs with symbolic dimensions (others get 1).") var shapes: [String] = []
    @Option(name: .customLong("input"), help: "NAME=FILE.npy: time on this tensor instead of a seeded random one.") var inputFiles: [String] = []
    @Flag(help: "Skip the optimizer passes.") var noOptimize = false
    @Option(name: .customLong("disable-pass"), help: "Skip one optimizer pass (repeatable).") var disabledPasses: [String] = []
    @Option(help: "Also list the N slowest nodes, with output shape and GFLOP/s.") var nodes = 0
    @Flag(help: "Print JSON instead of tables.") var json = false

    func run() throws {
        try reportingErrors {
            guard runs > 0 else { throw ValidationError("--runs must be positive") }
            var requested: [String: [Int]] = [:]
            for item in shapes {
                let parts = item.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, let dims = Optional(parts[1].split(separator: "x").compactMap { Int($0) }),
                    dims.count == parts[1].split(separator: "x").count
                else { throw ValidationError("--shape takes NAME=AxBxC, got '\(item)'") }
                requested[String(parts[0])] = dims
            }
            let loadStart = Date()
            let loaded = try ONNXReader.read(path: model)
            let session = try Session(
                model: loaded,
                options: SessionOptions(threads: threads, optimize: !noOptimize, disabledPasses: Set(disabledPasses), profile: true))
            let loadSeconds = Date().timeIntervalSince(loadStart)
            let given = try npyFeeds(inputFiles)
            let feeds = try session.inputs.reduce(into: [String: Tensor]()) { feeds, info in
                feeds[info.name] = try given[info.name] ?? syntheticInput(info, shape: requested[info.name])
            }
            for _ in 0..<warmup { _ = try session.run(feeds) }
            session.resetProfile()
            var samples: [Double] = []
            for _ in 0..<runs {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try session.run(feeds)
                samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
            report(samples: samples, loadSeconds: loadSeconds, session: session, feeds: feeds)
        }
    }

    private func report(samples: [Double], loadSeconds: Double, session: Session, feeds: [String: Tensor]) {
        let sorted = samples.sorted()
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        let peakMiB = Double(peakResidentBytes()) / Double(1 << 20)
        let profile = session.profile
        let totalNanoseconds = max(1, profile.reduce(0) { $0 + $1.nanoseconds })
        let threadCount = session.options.threads
        if json {
            try? printJSON([
                "model": model, "threads": threadCount, "runs": samples.count, "median_ms": median,
                "min_ms": sorted.first!, "max_ms": sorted.last!, "samples_ms": samples,
                "load_seconds": loadSeconds, "peak_rss_mib": peakMiB,
                "arena_mib": Double(session.arenaBytes) / Double(1 << 20),
                "buffer_allocations": session.bufferAllocations, "buffer_mib": Double(session.bufferBytes) / Double(1 << 20),
                "inputs": feeds.mapValues { $0.shape },
                "profile": profile.map { entry -> [String: Any] in
                    [
                        "op_type": entry.opType, "nodes": entry.nodes, "calls": entry.calls,
                        "ms_per_run": Double(entry.nanoseconds) / 1e6 / Double(samples.count),
                        "share": Double(entry.nanoseconds) / Double(totalNanoseconds),
                        "gflops": entry.flops > 0 ? Double(entry.flops) / Double(entry.nanoseconds) : 0,
                    ]
                },
                "nodes": session.nodeProfile.prefix(nodes).map { entry -> [String: Any] in
                    [
                        "node": entry.node, "op_type": entry.opType, "output_shape": entry.outputShape,
                        "ms_per_run": Double(entry.nanoseconds) / 1e6 / Double(samples.count),
                        "gflops": entry.flops > 0 ? Double(entry.flops) / Double(entry.nanoseconds) : 0,
                    ]
                },
            ])
            return
        }
        print("\(model): \(feeds.map { "\($0.key) \($0.value.shape)" }.sorted().joined(separator: ", ")), \(threadCount) thread(s)")
        print(String(format: "  load %.3f s; %d runs: median %.2f ms, min %.2f, max %.2f; peak RSS %.0f MiB (planned arena %.0f MiB)",
                     loadSeconds, samples.count, median, sorted.first!, sorted.last!, peakMiB, Double(session.arenaBytes) / Double(1 << 20)))
        print("  op type                     nodes    ms/run   share   GFLOP/s")
        for entry in profile {
            let msPerRun = Double(entry.nanoseconds) / 1e6 / Double(samples.count)
            let gflops = entry.flops > 0 ? String(format: "%8.1f", Double(entry.flops) / Double(entry.nanoseconds)) : "       -"
            print(String(format: "  %@ %6d %9.2f %6.1f%% %@", entry.opType.padding(toLength: 26, withPad: " ", startingAt: 0),
                         entry.nodes, msPerRun, 100 * Double(entry.nanoseconds) / Double(totalNanoseconds), gflops))
        }
        guard nodes > 0 else { return }
        print("  slowest nodes              op type                ms/run   GFLOP/s  output")
        for entry in session.nodeProfile.prefix(nodes) {
            let msPerRun = Double(entry.nanoseconds) / 1e6 / Double(samples.count)
            let gflops = entry.flops > 0 ? String(format: "%8.1f", Double(entry.flops) / Double(entry.nanoseconds)) : "       -"
            print(String(format: "  %@ %@ %7.3f %@  %@", String(entry.node.suffix(26)).padding(toLength: 26, withPad: " ", startingAt: 0),
                         entry.opType.padding(toLength: 20, withPad: " ", startingAt: 0), msPerRun, gflops,
                         entry.outputShape.map(String.init).joined(separator: "x")))
        }
    }
}

/// A seeded input for benchmarking: uniform [-1, 1) floats, zeros for other types.
func syntheticInput(_ info: ValueInfo, shape requested: [Int]?) throws -> Tensor {
    guard let declared = info.shape else {
        guard let requested else { throw ValidationError("input '\(info.name)' has no declared shape: pass --shape \(info.name)=...") }
        return makeInput(info.elementType ?? .float32, requested)
    }
    let shape = requested ?? declared.dimensions.map { $0.value ?? 1 }
    guard shape.count == declared.rank else {
        throw ValidationError("--shape \(info.name) has rank \(shape.count), the model declares \(declared)")
    }
    return makeInput(info.elementType ?? .float32, shape)
}

private func makeInput(_ type: DataType, _ shape: [Int]) -> Tensor {
    if type == .float32 {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let values = (0..<elementCount(shape)).map { _ -> Float in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 23) - 1
        }
        return Tensor(shape: shape, scalars: values)
    }
    return Tensor(dataType: type, shape: shape, bytes: [UInt8](repeating: 0, count: elementCount(shape) * (type.byteSize ?? 1)))
}

/// Peak resident set size of this process: VmHWM from /proc, because getrusage's ru_maxrss
/// reports the parent's peak for a child that a Python process started.
func peakResidentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
        let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
    else { return 0 }
    return kilobytes * 1024
}
