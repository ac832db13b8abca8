import Foundation
import NXPathology
import NXTestSupport
import Testing

@Suite("Metrics segmentation")
struct MetricsSegmentationTests {
    static func map(_ width: Int, _ labels: [Int32]) throws -> InstanceMap {
        try InstanceMap(width: width, height: labels.count / width, labels: labels)
    }

    static func close(_ a: Double, _ b: Double) -> Bool { (a.isNaN && b.isNaN) || abs(a - b) <= 1e-12 }

    @Test("a worked example: two matched nuclei")
    func matched() throws {
        // T1 (4 px) meets P3 (3 px) on 3 px: IoU 3/4; T2 (2 px) meets P2 (3 px) on 2 px: IoU 2/3.
        let truth = try Self.map(8, [1, 1, 1, 1, 0, 2, 2, 0])
        let prediction = try Self.map(8, [3, 3, 3, 0, 0, 2, 2, 2])
        let s = try Metrics.segmentation(truth: truth, prediction: prediction)
        #expect(Self.close(s.dice, 10.0 / 12.0))
        #expect(Self.close(s.aji, 5.0 / 7.0))
        #expect(Self.close(s.ajiPlus, 5.0 / 7.0))
        #expect(Self.close(s.dq, 1))
        // HoVer-Net's SQ keeps its 1e-6 in the denominator.
        #expect(Self.close(s.sq, (0.75 + 2.0 / 3.0) / (2 + 1e-6)))
        #expect(Self.close(s.pq, s.sq))
        #expect((s.matched, s.falsePositives, s.falseNegatives) == (2, 0, 0))
    }

    @Test("a merge: IoU exactly 0.5 is no match; AJI reuses the prediction, AJI+ does not")
    func merged() throws {
        let truth = try Self.map(8, [1, 1, 1, 2, 2, 2, 0, 0])
        let prediction = try Self.map(8, [5, 5, 5, 5, 5, 5, 0, 9])
        let s = try Metrics.segmentation(truth: truth, prediction: prediction)
        #expect(Self.close(s.dice, 12.0 / 13.0))
        #expect(Self.close(s.aji, 6.0 / 13.0))  // both truths take P5: 6 / (6 + 6 + |P9|)
        #expect(Self.close(s.ajiPlus, 3.0 / 10.0))  // one takes P5: 3 / (6 + |T2| + |P9|)
        #expect((s.dq, s.sq, s.pq) == (0, 0, 0))
        #expect((s.matched, s.falsePositives, s.falseNegatives) == (0, 2, 2))
    }

    @Test("empty maps: both empty is undefined (NaN) except SQ; one side empty scores 0")
    func emptyCases() throws {
        let empty = try Self.map(4, [0, 0, 0, 0, 0, 0, 0, 0])
        let some = try Self.map(4, [1, 1, 0, 0, 0, 2, 2, 0])
        let both = try Metrics.segmentation(truth: empty, prediction: empty)
        #expect(both.dice.isNaN && both.aji.isNaN && both.ajiPlus.isNaN && both.dq.isNaN && both.pq.isNaN)
        #expect(both.sq == 0)
        for (truth, prediction) in [(empty, some), (some, empty)] {
            let s = try Metrics.segmentation(truth: truth, prediction: prediction)
            #expect([s.dice, s.aji, s.ajiPlus, s.dq, s.sq, s.pq] == [0, 0, 0, 0, 0, 0])
        }
        #expect(try Metrics.segmentation(truth: empty, prediction: some).falsePositives == 2)
        #expect(try Metrics.segmentation(truth: some, prediction: empty).falseNegatives == 2)
    }

    @Test("labels need not be contiguous: huge sparse labels score as their ranks")
    func sparseLabels() throws {
        let truth = try Self.map(6, [1, 1, 0, 2, 2, 2, 3, 3, 0, 2, 2, 0, 4, 0, 0, 0, 5, 5])
        let prediction = try Self.map(6, [1, 1, 1, 2, 2, 0, 3, 0, 0, 2, 4, 4, 4, 4, 0, 0, 5, 0])
        let scaled = { (m: InstanceMap) in
            try InstanceMap(width: m.width, height: m.height, labels: m.labels.map { $0 * 400_000_000 / 5 + ($0 == 0 ? 0 : 7) })
        }
        let plain = try Metrics.segmentation(truth: truth, prediction: prediction)
        let sparse = try Metrics.segmentation(truth: try scaled(truth), prediction: try scaled(prediction))
        #expect(plain == sparse)
        #expect(plain.matched > 0 && plain.falsePositives > 0)
    }

    @Test("maps of different sizes are rejected, naming the prediction")
    func sizeMismatch() throws {
        let a = try Self.map(4, [0, 1, 1, 0])
        let b = try Self.map(2, [0, 1, 1, 0])
        #expect {
            try Metrics.segmentation(truth: a, prediction: b)
        } throws: { error in
            guard case .invalidArgument("prediction", let message) = error as? MetricsError else { return false }
            return message.contains("2x2") && message.contains("4x1")
        }
    }

    @Test("a 1000x1000 map with 500 nuclei: identical, shifted, and by sparse labels")
    func largeMap() throws {
        var random = SeededRandom(seed: 5)
        let size = 1000
        var labels = [Int32](repeating: 0, count: size * size)
        var centres: [(Int, Int, Int)] = []
        while centres.count < 500 {
            let (x, y, r) = (Int.random(in: 10..<990, using: &random), Int.random(in: 10..<990, using: &random), Int.random(in: 4...9, using: &random))
            if centres.contains(where: { abs($0.0 - x) < $0.2 + r + 3 && abs($0.1 - y) < $0.2 + r + 3 }) { continue }
            centres.append((x, y, r))
            for dy in -r...r { for dx in -r...r where dx * dx + dy * dy <= r * r { labels[(y + dy) * size + x + dx] = Int32(centres.count) } }
        }
        let truth = try InstanceMap(width: size, height: size, labels: labels)
        var shiftedLabels = [Int32](repeating: 0, count: size * size)
        for row in 0..<size { for column in 2..<size { shiftedLabels[row * size + column] = labels[row * size + column - 2] } }
        let shifted = try InstanceMap(width: size, height: size, labels: shiftedLabels)

        let start = Date()
        let same = try Metrics.segmentation(truth: truth, prediction: truth)
        let moved = try Metrics.segmentation(truth: truth, prediction: shifted)
        let elapsed = Date().timeIntervalSince(start)
        print("two 1000x1000 evaluations with 500 nuclei: \(Int(elapsed * 1000)) ms (debug build)")

        #expect([same.dice, same.aji, same.ajiPlus, same.dq] == [1, 1, 1, 1])
        #expect(abs(same.sq - 500 / (500 + 1e-6)) < 1e-15 && same.pq == same.sq)
        #expect(same.matched == 500)
        // Nuclei are 3 px apart, so a 2 px shift overlaps each truth with its own copy only.
        #expect(moved.matched + moved.falseNegatives == 500 && moved.matched > 400)
        #expect(moved.dice < 1 && moved.aji < 1 && moved.aji == moved.ajiPlus)

        let sparseTruth = try InstanceMap(width: size, height: size, labels: labels.map { $0 * 4_000_000 })
        let sparseShifted = try InstanceMap(width: size, height: size, labels: shiftedLabels.map { $0 * 4_000_000 })
        #expect(try Metrics.segmentation(truth: sparseTruth, prediction: sparseShifted) == moved)
    }
}
