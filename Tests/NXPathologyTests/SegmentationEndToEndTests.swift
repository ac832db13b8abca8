import Foundation
import NXTestSupport
import Testing
import NXIR
import NXModels
@testable import NXPathology

/// The whole job on a real H&E crop with a real HistoNeXt graph (the micro variant, seeded):
/// tiles, inference, stitching, post-processing and the output folder, checked for the
/// contracts that tie the files together.
@Suite struct SegmentationEndToEndTests {
    @Test func sampleImageGoesThroughTheWholePipeline() throws {
        let full = try PNGImage.read(path: "\(Fixtures.repositoryRoot)/Tests/Fixtures/he/sample.png")
        #expect(full.width == 512 && full.height == 512)
        // A 200x150 crop: 2x1 tiles of 160 input pixels, fast in a debug build.
        var pixels: [UInt8] = []
        for row in 0..<150 { pixels += full.pixels[(row * 512 * 3)..<(row * 512 * 3 + 200 * 3)] }
        let image = try #require(RGBImage(width: 200, height: 150, pixels: pixels))

        var parameters = SeededParameters(seed: 3)
        let model = try HistoNeXt.model(.micro, numTypes: 6, parameters: &parameters)
        let segmenter = try Segmenter(model: model, sessionOptions: .init(threads: 2), batchSize: 2)
        var progress: [Int] = []
        let result = try NucleusSegmentation.run(image, segmenter: segmenter) { progress.append($0.tilesDone) }
        #expect(result.inference.statistics.tiles == 2)
        #expect(progress.last == 2)
        #expect(result.output.instances.width == 200 && result.output.instances.height == 150)

        // Every record's id is an id of the instance map and vice versa.
        let ids = Set(result.output.instances.pixels.filter { $0 != 0 })
        #expect(Set(result.records.map(\.id)) == ids)
        // types.png carries each nucleus's voted type on its pixels.
        let typeOf = Dictionary(uniqueKeysWithValues: result.records.map { ($0.id, UInt8($0.type ?? 0)) })
        for (index, label) in result.output.instances.pixels.enumerated() where label != 0 {
            #expect(result.output.types.pixels[index] == typeOf[label])
        }

        let scratch = try TemporaryDirectory()
        let out = scratch.file("segmented")
        try SegmentationOutputWriter.write(result.output, to: out)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == SegmentationOutputWriter.fileNames.sorted())
        let written = try PNGImage.readLabelMap(path: out + "/instances.png")
        #expect(written.pixels == result.output.instances.pixels)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/nuclei.json"))) as! [String: Any]
        let nuclei = json["nuc"] as! [String: Any]
        #expect(Set(nuclei.keys.compactMap { Int32($0) }) == ids)
        // Writing again into the same folder without overwrite is refused, not merged.
        #expect(throws: (any Error).self) { try SegmentationOutputWriter.write(result.output, to: out) }
    }
}
