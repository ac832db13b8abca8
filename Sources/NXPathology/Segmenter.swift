import Dispatch
import NXIR
import NXRuntime

/// Runs a segmentation model over an image of any size: cuts it into tiles (`TileLayout`),
/// runs them through a `Session` in batches, several batches side by side, and stitches
/// np / hv / tp into full-resolution maps (`SegmentationMaps`).
///
/// Memory stays bounded for large images: tiles are produced in raster order (horizontal
/// strips of tiles), one round of batches' tile inputs exists at a time, and only the strips
/// still being filled are held at output resolution (`StripStitcher`). The full-resolution
/// maps are the only image-sized allocations.
public final class Segmenter: Sendable {
    public let session: Session
    public let info: SegmentationModelInfo
    /// Tiles per `Session.run`. The model's batch dimension is normally symbolic, and the
    /// last batch then holds only the tiles left; a model with a fixed batch dimension gets
    /// exactly that many every time, the last batch padded by repeating its last tile.
    public let batchSize: Int
    /// Batches run at once, the session's threads split evenly between them (a round with
    /// fewer batches, the first or the image's last, gives each more threads).
    public let concurrentRuns: Int
    private let batchIsFixed: Bool
    private let inputName: String

    /// One tile a batch: with one run per core (`concurrentRuns`), a tile's activations are
    /// what each core's caches hold; see `defaultConcurrentRuns`.
    public static let defaultBatchSize = 1

    /// One run per thread: HistoNeXt-T tiles on 2 threads took 300-310 ms each as two
    /// one-thread runs side by side, against 330-360 ms as one two-thread run (batch 1 or 2),
    /// because an op split between threads waits for the slower half and its GEMMs are cut
    /// into smaller blocks.
    public static func defaultConcurrentRuns(threads: Int) -> Int { max(1, threads) }

    /// Checks the model against its metadata: one float input `[batch, 3, inputSize,
    /// inputSize]`, and the np / hv (/ tp) outputs named in `nx.output_names`.
    /// `concurrentRuns` nil: one per session thread.
    public init(session: Session, batchSize: Int = Segmenter.defaultBatchSize, concurrentRuns: Int? = nil) throws {
        guard batchSize >= 1 else { throw ModelContractError.option("batch size must be at least 1, got \(batchSize)") }
        if let concurrentRuns, concurrentRuns < 1 {
            throw ModelContractError.option("concurrent runs must be at least 1, got \(concurrentRuns)")
        }
        let info = try SegmentationModelInfo(metadata: session.model.metadata)
        guard session.inputs.count == 1, let input = session.inputs.first else {
            throw ModelContractError.input(
                name: session.inputs.map(\.name).joined(separator: ", "),
                message: "the model must have exactly one input, it has \(session.inputs.count)")
        }
        if let type = input.elementType, type != .float32 {
            throw ModelContractError.input(name: input.name, message: "must be float32, is \(type)")
        }
        var fixedBatch: Int?
        if let shape = input.shape {
            let size = info.geometry.inputSize
            guard shape.rank == 4 else {
                throw ModelContractError.input(name: input.name, message: "must be [batch, 3, \(size), \(size)], is \(shape)")
            }
            for (axis, expected) in [(1, 3), (2, size), (3, size)] {
                if let value = shape.dimensions[axis].value, value != expected {
                    throw ModelContractError.input(
                        name: input.name, message: "is \(shape) but nx.input_size says [batch, 3, \(size), \(size)]")
                }
            }
            fixedBatch = shape.dimensions[0].value
        }
        let available = Set(session.outputs.map(\.name))
        for name in [info.npOutput, info.hvOutput] + (info.tpOutput.map { [$0] } ?? []) where !available.contains(name) {
            throw ModelContractError.output(
                name: name, message: "named in nx.output_names but the model's outputs are \(session.outputs.map(\.name).joined(separator: ", "))")
        }
        self.session = session
        self.info = info
        self.batchSize = fixedBatch ?? batchSize
        self.batchIsFixed = fixedBatch != nil
        self.inputName = input.name
        self.concurrentRuns = concurrentRuns ?? Self.defaultConcurrentRuns(threads: session.options.threads)
    }

    /// Loads `model` into a new session first.
    public convenience init(
        model: Model, sessionOptions: SessionOptions = SessionOptions(), batchSize: Int = Segmenter.defaultBatchSize,
        concurrentRuns: Int? = nil
    ) throws {
        try self.init(session: Session(model: model, options: sessionOptions), batchSize: batchSize, concurrentRuns: concurrentRuns)
    }

    /// Segments `image`. `progress` is called after every round of batches, on the calling
    /// thread.
    public func segment(_ image: RGBImage, progress: ((SegmentationProgress) -> Void)? = nil) throws -> SegmentationResult {
        let start = DispatchTime.now().uptimeNanoseconds
        func seconds(since begin: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9 }
        let geometry = info.geometry
        let layout = geometry.layout(width: image.width, height: image.height)
        let builder = TileInputBuilder(image: image, layout: layout, normalization: info.normalization)
        var timings = SegmentationTimings()
        var statistics = SegmentationStatistics()
        statistics.tiles = layout.count
        statistics.batchSize = batchSize
        statistics.concurrentRuns = concurrentRuns

        let size = geometry.inputSize
        let sampleFloats = 3 * size * size
        var stitcher: StripStitcher?
        var typeCount = info.typeCount
        var tilesHeld = 0
        var done = 0
        while done < layout.count {
            // The first round is one batch on every thread: a session's first run of a shape
            // records its memory plan, faulting in each buffer as it goes, and two first runs
            // side by side fault at once (HistoNeXt-T at 2 threads: +240 ms on that round,
            // against +45 for one run alone).
            let runs = done == 0 ? 1 : concurrentRuns
            let roundTiles = (done..<min(done + batchSize * runs, layout.count)).map(layout.tile)
            let batches = stride(from: 0, to: roundTiles.count, by: batchSize).map {
                Array(roundTiles[$0..<min($0 + batchSize, roundTiles.count)])
            }

            var begin = DispatchTime.now().uptimeNanoseconds
            // A short last batch runs as it is (49 tiles in pairs would otherwise compute 50).
            let feeds = batches.map { tiles in
                let slots = batchIsFixed ? batchSize : tiles.count
                let storage = TensorStorage(byteCount: slots * sampleFloats * MemoryLayout<Float>.stride) { buffer in
                    let floats = buffer.bindMemory(to: Float.self).baseAddress!
                    for slot in 0..<slots { builder.fill(tiles[min(slot, tiles.count - 1)], into: floats, slot: slot) }
                }
                return Tensor(dataType: .float32, shape: [slots, 3, size, size], storage: storage)
            }
            tilesHeld += roundTiles.count
            statistics.peakTilesHeld = max(statistics.peakTilesHeld, tilesHeld)
            timings.tilePreparation += seconds(since: begin)

            // Each batch's outputs become probabilities on the thread that ran it, beside the
            // other runs; only copying them into the strips is left for this thread.
            begin = DispatchTime.now().uptimeNanoseconds
            let knownTypes = typeCount
            let converted = try runSideBySide(feeds) { index, outputs in
                try probabilities(outputs, tiles: batches[index].count, slots: feeds[index].shape[0], knownTypes: knownTypes)
            }
            let conversion = converted.map(\.seconds).max() ?? 0
            timings.inference += seconds(since: begin) - conversion
            tilesHeld -= roundTiles.count

            begin = DispatchTime.now().uptimeNanoseconds
            for (tiles, batch) in zip(batches, converted) {
                if info.tpOutput != nil, typeCount == nil { typeCount = batch.types }
                if stitcher == nil { stitcher = StripStitcher(layout: layout, channels: batch.channels) }
                guard batch.channels == stitcher!.channels else {
                    throw ModelContractError.output(
                        name: info.tpOutput ?? info.npOutput, message: "has \(batch.types) types in one batch and \(stitcher!.channels - 3) in another")
                }
                batch.place(tiles, into: stitcher!)
                statistics.batches += 1
                statistics.tilesComputed += batch.slots
            }
            timings.stitching += seconds(since: begin) + conversion

            done += roundTiles.count
            progress?(SegmentationProgress(tilesDone: done, tilesTotal: layout.count))
        }
        guard let stitcher, stitcher.isComplete else { throw ModelContractError.option("internal error: stitching did not finish every row") }
        statistics.peakStripsHeld = stitcher.peakStripsHeld
        var planes = stitcher.planes
        let types = Array(planes[3...])
        planes.removeLast(planes.count - 3)
        let maps = SegmentationMaps(
            width: image.width, height: image.height, nucleusProbability: planes[0], horizontal: planes[1],
            vertical: planes[2], typeProbabilities: types)
        timings.total = seconds(since: start)
        return SegmentationResult(maps: maps, layout: layout, timings: timings, statistics: statistics)
    }

    /// Runs each batch through the session at once, the session's threads split evenly between
    /// them, and hands each batch's outputs to `convert` on the thread that ran it; the
    /// results in order, or the first batch's error.
    private func runSideBySide<Converted>(
        _ feeds: [Tensor], _ convert: (Int, [String: Tensor]) throws -> Converted
    ) throws -> [Converted] {
        if feeds.count == 1 { return [try convert(0, try session.run([inputName: feeds[0]]))] }
        let threads = max(1, session.options.threads / feeds.count)
        return try Parallel.map(feeds.count, threads: feeds.count) { index in
            try convert(index, try session.run([inputName: feeds[index]], threads: threads))
        }
    }

    /// The output `name`, checked to be float32 `[batch, channels, outputSize, outputSize]`
    /// (`channels` nil: any count of at least one).
    private func checkedOutput(_ outputs: [String: Tensor], _ name: String, channels: Int?, batch: Int) throws -> Tensor {
        guard let tensor = outputs[name] else { throw ModelContractError.output(name: name, message: "was not produced") }
        let size = info.geometry.outputSize
        guard tensor.dataType == .float32 else {
            throw ModelContractError.output(name: name, message: "must be float32, is \(tensor.dataType)")
        }
        let channelsOK = channels.map { tensor.rank == 4 && tensor.shape[1] == $0 } ?? (tensor.rank == 4 && tensor.shape[1] >= 1)
        guard tensor.rank == 4, tensor.shape[0] == batch, channelsOK, tensor.shape[2] == size, tensor.shape[3] == size,
            tensor.sizeProblem == nil
        else {
            let channelText = channels.map(String.init) ?? "types"
            throw ModelContractError.output(
                name: name, message: "has shape \(tensor.shape), expected [\(batch), \(channelText), \(size), \(size)] (nx.output_size \(size))")
        }
        return tensor
    }

    /// Checks a batch's outputs and converts the logits of its first `tiles` samples.
    private func probabilities(_ outputs: [String: Tensor], tiles: Int, slots: Int, knownTypes: Int?) throws -> TileProbabilities {
        let np = try checkedOutput(outputs, info.npOutput, channels: 2, batch: slots)
        let hv = try checkedOutput(outputs, info.hvOutput, channels: 2, batch: slots)
        let tp = try info.tpOutput.map { try checkedOutput(outputs, $0, channels: knownTypes, batch: slots) }
        return TileProbabilities(np: np, hv: hv, tp: tp, tiles: tiles, slots: slots, outputSize: info.geometry.outputSize)
    }
}
