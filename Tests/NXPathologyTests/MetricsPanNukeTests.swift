import NXPathology
import Testing

@Suite("Metrics PanNuke")
struct MetricsPanNukeTests {
    static func row(_ labels: [Int32]) throws -> InstanceMap { try InstanceMap(width: labels.count, height: 1, labels: labels) }

    @Test("merging class maps numbers (class, label) in order and lets later classes win")
    func merge() throws {
        let first = try InstanceMap(width: 4, height: 2, labels: [1, 1, 0, 0, 0, 0, 2, 2])
        let second = try InstanceMap(width: 4, height: 2, labels: [0, 3, 3, 0, 0, 0, 4, 4])
        let merged = try Metrics.mergeClassMaps([first, second])
        // (0, 1) → 1, (0, 2) → 2 (entirely covered: gone), (1, 3) → 3, (1, 4) → 4.
        #expect(merged.labels == [1, 3, 3, 0, 0, 0, 4, 4])
        #expect(throws: MetricsError.self) { try Metrics.mergeClassMaps([]) }
        #expect(throws: MetricsError.self) { try Metrics.mergeClassMaps([first, try Self.row([0, 1])]) }
    }

    @Test("classes without ground truth are NaN and skipped by the image's mPQ")
    func imageScores() throws {
        let scores = try Metrics.panNuke(
            truth: [try Self.row([1, 1, 0, 0]), try Self.row([0, 0, 0, 0])],
            prediction: [try Self.row([1, 1, 0, 0]), try Self.row([0, 0, 3, 0])])
        let perfect = 1 / (1 + 1e-6)
        #expect(scores.classPQ[0] == perfect && scores.classPQ[1].isNaN)
        #expect(scores.multiClassPQ == perfect)
        // Merged: one match and one false positive.
        #expect(abs(scores.binaryPQ - (1 / 1.5) * perfect) < 1e-15)

        let empty = try Metrics.panNuke(truth: [try Self.row([0, 0]), try Self.row([0, 0])], prediction: [try Self.row([1, 0]), try Self.row([0, 2])])
        #expect(empty.binaryPQ.isNaN && empty.multiClassPQ.isNaN && empty.classPQ.allSatisfy(\.isNaN))
        #expect(throws: MetricsError.self) { try Metrics.panNuke(truth: [try Self.row([0])], prediction: []) }
    }

    @Test("dataset averages go per tissue, then over tissues; per class over all images")
    func summary() throws {
        let none = try Self.row([0, 0, 0, 0])
        let x = (truth: [try Self.row([1, 1, 0, 0]), none], prediction: [try Self.row([1, 1, 0, 0]), try Self.row([0, 0, 3, 0])])
        let y = (truth: [none, none], prediction: [try Self.row([5, 0, 0, 0]), none])
        let z = (truth: [none, try Self.row([2, 2, 2, 0])], prediction: [none, try Self.row([0, 2, 2, 2])])  // IoU 0.5: no match
        let perfect = 1 / (1 + 1e-6), xb = (1 / 1.5) * perfect
        var tissues = Evaluation(), pooled = Evaluation()
        for (name, tissue, maps) in [("x", "A", x), ("y", "A", y), ("z", "B", z), ("w", "B", x)] {
            try tissues.addPanNuke(image: name, tissue: tissue, truth: maps.truth, prediction: maps.prediction)
            try pooled.addPanNuke(image: name, truth: maps.truth, prediction: maps.prediction)
        }
        let byTissue = try #require(tissues.report().panNuke)
        #expect(byTissue.tissues.map(\.name) == ["A", "B"] && byTissue.tissues.map(\.imageCount) == [2, 2])
        #expect(abs(byTissue.tissues[0].binaryPQ.value - xb) < 1e-15 && abs(byTissue.tissues[1].binaryPQ.value - xb / 2) < 1e-15)
        #expect(abs(byTissue.binaryPQ.value - 0.75 * xb) < 1e-15)
        #expect(abs(byTissue.multiClassPQ.value - 0.75 * perfect) < 1e-15)
        #expect(abs(byTissue.classPQ[0].value - perfect) < 1e-15 && byTissue.classPQ[1].value == 0)
        #expect(abs(byTissue.classAveragedPQ.value - perfect / 2) < 1e-15)
        #expect(byTissue.images[1].binaryPQ.value.isNaN && byTissue.images[1].tissue == "A")

        let all = try #require(pooled.report().panNuke)
        #expect(all.tissues.count == 1 && all.tissues[0].imageCount == 4)
        #expect(abs(all.binaryPQ.value - 2 * xb / 3) < 1e-15)
    }

    @Test("class-wise maps from a typed instance map")
    func classMaps() throws {
        let map = try InstanceMap(width: 3, height: 2, labels: [4, 4, 0, 9, 0, 12])
        let maps = try map.classMaps(types: [4: 1, 9: 3, 12: 1], classes: [1, 2, 3])
        #expect(maps.map(\.labels) == [[4, 4, 0, 0, 0, 12], [0, 0, 0, 0, 0, 0], [0, 0, 0, 9, 0, 0]])
        #expect(throws: MetricsError.invalidArgument("instance types", "nucleus 9 has no type")) {
            try map.classMaps(types: [4: 1, 12: 1], classes: [1])
        }
    }
}
