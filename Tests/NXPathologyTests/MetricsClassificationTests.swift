import NXPathology
import Testing

@Suite("Metrics classification")
struct MetricsClassificationTests {
    static func points(_ values: [(Double, Double)]) -> [SIMD2<Double>] { values.map { SIMD2($0.0, $0.1) } }

    @Test("a worked example of detection F1 and HoVer-Net's type F1")
    func workedExample() throws {
        let truth = Self.points([(10, 10), (50, 50), (90, 90), (130, 130)])
        let prediction = Self.points([(12, 11), (55, 52), (91, 95), (200, 200)])
        let scores = try Metrics.classification(
            truthCentroids: truth, types: [1, 1, 2, 2], predictedCentroids: prediction, types: [1, 2, 2, 1])
        // Pairs: (0,0) 1→1, (1,1) 1→2, (2,2) 2→2; truth 3 (type 2) and prediction 3 (type 1) unpaired.
        #expect((scores.matched, scores.falsePositives, scores.falseNegatives) == (3, 1, 1))
        #expect(scores.f1Detection == 6.0 / 8.0)
        #expect(scores.accuracy == 2.0 / 3.0)
        #expect(scores.types.map(\.type) == [1, 2])
        // Type 1: TP 1, FP 0, FN 1 (truly 1, called 2), FPd 1, FNd 0 → 2 / (2 + 2 + 1).
        #expect(scores.f1(type: 1) == 2.0 / 5.0)
        // Type 2: TP 1, FP 1, FN 0, FPd 0, FNd 1 → 2 / (2 + 2 + 1).
        #expect(scores.f1(type: 2) == 2.0 / 5.0)
        #expect(scores.f1(type: 3) == nil)
    }

    @Test("the radius is inclusive")
    func radius() throws {
        let pairing = try Metrics.pairCentroids(
            truth: Self.points([(0, 0), (100, 0)]), prediction: Self.points([(12, 0), (100, 12.000001)]))
        #expect(pairing.pairs == [CentroidPairing.Pair(truth: 0, prediction: 0)])
        #expect(pairing.unpairedTruth == [1] && pairing.unpairedPrediction == [1])
    }

    @Test("the assignment minimises the total distance before the radius cut, as HoVer-Net")
    func globalAssignment() throws {
        // T0-P0 11.0 and T1-P1 11.0 would make two pairs within 12 px (total 22.0), but
        // T0-P1 12.5 and T1-P0 9.0 cost less (21.5); HoVer-Net takes that and then drops T0-P1.
        let truth = Self.points([(0, 0), (12, 0)])
        let prediction = Self.points([(7.667, 7.888), (7.469, -10.02)])
        let pairing = try Metrics.pairCentroids(truth: truth, prediction: prediction)
        #expect(pairing.pairs == [CentroidPairing.Pair(truth: 1, prediction: 0)])
        #expect(pairing.unpairedTruth == [0] && pairing.unpairedPrediction == [1])
    }

    @Test("empty images: HoVer-Net's dummy nucleus at (0, 0), or nothing")
    func emptyImages() throws {
        let none: [SIMD2<Double>] = []
        // Both sides empty: the two dummies pair, one true positive of type 0.
        let both = try Metrics.classificationCounts(truthCentroids: none, types: [], predictedCentroids: none, types: [])
        #expect(both.scores().matched == 1 && both.scores().f1Detection == 1 && both.truthTypes == [0])
        // A prediction within 12 px of (0, 0) pairs with the dummy truth.
        let noTruth = try Metrics.classification(
            truthCentroids: none, types: [], predictedCentroids: Self.points([(5, 5), (40, 40)]), types: [2, 3])
        #expect((noTruth.matched, noTruth.falsePositives, noTruth.falseNegatives) == (1, 1, 0))
        #expect(noTruth.types.map(\.type) == [0] && noTruth.f1(type: 0) == 0)
        // Without the placeholder an empty side simply has no nuclei.
        let strict = try Metrics.classification(
            truthCentroids: none, types: [], predictedCentroids: Self.points([(5, 5)]), types: [2],
            placeholderForEmptyImages: false)
        #expect((strict.matched, strict.falsePositives, strict.falseNegatives) == (0, 1, 0))
        #expect(strict.f1Detection == 0 && strict.accuracy.isNaN && strict.types.isEmpty)
        let nothing = try Metrics.classification(
            truthCentroids: none, types: [], predictedCentroids: none, types: [], typeIDs: [1], placeholderForEmptyImages: false)
        #expect(nothing.f1Detection.isNaN && nothing.f1(type: 1)!.isNaN)
    }

    @Test("counts pool over images before F1 is computed")
    func pooling() throws {
        var pooled = ClassificationCounts()
        let a = try Metrics.classificationCounts(
            truthCentroids: Self.points([(0, 0)]), types: [1], predictedCentroids: Self.points([(1, 1)]), types: [1])
        let b = try Metrics.classificationCounts(
            truthCentroids: Self.points([(0, 0), (50, 50)]), types: [2, 2], predictedCentroids: Self.points([(90, 90)]), types: [2])
        pooled.add(a)
        pooled.add(b)
        let scores = pooled.scores()
        #expect(pooled.imageCount == 2)
        #expect((scores.matched, scores.falsePositives, scores.falseNegatives) == (1, 1, 2))
        #expect(scores.f1Detection == 2.0 / 5.0)
        #expect(scores.f1(type: 2) == 0)
    }

    @Test("type and centroid counts must agree; records need types")
    func errors() throws {
        #expect(throws: MetricsError.self) {
            try Metrics.classificationCounts(truthCentroids: Self.points([(0, 0)]), types: [], predictedCentroids: [], types: [])
        }
        #expect(throws: MetricsError.self) {
            try Metrics.pairCentroids(truth: Self.points([(.nan, 0)]), prediction: [])
        }
        #expect(throws: MetricsError.self) {
            try Metrics.pairCentroids(truth: [], prediction: [], radius: -1)
        }
        let box = InstanceBoundingBox(rowMin: 0, columnMin: 0, rowMax: 1, columnMax: 1)
        let untyped = InstanceRecord(id: 7, boundingBox: box, centroid: SIMD2(0, 0), contour: [], pixelCount: 1, type: nil, typeProbability: nil)
        #expect {
            try Metrics.classificationCounts(truth: [untyped], prediction: [])
        } throws: { error in
            guard case .invalidArgument(_, let message) = error as? MetricsError else { return false }
            return message.contains("7")
        }
    }
}
