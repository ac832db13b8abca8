/// The outcome of centroid pairing with nucleus types, summed over any number of images: what
/// HoVer-Net's `run_nuclei_type_stat` pools before computing its F1 scores (it pools counts
/// over the whole dataset; it does not average per-image scores). Add images with `add`.
public struct ClassificationCounts: Sendable, Hashable {
    /// A (true type, predicted type) combination of a paired nucleus.
    public struct TypePair: Sendable, Hashable {
        public let truth: Int
        public let prediction: Int
    }

    /// Paired nuclei by (true type, predicted type).
    public private(set) var paired: [TypePair: Int] = [:]
    /// Ground-truth nuclei without a prediction (FN), by type.
    public private(set) var unpairedTruth: [Int: Int] = [:]
    /// Predictions without a ground-truth nucleus (FP), by type.
    public private(set) var unpairedPrediction: [Int: Int] = [:]
    /// Every true type seen, paired or not: HoVer-Net's default list of types to score.
    public private(set) var truthTypes: Set<Int> = []
    public private(set) var imageCount = 0

    public init() {}

    public mutating func add(_ other: ClassificationCounts) {
        paired.merge(other.paired, uniquingKeysWith: +)
        unpairedTruth.merge(other.unpairedTruth, uniquingKeysWith: +)
        unpairedPrediction.merge(other.unpairedPrediction, uniquingKeysWith: +)
        truthTypes.formUnion(other.truthTypes)
        imageCount += other.imageCount
    }

    /// The counts of one image.
    init(pairing: CentroidPairing, truthTypes: [Int], predictionTypes: [Int]) {
        for pair in pairing.pairs {
            paired[TypePair(truth: truthTypes[pair.truth], prediction: predictionTypes[pair.prediction]), default: 0] += 1
        }
        for t in pairing.unpairedTruth { unpairedTruth[truthTypes[t], default: 0] += 1 }
        for p in pairing.unpairedPrediction { unpairedPrediction[predictionTypes[p], default: 0] += 1 }
        self.truthTypes = Set(truthTypes)
        imageCount = 1
    }

    /// Detection F1 (eq. 20), type accuracy and the type-specific F1 (eq. 21) of every type in
    /// `typeIDs`, by default the true types seen, ascending (HoVer-Net's `np.unique`).
    public func scores(typeIDs: [Int]? = nil) -> ClassificationScores {
        let matched = paired.values.reduce(0, +)
        let falsePositives = unpairedPrediction.values.reduce(0, +)
        let falseNegatives = unpairedTruth.values.reduce(0, +)
        let correct = paired.reduce(0) { $0 + ($1.key.truth == $1.key.prediction ? $1.value : 0) }
        let types = (typeIDs ?? truthTypes.sorted()).map { type in
            var score = ClassificationScores.TypeScore(type: type)
            for (pair, count) in paired {
                switch (pair.truth == type, pair.prediction == type) {
                case (true, true): score.truePositives += count
                case (false, true): score.falsePositives += count
                case (true, false): score.falseNegatives += count
                case (false, false): break
                }
            }
            score.unpairedPredictions = unpairedPrediction[type] ?? 0
            score.unpairedTruths = unpairedTruth[type] ?? 0
            return score
        }
        return ClassificationScores(
            f1Detection: Metrics.ratio(2 * matched, 2 * matched + falsePositives + falseNegatives),
            accuracy: Metrics.ratio(correct, matched),
            matched: matched, falsePositives: falsePositives, falseNegatives: falseNegatives, types: types)
    }
}

/// Detection and classification scores from pooled `ClassificationCounts`. NaN marks 0/0.
public struct ClassificationScores: Sendable, Hashable {
    /// F1,d = 2TP / (2TP + FP + FN) over the centroid pairing (eq. 20).
    public let f1Detection: Double
    /// Paired nuclei given their true type / paired nuclei (HoVer-Net's `acc_type`).
    public let accuracy: Double
    public let matched: Int
    public let falsePositives: Int
    public let falseNegatives: Int
    /// One entry per scored type, in the order asked for.
    public let types: [TypeScore]

    /// The type-specific F1 of one type c (eq. 21 as HoVer-Net's `_f1_type` computes it):
    /// 2TPc / (2TPc + 2FPc + 2FNc + FPd,c + FNd,c). TNc of the paper's formula is always 0
    /// there, because HoVer-Net first keeps only the paired nuclei whose true or predicted type
    /// is c; FPd,c and FNd,c are the unpaired predictions and truths of type c.
    public struct TypeScore: Sendable, Hashable {
        public let type: Int
        /// Paired, true type c and predicted c.
        public internal(set) var truePositives = 0
        /// Paired, predicted c but truly another type.
        public internal(set) var falsePositives = 0
        /// Paired, truly c but predicted another type.
        public internal(set) var falseNegatives = 0
        /// Unpaired predictions of type c (FPd,c).
        public internal(set) var unpairedPredictions = 0
        /// Unpaired ground-truth nuclei of type c (FNd,c).
        public internal(set) var unpairedTruths = 0

        init(type: Int) { self.type = type }

        public var f1: Double {
            Metrics.ratio(2 * truePositives,
                  2 * truePositives + 2 * falsePositives + 2 * falseNegatives + unpairedPredictions + unpairedTruths)
        }
    }

    /// The F1 of `type`, or nil when it was not scored.
    public func f1(type: Int) -> Double? { types.first { $0.type == type }?.f1 }
}

extension Metrics {
    /// a / b as a correctly rounded Double, NaN for 0/0 (numpy's integer true division).
    static func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? .nan : Double(a) / Double(b) }

    /// The pairing counts of one image. With `placeholderForEmptyImages` (HoVer-Net's
    /// behaviour, the default) a side without nuclei is given one dummy nucleus of type 0 at
    /// (0, 0) before pairing, so such an image still counts a detection (see Spec/METRICS.md).
    public static func classificationCounts(
        truthCentroids: [SIMD2<Double>], types truthTypes: [Int],
        predictedCentroids: [SIMD2<Double>], types predictedTypes: [Int],
        radius: Double = defaultRadius, placeholderForEmptyImages: Bool = true
    ) throws(MetricsError) -> ClassificationCounts {
        guard truthTypes.count == truthCentroids.count else {
            throw .invalidArgument("truth types", "\(truthTypes.count) types for \(truthCentroids.count) centroids")
        }
        guard predictedTypes.count == predictedCentroids.count else {
            throw .invalidArgument("predicted types", "\(predictedTypes.count) types for \(predictedCentroids.count) centroids")
        }
        var truth = (truthCentroids, truthTypes), prediction = (predictedCentroids, predictedTypes)
        if placeholderForEmptyImages {
            if truth.0.isEmpty { truth = ([SIMD2<Double>(0, 0)], [0]) }
            if prediction.0.isEmpty { prediction = ([SIMD2<Double>(0, 0)], [0]) }
        }
        let pairing = try pairCentroids(truth: truth.0, prediction: prediction.0, radius: radius)
        return ClassificationCounts(pairing: pairing, truthTypes: truth.1, predictionTypes: prediction.1)
    }

    /// Detection and type F1 of a single image; pool `classificationCounts` for a dataset.
    public static func classification(
        truthCentroids: [SIMD2<Double>], types truthTypes: [Int],
        predictedCentroids: [SIMD2<Double>], types predictedTypes: [Int],
        radius: Double = defaultRadius, typeIDs: [Int]? = nil, placeholderForEmptyImages: Bool = true
    ) throws(MetricsError) -> ClassificationScores {
        try classificationCounts(
            truthCentroids: truthCentroids, types: truthTypes, predictedCentroids: predictedCentroids,
            types: predictedTypes, radius: radius, placeholderForEmptyImages: placeholderForEmptyImages
        ).scores(typeIDs: typeIDs)
    }

    /// The pairing counts of one image from the pipeline's nucleus records (centroid and
    /// type of each); throws for a record without a type.
    public static func classificationCounts(
        truth: [InstanceRecord], prediction: [InstanceRecord],
        radius: Double = defaultRadius, placeholderForEmptyImages: Bool = true
    ) throws(MetricsError) -> ClassificationCounts {
        func types(_ records: [InstanceRecord], _ name: String) throws(MetricsError) -> [Int] {
            var types: [Int] = []
            for record in records {
                guard let type = record.type else { throw .invalidArgument(name, "nucleus \(record.id) has no type") }
                types.append(type)
            }
            return types
        }
        return try classificationCounts(
            truthCentroids: truth.map(\.centroid), types: try types(truth, "ground-truth records"),
            predictedCentroids: prediction.map(\.centroid), types: try types(prediction, "predicted records"),
            radius: radius, placeholderForEmptyImages: placeholderForEmptyImages)
    }
}
