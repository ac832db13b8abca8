import Foundation
import NXFormat
import NXIR
import NXTestSupport
import Testing

@testable import NXPathology

/// HoVer-Net's post-processing against the Python reference (hovernet_postproc_reference.py:
/// scipy, scikit-image, OpenCV): the committed synthetic case always, and every case freshly
/// generated, stage by stage, when Python is available.
@Suite struct PostProcessingFixtureTests {
    let processor = PostProcessor()

    /// Runs the pipeline on a case and checks labels and records against the reference; on
    /// three threads (more pieces at once than steps), every map and record is the same.
    func check(_ fixture: PostProcessingCase) throws -> (PostProcessingStages, [InstanceRecord]) {
        let np = try fixture.floats("np.npy"), hv = try fixture.floats("hv.npy")
        let stages = try processor.stages(np: np, hv: hv, width: fixture.width, height: fixture.height)
        let matching = PostProcessingComparison.compareLabels(stages.instances, try fixture.int32s("labels.npy"), fixture.name)
        let tp = try fixture.bytes("tp.npy")
        let records = try processor.instanceRecords(labels: stages.instances, typeArgmax: tp)
        try PostProcessingComparison.compareRecords(records, fixture.records, matching: matching, typed: true, fixture.name)

        let threaded = PostProcessor(threads: 3)
        let threadedStages = try threaded.stages(np: np, hv: hv, width: fixture.width, height: fixture.height)
        #expect(threadedStages.foreground == stages.foreground && threadedStages.sobelH == stages.sobelH, "\(fixture.name)")
        #expect(threadedStages.sobelV == stages.sobelV && threadedStages.energy == stages.energy, "\(fixture.name)")
        #expect(threadedStages.dist == stages.dist && threadedStages.markers == stages.markers, "\(fixture.name)")
        #expect(threadedStages.instances.labels == stages.instances.labels, "\(fixture.name): instances on 3 threads")
        #expect(try threaded.instanceRecords(labels: stages.instances, typeArgmax: tp) == records, "\(fixture.name): records on 3 threads")
        return (stages, records)
    }

    @Test("the committed synthetic case matches HoVer-Net's post-processing")
    func committedSyntheticCase() throws {
        let fixture = try PostProcessingCase(directory: PostProcessingCase.committedDirectory, name: "synthetic")
        let (stages, records) = try check(fixture)
        // The case's design: touching pair split, large, border-cut, holed and mixed-type
        // nuclei found; specks and the marker-less small nucleus are not.
        #expect(records.count == 6)
        #expect(stages.instances.instanceCount == 6)
        let holed = try #require(records.first { $0.boundingBox.rowMin < 68 && $0.boundingBox.rowMax > 68 && $0.boundingBox.columnMin > 70 })
        #expect(stages.instances[86, 68] == 0, "the hole of the holed nucleus stays background")
        #expect(holed.pixelCount > 300)
        #expect(records.contains { $0.typeProbability! < 0.6 }, "the mixed-type nucleus wins by a narrow vote")
    }

    @Test("every generated case matches the reference stage by stage", .enabled(if: PythonTool.shouldRun))
    func generatedCases() throws {
        let scratch = try TemporaryDirectory()
        _ = try PythonTool.run([
            PythonTool.converterScript("make_postprocessing_fixtures.py"), "--out", scratch.path, "--stages",
        ])
        for name in ["synthetic", "crowded", "empty", "all_foreground"] {
            let fixture = try PostProcessingCase(directory: scratch.path, name: name)
            let (stages, records) = try check(fixture)
            #expect(stages.foreground == (try fixture.bytes("foreground.npy")), "\(name): foreground")
            #expect(stages.sobelH == (try fixture.floats("sobel_h.npy")), "\(name): sobel_h")
            #expect(stages.sobelV == (try fixture.floats("sobel_v.npy")), "\(name): sobel_v")
            #expect(stages.energy == (try fixture.doubles("energy.npy")), "\(name): energy")
            #expect(stages.dist == (try fixture.doubles("dist.npy")), "\(name): dist")
            #expect(stages.markers == (try fixture.int32s("markers.npy")), "\(name): markers")

            // The probability entry point gives the same records as the argmax one.
            let probabilities = try fixture.floats("tp_prob.npy")
            let fromProbabilities = try processor.instanceRecords(
                labels: stages.instances, typeProbabilities: probabilities, typeCount: fixture.typeCount)
            #expect(fromProbabilities == records, "\(name): records from probabilities")
        }
        // The committed case is what the script makes today (regenerate it if this fails).
        let committed = try PostProcessingCase(directory: PostProcessingCase.committedDirectory, name: "synthetic")
        let fresh = try PostProcessingCase(directory: scratch.path, name: "synthetic")
        for file in ["np.npy", "hv.npy", "tp.npy", "labels.npy"] {
            #expect(try Data(contentsOf: URL(fileURLWithPath: "\(committed.directory)/\(file)"))
                == Data(contentsOf: URL(fileURLWithPath: "\(fresh.directory)/\(file)")), "committed \(file) is stale")
        }
    }

    @Test("CHAIN_APPROX_SIMPLE contours are the reference's contour_simple")
    func simpleContours() throws {
        let fixture = try PostProcessingCase(directory: PostProcessingCase.committedDirectory, name: "synthetic")
        let simple = PostProcessor(PostProcessingOptions(contourApproximation: .simple))
        let labels = try InstanceMap(width: fixture.width, height: fixture.height, labels: try fixture.int32s("labels.npy"))
        let records = try simple.instanceRecords(labels: labels)
        #expect(records.count == fixture.records.count)
        for (record, expected) in zip(records, fixture.records) {
            let contour = try #require(expected["contour_simple"] as? [[Int]]).map { SIMD2(Int32($0[0]), Int32($0[1])) }
            #expect(record.contour == contour, "instance \(record.id)")
            #expect(record.type == nil)
        }
    }
}
