import Foundation
import NXFormat
import NXIR
import NXPathology
import NXTestSupport
import Testing

/// Compares the Swift metrics with a fixture directory written by
/// `Converters/python/make_metrics_fixtures.py` (its `.npy` inputs and `expected.json`),
/// collecting every mismatch as a line of text so a failing test lists them all at once.
/// Values must agree within 1e-6; a JSON null expects NaN; counts and pairings must be equal.
struct MetricsFixtureCheck {
    static let tolerance = 1e-6

    let directory: String
    let expected: [String: Any]
    private(set) var mismatches: [String] = []
    /// How many values were compared, so a test can tell an empty check from a passing one.
    private(set) var comparisons = 0
    /// The largest |Swift - reference| among the values within tolerance.
    private(set) var largestDeviation = 0.0

    init(directory: String) throws {
        self.directory = directory
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/expected.json"))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw PythonTool.Failure(description: "\(directory)/expected.json is not a JSON object")
        }
        expected = object
    }

    mutating func checkAll() throws {
        try checkSegmentation()
        try checkClassification()
        try checkPanNuke()
        try checkAssignment()
    }

    // MARK: - Reading inputs

    func tensor(_ name: String) throws -> Tensor { try Npy.read(path: "\(directory)/\(name)") }

    func instanceMap(_ name: String) throws -> InstanceMap {
        let array = try tensor(name)
        guard array.shape.count == 2 else { throw PythonTool.Failure(description: "\(name): shape \(array.shape) is not 2-D") }
        return try InstanceMap(width: array.shape[1], height: array.shape[0], labels: try array.intValues().map { Int32($0) })
    }

    func classMaps(_ name: String) throws -> [InstanceMap] {
        let array = try tensor(name)
        guard array.shape.count == 3 else { throw PythonTool.Failure(description: "\(name): shape \(array.shape) is not C x H x W") }
        let values = try array.intValues().map { Int32($0) }
        let (classes, height, width) = (array.shape[0], array.shape[1], array.shape[2])
        return try (0..<classes).map { c in
            try InstanceMap(width: width, height: height, labels: Array(values[(c * height * width)..<((c + 1) * height * width)]))
        }
    }

    func centroids(_ name: String) throws -> [SIMD2<Double>] {
        let values = try tensor(name).scalars(as: Float.self)
        return stride(from: 0, to: values.count, by: 2).map { SIMD2(Double(values[$0]), Double(values[$0 + 1])) }
    }

    func integers(_ name: String) throws -> [Int] { try tensor(name).intValues() }

    // MARK: - Comparing

    mutating func compare(_ what: String, _ actual: Double, _ expected: Any?) {
        comparisons += 1
        switch expected {
        case nil, is NSNull:
            if !actual.isNaN { mismatches.append("\(what): \(actual), expected NaN (null)") }
        case let number as NSNumber:
            let value = number.doubleValue
            if actual.isNaN || abs(actual - value) > Self.tolerance {
                mismatches.append("\(what): \(actual), expected \(value)")
            } else {
                largestDeviation = max(largestDeviation, abs(actual - value))
            }
        default:
            mismatches.append("\(what): expected value \(String(describing: expected)) is not a number")
        }
    }

    mutating func compare(_ what: String, _ actual: Int, _ expected: Any?) {
        comparisons += 1
        if (expected as? NSNumber)?.intValue != actual {
            mismatches.append("\(what): \(actual), expected \(String(describing: expected))")
        }
    }

    mutating func compare(_ what: String, _ actual: [Int], _ expected: Any?) {
        comparisons += 1
        let values = (expected as? [NSNumber])?.map(\.intValue)
        if values != actual { mismatches.append("\(what): \(actual), expected \(String(describing: expected))") }
    }

    private func section(_ key: String) throws -> [String: Any] {
        guard let value = expected[key] as? [String: Any] else {
            throw PythonTool.Failure(description: "expected.json has no object '\(key)'")
        }
        return value
    }

    // MARK: - Sections

    mutating func checkSegmentation() throws {
        let cases = try section("segmentation")
        for (name, value) in cases.sorted(by: { $0.key < $1.key }) {
            let e = value as! [String: Any]
            let truth = try instanceMap("seg_\(name)_truth.npy"), prediction = try instanceMap("seg_\(name)_pred.npy")
            let s = try Metrics.segmentation(truth: truth, prediction: prediction)
            compare("\(name) dice", s.dice, e["dice"])
            compare("\(name) aji", s.aji, e["aji"])
            compare("\(name) aji+", s.ajiPlus, e["aji_plus"])
            compare("\(name) dq", s.dq, e["dq"])
            compare("\(name) sq", s.sq, e["sq"])
            compare("\(name) pq", s.pq, e["pq"])
            compare("\(name) tp", s.matched, e["tp"])
            compare("\(name) fp", s.falsePositives, e["fp"])
            compare("\(name) fn", s.falseNegatives, e["fn"])
            // The single-metric entry points agree with the combined one.
            compare("\(name) dice alone", try Metrics.dice(truth: truth, prediction: prediction), e["dice"])
            compare("\(name) aji alone", try Metrics.aji(truth: truth, prediction: prediction), e["aji"])
            compare("\(name) aji+ alone", try Metrics.ajiPlus(truth: truth, prediction: prediction), e["aji_plus"])
            compare("\(name) pq alone", try Metrics.panoptic(truth: truth, prediction: prediction).pq, e["pq"])
        }

        let mean = try section("segmentation_mean")
        var evaluation = Evaluation()
        for name in mean["images"] as! [String] {
            try evaluation.addSegmentation(
                image: name, truth: try instanceMap("seg_\(name)_truth.npy"), prediction: try instanceMap("seg_\(name)_pred.npy"))
        }
        let report = try #require(evaluation.report().segmentation)
        compare("mean dice", report.mean.dice.value, mean["dice"])
        compare("mean aji", report.mean.aji.value, mean["aji"])
        compare("mean aji+", report.mean.ajiPlus.value, mean["aji_plus"])
        compare("mean dq", report.mean.dq.value, mean["dq"])
        compare("mean sq", report.mean.sq.value, mean["sq"])
        compare("mean pq", report.mean.pq.value, mean["pq"])
    }

    private struct ClassificationImage {
        let truth: [SIMD2<Double>], truthTypes: [Int], prediction: [SIMD2<Double>], predictionTypes: [Int]
    }

    private func classificationImage(_ name: String) throws -> ClassificationImage {
        ClassificationImage(
            truth: try centroids("cls_\(name)_true_centroids.npy"), truthTypes: try integers("cls_\(name)_true_types.npy"),
            prediction: try centroids("cls_\(name)_pred_centroids.npy"), predictionTypes: try integers("cls_\(name)_pred_types.npy"))
    }

    private mutating func compareScores(_ what: String, _ scores: ClassificationScores, _ e: [String: Any]) {
        compare("\(what) f1_d", scores.f1Detection, e["f1_detection"])
        compare("\(what) accuracy", scores.accuracy, e["accuracy"])
        compare("\(what) tp", scores.matched, e["tp"])
        compare("\(what) fp", scores.falsePositives, e["fp"])
        compare("\(what) fn", scores.falseNegatives, e["fn"])
        let types = e["f1_types"] as! [String: Any]
        compare("\(what) scored types", scores.types.map(\.type).sorted(), types.keys.compactMap { Int($0) }.sorted())
        for (key, value) in types {
            compare("\(what) f1 of type \(key)", scores.f1(type: Int(key)!) ?? -1, value)
        }
    }

    private mutating func compareReport(_ what: String, _ report: EvaluationReport.Classification, _ e: [String: Any]) {
        compare("\(what) f1_d", report.f1Detection.value, e["f1_detection"])
        compare("\(what) accuracy", report.accuracy.value, e["accuracy"])
        compare("\(what) tp", report.matched, e["tp"])
        compare("\(what) fp", report.falsePositives, e["fp"])
        compare("\(what) fn", report.falseNegatives, e["fn"])
        let types = e["f1_types"] as! [String: Any]
        compare("\(what) scored types", report.types.map(\.type).sorted(), types.keys.compactMap { Int($0) }.sorted())
        for entry in report.types { compare("\(what) f1 of type \(entry.type)", entry.f1.value, types[String(entry.type)]) }
    }

    mutating func checkClassification() throws {
        let section = try section("classification")
        let images = section["images"] as! [String: Any]
        for (name, value) in images.sorted(by: { $0.key < $1.key }) {
            let e = value as! [String: Any]
            let image = try classificationImage(name)
            let pairing = try Metrics.pairCentroids(truth: image.truth, prediction: image.prediction, radius: 12)
            let pairs = (e["pairs"] as! [[NSNumber]]).map { CentroidPairing.Pair(truth: $0[0].intValue, prediction: $0[1].intValue) }
            comparisons += 1
            if pairing.pairs != pairs {
                mismatches.append("\(name) pairs: \(pairing.pairs.map { [$0.truth, $0.prediction] }), expected \(pairs.map { [$0.truth, $0.prediction] })")
            }
            compare("\(name) unpaired truth", pairing.unpairedTruth, e["unpaired_true"])
            compare("\(name) unpaired prediction", pairing.unpairedPrediction, e["unpaired_pred"])
            let scores = try Metrics.classification(
                truthCentroids: image.truth, types: image.truthTypes, predictedCentroids: image.prediction, types: image.predictionTypes)
            compareScores(name, scores, e["scores"] as! [String: Any])
        }

        let names = section["pooled_images"] as! [String]
        for (key, options) in [
            ("pooled", Evaluation.Options()),
            ("pooled_without_placeholder", Evaluation.Options(placeholderForEmptyImages: false)),
            ("pooled_types_1_to_5", Evaluation.Options(typeIDs: [1, 2, 3, 4, 5])),
        ] {
            var evaluation = Evaluation(options: options)
            for name in names {
                let image = try classificationImage(name)
                try evaluation.addClassification(
                    image: name, truthCentroids: image.truth, types: image.truthTypes,
                    predictedCentroids: image.prediction, types: image.predictionTypes)
            }
            compareReport(key, try #require(evaluation.report().classification), section[key] as! [String: Any])
        }
    }

    mutating func checkPanNuke() throws {
        let section = try section("pannuke")
        let names = section["image_names"] as! [String], tissues = section["tissue_names"] as! [String]
        for (key, useTissues) in [("with_tissues", true), ("without_tissues", false)] {
            let e = section[key] as! [String: Any]
            var evaluation = Evaluation()
            for (name, tissue) in zip(names, tissues) {
                try evaluation.addPanNuke(
                    image: name, tissue: useTissues ? tissue : nil,
                    truth: try classMaps("pan_\(name)_truth.npy"), prediction: try classMaps("pan_\(name)_pred.npy"))
            }
            let report = try #require(evaluation.report().panNuke)
            for (image, expectedImage) in zip(report.images, e["images"] as! [[String: Any]]) {
                compare("\(key) \(image.image) bPQ", image.binaryPQ.value, expectedImage["bpq"])
                compare("\(key) \(image.image) mPQ", image.multiClassPQ.value, expectedImage["mpq"])
                let classPQ = expectedImage["class_pq"] as! [Any]
                compare("\(key) \(image.image) class count", image.classPQ.count, classPQ.count as NSNumber)
                for (c, (actual, value)) in zip(image.classPQ, classPQ).enumerated() {
                    compare("\(key) \(image.image) PQ of class \(c)", actual.value, value)
                }
            }
            let expectedTissues = e["tissues"] as! [String: Any]
            compare("\(key) tissue count", report.tissues.count, expectedTissues.count as NSNumber)
            for tissue in report.tissues {
                let t = expectedTissues[useTissues ? tissue.name : "all"] as? [String: Any]
                compare("\(key) tissue \(tissue.name) bPQ", tissue.binaryPQ.value, t?["bpq"])
                compare("\(key) tissue \(tissue.name) mPQ", tissue.multiClassPQ.value, t?["mpq"])
            }
            compare("\(key) bPQ", report.binaryPQ.value, e["bpq"])
            compare("\(key) mPQ", report.multiClassPQ.value, e["mpq"])
            compare("\(key) class-averaged PQ", report.classAveragedPQ.value, e["mpq_class_averaged"])
            for (c, (actual, value)) in zip(report.classPQ, e["class_pq"] as! [Any]).enumerated() {
                compare("\(key) PQ of class \(c)", actual.value, value)
            }
        }
    }

    mutating func checkAssignment() throws {
        let cases = try section("assignment")
        for (name, value) in cases.sorted(by: { $0.key < $1.key }) {
            let e = value as! [String: Any]
            let matrix = try tensor("lsa_\(name).npy")
            let costs = try matrix.scalars(as: Double.self)
            let pairs = try LinearAssignment.minimize(costs: costs, rows: matrix.shape[0], columns: matrix.shape[1])
            compare("\(name) rows", pairs.map(\.row), e["rows"])
            compare("\(name) columns", pairs.map(\.column), e["cols"])
            compare("\(name) total", pairs.reduce(0.0) { $0 + costs[$1.row * matrix.shape[1] + $1.column] }, e["total"])
        }
    }
}
