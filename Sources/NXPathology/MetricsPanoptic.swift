/// Panoptic quality of one image (eq. 15-17) as HoVer-Net's `get_fast_pq` with match_iou 0.5:
/// a truth and a prediction match when their IoU is above 0.5 (such pairs are necessarily
/// one-to-one), DQ = TP / (TP + FP/2 + FN/2), SQ = ΣIoU / (TP + 1e-6), PQ = DQ × SQ.
/// With neither nuclei in the truth nor in the prediction DQ and PQ are NaN (0/0) and SQ is 0.
public struct PanopticQuality: Sendable, Hashable {
    public let dq: Double
    public let sq: Double
    public let pq: Double
    /// TP: matched pairs.
    public let matched: Int
    /// FP: predictions without a match.
    public let falsePositives: Int
    /// FN: ground-truth nuclei without a match.
    public let falseNegatives: Int

    /// The matching threshold: IoU must be strictly above it.
    public static let matchIoU = 0.5

    init(_ overlaps: Metrics.OverlapTable) {
        var matched = 0
        var iouSum = 0.0
        // Entries are in truth-then-prediction order, np.nonzero's order, for the same sum.
        for entry in overlaps.entries {
            let iou = Double(entry.intersection) / Double(entry.union)
            if iou > Self.matchIoU {
                matched += 1
                iouSum += iou
            }
        }
        let falsePositives = overlaps.prediction.count - matched
        let falseNegatives = overlaps.truth.count - matched
        let denominator = Double(matched) + 0.5 * Double(falsePositives) + 0.5 * Double(falseNegatives)
        dq = denominator > 0 ? Double(matched) / denominator : .nan
        sq = iouSum / (Double(matched) + Metrics.epsilon)
        pq = dq * sq
        self.matched = matched
        self.falsePositives = falsePositives
        self.falseNegatives = falseNegatives
    }
}

extension Metrics {
    /// DQ, SQ and PQ of one image; throws when the maps differ in size.
    public static func panoptic(truth: InstanceMap, prediction: InstanceMap) throws(MetricsError) -> PanopticQuality {
        PanopticQuality(try OverlapTable(truth: truth, prediction: prediction))
    }
}
