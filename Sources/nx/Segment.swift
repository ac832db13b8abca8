import ArgumentParser
import Foundation
import NXFormat
import NXIR
import NXPathology
import NXRuntime

struct Segment: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find every nucleus in an H&E image: instances, types, centroids, contours.",
        discussion: "Writes instances.png, types.png, overlay.png, nuclei.json (HoVer-Net layout) and nuclei.geojson (QuPath) into --out, all or nothing.")

    @Argument(help: "An H&E image (PNG).") var image: String
    @Option(help: "A HistoNeXt (or HoVer-Net-style) .onnx model with nx.* geometry metadata.") var model: String
    @Option(help: "Output folder (must not exist unless --overwrite).") var out: String
    @Option(help: "Threads for kernels and OpenBLAS (default: all cores).") var threads: Int?
    @Option(help: "Tiles per inference batch.") var batchSize = Segmenter.defaultBatchSize
    @Option(help: "Batches run side by side, the threads split between them (default: one per thread).") var concurrentRuns: Int?
    @Flag(help: "Replace an existing output folder.") var overwrite = false
    @Flag(help: "No progress bar.") var quiet = false

    func run() throws {
        try reportingErrors {
            let clock = Date()
            try SegmentationOutputWriter.checkDestination(out, overwrite: overwrite)
            // The model loads on another thread while the image decodes (about 20 ms of a
            // 1000x1000 PNG); the image's errors still come first.
            let (model, threads, batchSize, concurrentRuns) = (model, threads, batchSize, concurrentRuns)
            let loading = BackgroundResult {
                let loaded = try ONNXReader.read(path: model)
                let segmenter = try Segmenter(
                    model: loaded, sessionOptions: SessionOptions(threads: threads), batchSize: batchSize, concurrentRuns: concurrentRuns)
                return (loaded, segmenter)
            }
            let picture = try PNGImage.read(path: image)
            let (loaded, segmenter) = try loading.value()
            let loadSeconds = Date().timeIntervalSince(clock)
            let bar = ProgressBar(enabled: !quiet)
            let result = try NucleusSegmentation.run(picture, segmenter: segmenter) { bar.update($0) }
            bar.finish()
            let writeStart = Date()
            try SegmentationOutputWriter.write(result.output, to: out, overwrite: overwrite, threads: segmenter.session.options.threads)
            let writeSeconds = Date().timeIntervalSince(writeStart)
            let tileMACs = Self.macsPerTile(loaded, segmenter: segmenter)
            summarize(
                result, picture: picture, loadSeconds: loadSeconds, writeSeconds: writeSeconds, total: Date().timeIntervalSince(clock),
                tileMACs: tileMACs)
        }
    }

    /// The model's multiply-adds for one tile (nil when shape inference cannot count them).
    static func macsPerTile(_ model: Model, segmenter: Segmenter) -> Int? {
        guard let input = model.graph.runtimeInputs.first else { return nil }
        let size = segmenter.info.geometry.inputSize
        guard let count = try? model.graph.multiplyAccumulates(inputs: [input.name: [1, 3, size, size]]), count.isComplete else { return nil }
        return count.total
    }

    private func summarize(
        _ result: NucleusSegmentation.Result, picture: RGBImage, loadSeconds: Double, writeSeconds: Double, total: Double, tileMACs: Int?
    ) {
        let stats = result.inference.statistics
        let timings = result.inference.timings
        print("\(image): \(picture.width)x\(picture.height), \(result.records.count) nuclei -> \(out)")
        let names = result.output.classNames
        if !names.isEmpty {
            var counts = [Int: Int]()
            for record in result.records { counts[record.type ?? 0, default: 0] += 1 }
            for type in counts.keys.sorted() {
                let name = type < names.count ? names[type] : "type\(type)"
                print("  \(name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(counts[type]!)")
            }
        }
        print(String(format: "  load %.2f s, tiles %.2f s, inference %.2f s (%d tiles, %.2f tiles/s), stitching %.2f s, post-processing %.2f s, writing %.2f s; total %.2f s; peak RSS %.0f MiB",
                     loadSeconds, timings.tilePreparation, timings.inference, stats.tiles, Double(stats.tiles) / max(timings.inference, 1e-9),
                     timings.stitching, result.postProcessingSeconds, writeSeconds, total, Double(peakResidentBytes()) / Double(1 << 20)))
        if let tileMACs, timings.inference > 0 {
            let flops = 2 * Double(tileMACs) * Double(stats.tiles)
            print(String(format: "  inference %.1f GFLOP/s (%.2f GMACs per tile)", flops / timings.inference / 1e9, Double(tileMACs) / 1e9))
        }
    }
}

/// A one-line progress bar on stderr, shown only for jobs of more than a few tiles.
final class ProgressBar: @unchecked Sendable {
    private let enabled: Bool
    private var shown = false
    private let lock = NSLock()

    /// Drawn when stderr is a terminal (or NX_PROGRESS is set, for logs that want it).
    init(enabled: Bool) {
        self.enabled = enabled && (isatty(2) != 0 || ProcessInfo.processInfo.environment["NX_PROGRESS"] != nil)
    }

    func update(_ progress: SegmentationProgress) {
        guard enabled, progress.tilesTotal > 8 else { return }
        lock.lock()
        defer { lock.unlock() }
        let width = 30
        let filled = Int(progress.fraction * Double(width))
        let line = "\r[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            + "] \(progress.tilesDone)/\(progress.tilesTotal) tiles"
        FileHandle.standardError.write(Data(line.utf8))
        shown = true
    }

    func finish() {
        if shown { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
