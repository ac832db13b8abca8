import Foundation
import NXIR
import NXRuntime
import NXTestSupport
import Testing

@testable import NXPathology

/// Tiled inference end to end with models whose outputs are known functions of the input
/// position: the stitched maps must put every output where the geometry says.
@Suite("Tiling: stitching")
struct TilingStitchingTests {
    typealias Models = TilingTestModels

    static func segmenter(_ geometry: (inputSize: Int, outputSize: Int, stride: Int, offset: Int), batch: Int = 4, fixedBatch: Int? = nil) throws -> Segmenter {
        let model = Models.coordinateModel(
            inputSize: geometry.inputSize, outputSize: geometry.outputSize, stride: geometry.stride, offset: geometry.offset, batch: fixedBatch)
        return try Segmenter(model: model, sessionOptions: SessionOptions(threads: 1), batchSize: batch)
    }

    static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }

    /// Stride 1 (HoVer-Net's geometry): the stitched maps reproduce the image exactly, so every
    /// pixel came from the right tile at the right place.
    @Test func strideOneReproducesTheImage() throws {
        let segmenter = try Self.segmenter(Models.hoverNet)
        let image = Models.coordinateImage(width: 300, height: 170)
        let result = try segmenter.segment(image)
        let maps = result.maps
        #expect(result.layout.rows == 3 && result.layout.columns == 4)
        #expect(maps.width == 300 && maps.height == 170 && maps.typeCount == 3)
        var worstProbability: Float = 0
        for y in 0..<170 {
            for x in 0..<300 {
                let index = y * 300 + x
                #expect(maps.horizontal[index] == Float(x), "x at (\(x), \(y))")
                #expect(maps.vertical[index] == Float(y), "y at (\(x), \(y))")
                let red = Float(x % 256)
                worstProbability = max(worstProbability, abs(maps.nucleusProbability[index] - Self.sigmoid((red - 128) / 64)))
                let logits = [0, red / 64, Float(y) / 64]
                let largest = logits.max()!
                let exps = logits.map { exp($0 - largest) }
                for t in 0..<3 {
                    worstProbability = max(worstProbability, abs(maps.typeProbabilities[t][index] - exps[t] / exps.reduce(0, +)))
                }
                if maps.horizontal[index] != Float(x) || maps.vertical[index] != Float(y) { return }
            }
        }
        #expect(worstProbability < 2e-6)
    }

    /// Stride 2 (HistoNeXt's geometry): grid cell g holds the value of image pixel 2g (the model
    /// samples the top-left pixel of its 2x2 block) and sits at 2g + 0.5, so bilinear
    /// upsampling gives x - 0.5 inside the image; at the edges the rule clamps (left/top) or
    /// meets the reflected pixels the last tiles saw (right/bottom).
    @Test func strideTwoUpsamplesAtTheStatedPositions() throws {
        let segmenter = try Self.segmenter(Models.histoNeXt)
        let (width, height) = (350, 250)
        let maps = try segmenter.segment(Models.coordinateImage(width: width, height: height)).maps
        func expected(_ p: Int, count: Int, gridCount: Int) -> Float {
            // Straight from the rule, independently of BilinearTaps.
            let u = (Double(p) - 0.5) / 2
            let g0 = min(max(Int(u.rounded(.down)), 0), gridCount - 1)
            let g1 = min(g0 + 1, gridCount - 1)
            let w = u <= 0 ? 0 : (u >= Double(gridCount - 1) ? 0 : u - Double(g0))
            let v0 = Double(ReflectPadding.index(2 * g0, count: count)), v1 = Double(ReflectPadding.index(2 * g1, count: count))
            return Float((1 - w) * v0 + w * v1)
        }
        let gridWidth = 3 * 80, gridHeight = 2 * 80
        for y in 0..<height {
            for x in 0..<width {
                let index = y * width + x
                let ex = expected(x, count: width, gridCount: gridWidth), ey = expected(y, count: height, gridCount: gridHeight)
                if abs(maps.horizontal[index] - ex) > 1e-3 || abs(maps.vertical[index] - ey) > 1e-3 {
                    Issue.record("(\(x), \(y)): got (\(maps.horizontal[index]), \(maps.vertical[index])), expected (\(ex), \(ey))")
                    return
                }
            }
        }
        // The rule made concrete: interior pixels read x - 0.5, pixel 0 clamps to pixel 0.
        #expect(maps.horizontal[0] == 0 && maps.vertical[0] == 0)
        #expect(abs(maps.horizontal[7 * width + 1] - 0.5) < 1e-4)
        #expect(abs(maps.horizontal[7 * width + 200] - 199.5) < 1e-4)
        #expect(abs(maps.vertical[161 * width + 3] - 160.5) < 1e-4)  // across the tile-row seam at 160
        #expect(abs(maps.horizontal[9 * width + 160] - 159.5) < 1e-4)  // across the tile-column seam
        // Probabilities stay probabilities after resampling.
        for index in stride(from: 0, to: width * height, by: 97) {
            let sum = maps.typeProbabilities.reduce(Float(0)) { $0 + $1[index] }
            #expect(abs(sum - 1) < 1e-5)
            #expect(maps.nucleusProbability[index] > 0 && maps.nucleusProbability[index] < 1)
        }
    }

    @Test func batchSizeDoesNotChangeTheResult() throws {
        let image = Models.coordinateImage(width: 210, height: 130)
        let reference = try Self.segmenter(Models.histoNeXt, batch: 1).segment(image).maps
        for batch in [2, 3, 5] {
            let result = try Self.segmenter(Models.histoNeXt, batch: batch).segment(image)
            let maps = result.maps
            #expect(maps.horizontal == reference.horizontal && maps.vertical == reference.vertical)
            #expect(maps.nucleusProbability == reference.nucleusProbability && maps.typeProbabilities == reference.typeProbabilities)
            // A symbolic batch dimension: the short last batch runs unpadded.
            #expect(result.statistics.tilesComputed == result.statistics.tiles)
            #expect(result.statistics.batches == (result.statistics.tiles + batch - 1) / batch)
        }
        // A model with a fixed batch of 2 is fed exactly 2 tiles per run (the last batch padded).
        let fixed = try Self.segmenter(Models.histoNeXt, batch: 4, fixedBatch: 2)
        #expect(fixed.batchSize == 2)
        let result = try fixed.segment(image)
        #expect(result.statistics.tiles == 2 && result.statistics.batches == 1)
        #expect(result.maps.horizontal == reference.horizontal)
        let odd = try fixed.segment(Models.coordinateImage(width: 330, height: 100))
        #expect(odd.statistics.tiles == 3 && odd.statistics.batches == 2 && odd.statistics.tilesComputed == 4)
    }

    /// Batches side by side, one thread each, give the maps of one batch at a time, bit for
    /// bit; a round holds `batchSize` x `concurrentRuns` tiles, except the first, one batch
    /// alone (it records the session's memory plan), and a round of one batch (the first, or
    /// the image's last) runs it on every thread.
    @Test func concurrentRunsDoNotChangeTheResult() throws {
        let image = Models.coordinateImage(width: 210, height: 130)
        let model = Models.coordinateModel(
            inputSize: Models.histoNeXt.inputSize, outputSize: Models.histoNeXt.outputSize, stride: Models.histoNeXt.stride,
            offset: Models.histoNeXt.offset, batch: nil)
        let reference = try Segmenter(model: model, sessionOptions: SessionOptions(threads: 1), batchSize: 1).segment(image)
        #expect(reference.statistics.concurrentRuns == 1)
        for (batch, runs) in [(1, 2), (1, 3), (2, 2)] {
            let segmenter = try Segmenter(model: model, sessionOptions: SessionOptions(threads: 2), batchSize: batch, concurrentRuns: runs)
            var reports: [SegmentationProgress] = []
            let result = try segmenter.segment(image) { reports.append($0) }
            #expect(result.maps.horizontal == reference.maps.horizontal && result.maps.vertical == reference.maps.vertical)
            #expect(result.maps.nucleusProbability == reference.maps.nucleusProbability)
            #expect(result.maps.typeProbabilities == reference.maps.typeProbabilities)
            let tiles = result.statistics.tiles
            #expect(result.statistics.batches == (tiles + batch - 1) / batch && result.statistics.tilesComputed == tiles)
            #expect(result.statistics.peakTilesHeld == max(min(tiles, batch), min(tiles - batch, batch * runs)))
            let roundsAfterFirst = (max(0, tiles - batch) + batch * runs - 1) / (batch * runs)
            #expect(reports.count == 1 + roundsAfterFirst && reports.first?.tilesDone == min(batch, tiles))
            #expect(reports.last?.tilesDone == tiles)
        }
        #expect(try Segmenter(model: model, sessionOptions: SessionOptions(threads: 2)).concurrentRuns == 2)
        #expect(throws: ModelContractError.self) { try Segmenter(model: model, concurrentRuns: 0) }
    }

    @Test(arguments: [(1, 1), (1, 7), (5, 3), (79, 81)])
    func imagesSmallerThanATile(width: Int, height: Int) throws {
        for geometry in [Models.hoverNet, Models.histoNeXt] {
            let maps = try Self.segmenter(geometry).segment(Models.coordinateImage(width: width, height: height)).maps
            #expect(maps.width == width && maps.height == height)
            #expect(maps.horizontal.count == width * height && maps.typeProbabilities.allSatisfy { $0.count == width * height })
            if geometry.stride == 1 {
                #expect(maps.horizontal == (0..<(width * height)).map { Float($0 % width) })
                #expect(maps.vertical == (0..<(width * height)).map { Float($0 / width) })
            }
        }
    }

    /// Tiles are made one batch at a time and low-resolution strips are released as soon as
    /// their rows are written: what is held at once does not grow with the image.
    @Test func memoryIsBoundedByBatchAndStrip() throws {
        let segmenter = try Self.segmenter(Models.hoverNet, batch: 4)
        var reports: [SegmentationProgress] = []
        let wide = try segmenter.segment(RGBImage(width: 700, height: 500, filling: (10, 20, 30))) { reports.append($0) }
        #expect(wide.statistics.tiles == 9 * 7)
        #expect(wide.statistics.peakTilesHeld == 4)
        #expect(wide.statistics.peakStripsHeld <= 2)
        #expect(wide.statistics.batches == 16)
        #expect(reports.count == 16 && reports.last == SegmentationProgress(tilesDone: 63, tilesTotal: 63))
        #expect(zip(reports, reports.dropFirst()).allSatisfy { $0.tilesDone < $1.tilesDone })

        // One tile per strip: a batch spans strips, still never more than batch + 1 of them.
        let tall = try segmenter.segment(RGBImage(width: 60, height: 1000, filling: (1, 2, 3)))
        #expect(tall.statistics.tiles == 13 && tall.statistics.peakTilesHeld == 4)
        #expect(tall.statistics.peakStripsHeld <= 5)
        let timings = tall.timings
        #expect(timings.inference > 0 && timings.total >= timings.inference + timings.tilePreparation)
    }

    @Test func modelContractErrorsNameTheCulprit() throws {
        var model = Models.coordinateModel(inputSize: 270, outputSize: 80, stride: 2, offset: 55)
        model.metadata["nx.output_offset"] = nil
        #expect("\(#expect(throws: ModelContractError.self) { try Segmenter(model: model) }!)".contains("nx.output_offset"))

        model = Models.coordinateModel(inputSize: 270, outputSize: 80, stride: 2, offset: 55)
        model.metadata["nx.output_names"] = "np,hv,types"
        #expect("\(#expect(throws: ModelContractError.self) { try Segmenter(model: model) }!)".contains("'types'"))

        // Metadata claiming a different input size than the graph's.
        model = Models.coordinateModel(inputSize: 270, outputSize: 80, stride: 2, offset: 55)
        model.metadata.merge(["nx.input_size": "250", "nx.output_offset": "45"]) { $1 }
        #expect("\(#expect(throws: ModelContractError.self) { try Segmenter(model: model) }!)".contains("input 'input'"))

        // Metadata claiming a different output size: caught at the first run, naming the output.
        model = Models.coordinateModel(inputSize: 270, outputSize: 80, stride: 2, offset: 55)
        model.metadata.merge(["nx.output_size": "70", "nx.output_window": "140", "nx.output_offset": "65"]) { $1 }
        let segmenter = try Segmenter(model: model, batchSize: 4)
        let error = #expect(throws: ModelContractError.self) { try segmenter.segment(RGBImage(width: 9, height: 9, filling: (0, 0, 0))) }
        // One tile, so a batch of one (the batch dimension is symbolic).
        #expect("\(error!)".contains("output 'np'") && "\(error!)".contains("[1, 2, 80, 80]"))

        #expect(throws: ModelContractError.self) { try Self.segmenter(Models.hoverNet, batch: 0) }
    }

    /// The tiles we feed are exactly the patches HoVer-Net's `_prepare_patching` cuts from its
    /// numpy-reflect-padded image (its logic, restated in Python, on the same image).
    @Test(.enabled(if: PythonTool.shouldRun), arguments: [(170, 95, 1), (37, 50, 1), (37, 50, 2), (333, 171, 2)])
    func tilesMatchHoverNetPatching(width: Int, height: Int, stride: Int) throws {
        let directory = try TemporaryDirectory()
        var generator = SystemRandomNumberGenerator()
        let image = RGBImage(width: width, height: height, pixels: (0..<(width * height * 3)).map { _ in UInt8.random(in: 0...255, using: &generator) })!
        try PNGWriter.write(image, to: directory.file("image.png"))
        let geometry = stride == 1 ? TilingGeometryTests.hoverNet : TilingGeometryTests.histoNeXt
        _ = try PythonTool.run(script: """
            import math, sys
            import numpy as np
            sys.path.insert(0, sys.argv[1])
            from make_png_fixtures import decode_png
            d = decode_png(sys.argv[2])
            img = np.array(d["samples"], dtype=np.uint8).reshape(d["height"], d["width"], 3)
            win_size, msk_size = int(sys.argv[4]), int(sys.argv[5])
            step_size = msk_size
            def get_last_steps(length):
                nr_step = math.ceil((length - msk_size) / step_size)
                return int((nr_step + 1) * step_size)
            last_h, last_w = get_last_steps(img.shape[0]), get_last_steps(img.shape[1])
            padt = padl = (win_size - step_size) // 2
            padb = last_h + win_size - img.shape[0]
            padr = last_w + win_size - img.shape[1]
            padded = np.pad(img, ((padt, padb), (padl, padr), (0, 0)), "reflect")
            with open(sys.argv[3], "wb") as out:
                for y in range(0, last_h, step_size):
                    for x in range(0, last_w, step_size):
                        out.write(padded[y:y + win_size, x:x + win_size].tobytes())
            """, arguments: [PythonTool.converterDirectory, directory.file("image.png"), directory.file("patches.raw"), "270", "\(geometry.outputWindow)"])
        let patches = try [UInt8](Data(contentsOf: URL(fileURLWithPath: directory.file("patches.raw"))))
        let layout = geometry.layout(width: width, height: height)
        let size = geometry.inputSize, patchBytes = size * size * 3
        #expect(patches.count == layout.count * patchBytes)
        let builder = TileInputBuilder(image: image, layout: layout, normalization: try InputNormalization(scale: 1))
        var input = [Float](repeating: 0, count: 3 * size * size)
        for index in 0..<layout.count {
            input.withUnsafeMutableBufferPointer { builder.fill(layout.tile(index), into: $0.baseAddress!, slot: 0) }
            let patch = patches[(index * patchBytes)..<((index + 1) * patchBytes)]
            // HWC bytes against CHW floats.
            let mismatch = (0..<(size * size)).first { pixel in
                (0..<3).contains { c in Float(patch[patch.startIndex + pixel * 3 + c]) != input[c * size * size + pixel] }
            }
            #expect(mismatch == nil, "tile \(index) differs at pixel \(mismatch ?? -1)")
        }
    }
}
