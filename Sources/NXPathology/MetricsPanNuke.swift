/// PanNuke scores of one image, as the official PanNuke `run.py` computes them from class-wise
/// instance maps: the binary PQ of the merged maps (eq. 18's PQ_i) and the PQ of every class
/// (eq. 19's PQ_i,c). A PQ whose ground truth has no nucleus is NaN: the script skips it.
public struct PanNukeImageScores: Sendable, Hashable {
    /// PQ of all nuclei as one class; NaN when the ground truth is empty.
    public let binaryPQ: Double
    /// PQ per class, in channel order; NaN for a class absent from the ground truth.
    public let classPQ: [Double]

    /// The image's mPQ: the mean over its classes with nuclei (np.nanmean); NaN if none.
    public var multiClassPQ: Double { Metrics.nanMean(classPQ) }
}

/// bPQ and mPQ over a dataset, averaged as the official PanNuke script does: per tissue, the
/// nanmean over its images of the per-image bPQ and mPQ; then the nanmean over tissues.
/// Without tissue names all images form one group.
public struct PanNukeSummary: Sendable, Hashable {
    /// One tissue's averages, tissues in order of first appearance.
    public struct Tissue: Sendable, Hashable {
        public let name: String
        public let imageCount: Int
        public let binaryPQ: Double
        public let multiClassPQ: Double
    }

    public let tissues: [Tissue]
    /// bPQ: nanmean over tissues of the tissue's nanmean binary PQ.
    public let binaryPQ: Double
    /// mPQ: nanmean over tissues of the tissue's nanmean per-image mPQ.
    public let multiClassPQ: Double
    /// PQ of every class: the nanmean over all images (the script's per-class report).
    public let classPQ: [Double]
    /// Eq. 19 read literally: the mean over classes of `classPQ` (classes never present are
    /// skipped). It differs from `multiClassPQ`, which averages per image first.
    public let classAveragedPQ: Double

    /// `images` pairs each image's scores with its tissue (nil: the unnamed group).
    public init(images: [(tissue: String?, scores: PanNukeImageScores)]) {
        var order: [String?] = []
        var members: [String?: [PanNukeImageScores]] = [:]
        for (tissue, scores) in images {
            if members[tissue] == nil { order.append(tissue) }
            members[tissue, default: []].append(scores)
        }
        tissues = order.map { name in
            let scores = members[name]!
            return Tissue(
                name: name ?? "", imageCount: scores.count,
                binaryPQ: Metrics.nanMean(scores.map(\.binaryPQ)),
                multiClassPQ: Metrics.nanMean(scores.map(\.multiClassPQ)))
        }
        binaryPQ = Metrics.nanMean(tissues.map(\.binaryPQ))
        multiClassPQ = Metrics.nanMean(tissues.map(\.multiClassPQ))
        let classCount = images.map(\.scores.classPQ.count).max() ?? 0
        classPQ = (0..<classCount).map { c in
            Metrics.nanMean(images.compactMap { c < $0.scores.classPQ.count ? $0.scores.classPQ[c] : nil })
        }
        classAveragedPQ = Metrics.nanMean(classPQ)
    }
}

extension Metrics {
    /// PanNuke scores of one image from its class-wise instance maps (one map per class, the
    /// same classes in the same order on both sides; PanNuke's masks without the background
    /// channel).
    public static func panNuke(truth: [InstanceMap], prediction: [InstanceMap]) throws(MetricsError) -> PanNukeImageScores {
        guard truth.count == prediction.count else {
            throw .invalidArgument("prediction", "has \(prediction.count) class maps but the ground truth has \(truth.count)")
        }
        func pq(_ t: InstanceMap, _ p: InstanceMap) throws(MetricsError) -> Double {
            let overlaps = try OverlapTable(truth: t, prediction: p)
            return overlaps.truth.count == 0 ? .nan : PanopticQuality(overlaps).pq
        }
        var classPQ: [Double] = []
        for (c, (t, p)) in zip(truth, prediction).enumerated() {
            do {
                classPQ.append(try pq(t, p))
            } catch {
                throw .invalidArgument("class \(c)", error.description)
            }
        }
        let binaryPQ = truth.isEmpty ? Double.nan : try pq(try mergeClassMaps(truth), try mergeClassMaps(prediction))
        return PanNukeImageScores(binaryPQ: binaryPQ, classPQ: classPQ)
    }

    /// One instance map from class-wise maps, as PanNuke's `binarize`: every (class, label)
    /// in class order then label order becomes the next label 1, 2, ...; where classes
    /// overlap the later class wins, and a nucleus entirely covered by later ones vanishes.
    public static func mergeClassMaps(_ maps: [InstanceMap]) throws(MetricsError) -> InstanceMap {
        guard let first = maps.first else { throw .invalidArgument("class maps", "there are none") }
        for (c, map) in maps.enumerated() where map.width != first.width || map.height != first.height {
            throw .invalidArgument("class map \(c)", "is \(map.width)x\(map.height) but class map 0 is \(first.width)x\(first.height)")
        }
        var merged = [Int32](repeating: 0, count: first.labels.count)
        var offset: Int32 = 0
        for map in maps {
            let index = LabelIndex(map)
            for (pixel, k) in index.pixelIndex.enumerated() where k != 0 { merged[pixel] = offset + k }
            offset += Int32(index.count)
        }
        return InstanceMap(checkedWidth: first.width, height: first.height, labels: merged)
    }
}
