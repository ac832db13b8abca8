/// Every per-image segmentation score HoVer-Net's `run_nuclei_inst_stat` reports: DICE
/// (eq. 13), AJI (eq. 14), AJI+, DQ, SQ and PQ (eq. 15-17). NaN marks a score that is 0/0 for
/// this image (see `Spec/METRICS.md` for when).
public struct SegmentationScores: Sendable, Hashable {
    public let dice: Double
    public let aji: Double
    public let ajiPlus: Double
    public let dq: Double
    public let sq: Double
    public let pq: Double
    /// TP, FP and FN of the IoU > 0.5 matching behind DQ/SQ/PQ.
    public let matched: Int
    public let falsePositives: Int
    public let falseNegatives: Int
}

extension Metrics {
    /// All segmentation scores of one image from one pass over its pixels.
    public static func segmentation(truth: InstanceMap, prediction: InstanceMap) throws(MetricsError) -> SegmentationScores {
        let overlaps = try OverlapTable(truth: truth, prediction: prediction)
        let panoptic = PanopticQuality(overlaps)
        return SegmentationScores(
            dice: dice(overlaps), aji: aji(overlaps), ajiPlus: try ajiPlus(overlaps),
            dq: panoptic.dq, sq: panoptic.sq, pq: panoptic.pq, matched: panoptic.matched,
            falsePositives: panoptic.falsePositives, falseNegatives: panoptic.falseNegatives)
    }

    /// Eq. 13 on the foreground masks (HoVer-Net `get_dice_1`): 2|X ∩ Y| / (|X| + |Y|).
    public static func dice(truth: InstanceMap, prediction: InstanceMap) throws(MetricsError) -> Double {
        dice(try OverlapTable(truth: truth, prediction: prediction))
    }

    /// Eq. 14 (HoVer-Net `get_fast_aji`, MoNuSeg's AJI).
    public static func aji(truth: InstanceMap, prediction: InstanceMap) throws(MetricsError) -> Double {
        aji(try OverlapTable(truth: truth, prediction: prediction))
    }

    /// AJI+ (HoVer-Net `get_fast_aji_plus`): AJI with a one-to-one pairing.
    public static func ajiPlus(truth: InstanceMap, prediction: InstanceMap) throws(MetricsError) -> Double {
        try ajiPlus(try OverlapTable(truth: truth, prediction: prediction))
    }

    static func dice(_ overlaps: OverlapTable) -> Double {
        let denominator = overlaps.truth.totalArea + overlaps.prediction.totalArea
        return denominator > 0 ? 2.0 * Double(overlaps.foregroundIntersection) / Double(denominator) : .nan
    }

    /// HoVer-Net's IoU for AJI and AJI+: the union gets 1e-6 added.
    private static func smoothedIoU(_ entry: OverlapTable.Entry) -> Double {
        Double(entry.intersection) / (Double(entry.union) + epsilon)
    }

    /// Each truth takes the prediction of highest smoothed IoU (the lowest label on ties, as
    /// np.argmax); a prediction may serve several truths. Truths without overlap and
    /// predictions nobody took add their areas to the union.
    static func aji(_ overlaps: OverlapTable) -> Double {
        var intersection = 0, union = 0
        var taken = [Bool](repeating: false, count: overlaps.prediction.count)
        for t in 0..<overlaps.truth.count {
            var best: OverlapTable.Entry?
            var bestIoU = 0.0
            for entry in overlaps.row(t) {
                let iou = smoothedIoU(entry)
                if iou > bestIoU {
                    best = entry
                    bestIoU = iou
                }
            }
            if let best {
                intersection += best.intersection
                union += best.union
                taken[best.prediction] = true
            } else {
                union += overlaps.truth.areas[t]
            }
        }
        for p in 0..<overlaps.prediction.count where !taken[p] { union += overlaps.prediction.areas[p] }
        return union > 0 ? Double(intersection) / Double(union) : .nan
    }

    /// The pairing maximises the summed smoothed IoU (scipy's assignment of the negated IoU
    /// matrix). Nuclei that overlap nothing in common cannot affect each other's pairing, so
    /// the assignment is solved per connected group of overlapping nuclei, which keeps it
    /// linear in practice; pairs of zero IoU are dropped as HoVer-Net drops them.
    static func ajiPlus(_ overlaps: OverlapTable) throws(MetricsError) -> Double {
        let truthCount = overlaps.truth.count, predictionCount = overlaps.prediction.count
        var groups = DisjointSets(count: truthCount + predictionCount)
        for entry in overlaps.entries { groups.merge(entry.truth, truthCount + entry.prediction) }
        var members: [Int: [OverlapTable.Entry]] = [:]
        for entry in overlaps.entries { members[groups.root(entry.truth), default: []].append(entry) }

        var intersection = 0, union = 0
        var pairedTruth = [Bool](repeating: false, count: truthCount)
        var pairedPrediction = [Bool](repeating: false, count: predictionCount)
        for group in members.values {
            for entry in try pairedEntries(group) {
                intersection += entry.intersection
                union += entry.union
                pairedTruth[entry.truth] = true
                pairedPrediction[entry.prediction] = true
            }
        }
        for t in 0..<truthCount where !pairedTruth[t] { union += overlaps.truth.areas[t] }
        for p in 0..<predictionCount where !pairedPrediction[p] { union += overlaps.prediction.areas[p] }
        return union > 0 ? Double(intersection) / Double(union) : .nan
    }

    /// The overlapping pairs the assignment keeps within one connected group of entries
    /// (entries sorted by truth then prediction).
    private static func pairedEntries(_ group: [OverlapTable.Entry]) throws(MetricsError) -> [OverlapTable.Entry] {
        if group.count == 1 { return group }
        let truths = Array(Set(group.map(\.truth))).sorted()
        let predictions = Array(Set(group.map(\.prediction))).sorted()
        let rowOf = Dictionary(uniqueKeysWithValues: truths.enumerated().map { ($0.element, $0.offset) })
        let columnOf = Dictionary(uniqueKeysWithValues: predictions.enumerated().map { ($0.element, $0.offset) })
        // Zero where two nuclei do not overlap, negated like HoVer-Net's `-pairwise_iou`.
        var costs = [Double](repeating: -0.0, count: truths.count * predictions.count)
        var entryAt: [Int: OverlapTable.Entry] = [:]
        for entry in group {
            let k = rowOf[entry.truth]! * predictions.count + columnOf[entry.prediction]!
            costs[k] = -smoothedIoU(entry)
            entryAt[k] = entry
        }
        // Finite costs always admit an assignment, so this cannot throw in practice.
        let pairs = try LinearAssignment.minimize(costs: costs, rows: truths.count, columns: predictions.count)
        return pairs.compactMap { entryAt[$0.row * predictions.count + $0.column] }
    }
}

extension Metrics {
    /// Union-find over 0..<count with path halving: the connected groups of overlapping nuclei.
    fileprivate struct DisjointSets {
        private var parent: [Int]

        init(count: Int) { parent = Array(0..<count) }

        mutating func root(_ x: Int) -> Int {
            var x = x
            while parent[x] != x {
                parent[x] = parent[parent[x]]
                x = parent[x]
            }
            return x
        }

        mutating func merge(_ a: Int, _ b: Int) {
            let ra = root(a), rb = root(b)
            if ra != rb { parent[max(ra, rb)] = min(ra, rb) }
        }
    }
}
