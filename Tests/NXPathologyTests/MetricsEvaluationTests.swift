import Foundation
import NXPathology
import Testing

@Suite("Metrics evaluation report")
struct MetricsEvaluationTests {
    static func row(_ labels: [Int32]) throws -> InstanceMap { try InstanceMap(width: labels.count, height: 1, labels: labels) }

    static func sample() throws -> Evaluation {
        var evaluation = Evaluation(options: Evaluation.Options(typeIDs: [1, 2], classNames: ["a", "b"]))
        try evaluation.addSegmentation(image: "one", truth: try row([1, 1, 1, 0, 2, 2]), prediction: try row([1, 1, 0, 0, 3, 3]))
        try evaluation.addSegmentation(image: "empty", truth: try row([0, 0]), prediction: try row([0, 0]))
        try evaluation.addClassification(
            image: "one", truthCentroids: [SIMD2(0, 0), SIMD2(30, 30)], types: [1, 2],
            predictedCentroids: [SIMD2(1.0 / 3.0, 0)], types: [1])
        try evaluation.addPanNuke(
            image: "one", tissue: "Skin", truth: [try row([1, 1, 0]), try row([0, 0, 0])], prediction: [try row([1, 0, 0]), try row([0, 0, 2])])
        return evaluation
    }

    @Test("the report round-trips through JSON bit for bit, NaN as null")
    func jsonRoundTrip() throws {
        let report = try Self.sample().report()
        let data = try report.jsonData()
        let text = String(decoding: data, as: UTF8.self)
        let decoded = try EvaluationReport.decode(json: data)
        #expect(decoded == report)
        // Full precision: every Double reads back to the same bits.
        let original = try #require(report.segmentation?.images[0].scores)
        let reread = try #require(decoded.segmentation?.images[0].scores)
        for (a, b) in [(original.dice, reread.dice), (original.aji, reread.aji), (original.sq, reread.sq), (original.pq, reread.pq)] {
            #expect(a.value.bitPattern == b.value.bitPattern)
        }
        // The empty image's DICE is NaN, so the mean is too (np.mean): both written as null.
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let segmentation = try #require(object["segmentation"] as? [String: Any])
        let mean = try #require(segmentation["mean"] as? [String: Any])
        #expect(mean["dice"] is NSNull && mean["sq"] is NSNumber)
        #expect(text.contains("\"ajiPlus\""))
        #expect(try Self.sample().report().jsonData() == data, "the same evaluation gives the same bytes")
    }

    @Test("the report holds the pooled classification and PanNuke parts")
    func parts() throws {
        let report = try Self.sample().report()
        let classification = try #require(report.classification)
        #expect(classification.images == ["one"] && classification.radius == 12 && classification.placeholderForEmptyImages)
        #expect((classification.matched, classification.falsePositives, classification.falseNegatives) == (1, 0, 1))
        #expect(classification.f1Detection.value == 2.0 / 3.0)
        #expect(classification.types.map(\.type) == [1, 2])
        #expect(classification.types[1].f1.value == 0 && classification.types[1].unpairedTruths == 1)
        let panNuke = try #require(report.panNuke)
        #expect(panNuke.classNames == ["a", "b"] && panNuke.tissues.map(\.name) == ["Skin"])
        #expect(panNuke.images[0].classPQ[1].value.isNaN)
    }

    @Test("parts without images are absent")
    func absentParts() throws {
        var evaluation = Evaluation()
        try evaluation.addSegmentation(image: "a", truth: try Self.row([1]), prediction: try Self.row([1]))
        let report = evaluation.report()
        #expect(report.segmentation != nil && report.classification == nil && report.panNuke == nil)
        let object = try #require(try JSONSerialization.jsonObject(with: try report.jsonData()) as? [String: Any])
        #expect(Set(object.keys) == ["segmentation"])
    }

    @Test("errors name the image; an image cannot be added twice")
    func errors() throws {
        var evaluation = Evaluation()
        try evaluation.addSegmentation(image: "a", truth: try Self.row([1, 0]), prediction: try Self.row([1, 0]))
        #expect {
            try evaluation.addSegmentation(image: "a", truth: try Self.row([1, 0]), prediction: try Self.row([1, 0]))
        } throws: { error in
            guard case .image("a", _) = error as? MetricsError else { return false }
            return true
        }
        #expect {
            try evaluation.addSegmentation(image: "b", truth: try Self.row([1, 0]), prediction: try Self.row([1, 0, 0]))
        } throws: { error in
            "\(error)".hasPrefix("image 'b': prediction: is 3x1")
        }
        #expect(evaluation.report().segmentation?.images.count == 1)
    }

    @Test("MetricValue writes NaN as null and reads null as NaN")
    func metricValue() throws {
        let values = [MetricValue(.nan), MetricValue(0.1 + 0.2), MetricValue(-0.0), MetricValue(1e-300)]
        let data = try JSONEncoder().encode(values)
        #expect(String(decoding: data, as: UTF8.self).hasPrefix("[null,"))
        let decoded = try JSONDecoder().decode([MetricValue].self, from: data)
        #expect(decoded == values)
        #expect(decoded[1].value.bitPattern == (0.1 + 0.2).bitPattern)
    }
}
