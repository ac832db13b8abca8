/// Collects the metrics of a dataset image by image and reports them: segmentation scores per
/// image and their mean (HoVer-Net's `run_nuclei_inst_stat`), detection and type F1 from
/// centroid pairings pooled over all images (`run_nuclei_type_stat`), and PanNuke's bPQ/mPQ
/// (the official `run.py`). Each part is filled only by the images given to it; image names
/// must be unique within a part, and every error names the image at fault.
public struct Evaluation: Sendable {
    /// Settings of the classification part (the other parts have none).
    public struct Options: Sendable, Hashable {
        /// Centroid pairing radius in pixels (HoVer-Net: 12).
        public var radius: Double
        /// Types to score; nil scores the true types seen (HoVer-Net's default).
        public var typeIDs: [Int]?
        /// HoVer-Net's dummy nucleus for a side without nuclei (see `Metrics.classificationCounts`).
        public var placeholderForEmptyImages: Bool
        /// Names of PanNuke's class channels, for the report only.
        public var classNames: [String]?

        public init(
            radius: Double = Metrics.defaultRadius, typeIDs: [Int]? = nil, placeholderForEmptyImages: Bool = true,
            classNames: [String]? = nil
        ) {
            self.radius = radius
            self.typeIDs = typeIDs
            self.placeholderForEmptyImages = placeholderForEmptyImages
            self.classNames = classNames
        }
    }

    public let options: Options
    private var segmentation: [(image: String, scores: SegmentationScores)] = []
    private var classificationImages: [String] = []
    private var classification = ClassificationCounts()
    private var panNuke: [(image: String, tissue: String?, scores: PanNukeImageScores)] = []

    public init(options: Options = Options()) {
        self.options = options
    }

    /// Scores one image's instance segmentation.
    public mutating func addSegmentation(image: String, truth: InstanceMap, prediction: InstanceMap) throws(MetricsError) {
        try checkNew(image, in: segmentation.map(\.image))
        do {
            segmentation.append((image, try Metrics.segmentation(truth: truth, prediction: prediction)))
        } catch {
            throw .image(image, error)
        }
    }

    /// Pairs one image's nuclei by centroid and adds the counts to the pool.
    public mutating func addClassification(
        image: String, truthCentroids: [SIMD2<Double>], types truthTypes: [Int],
        predictedCentroids: [SIMD2<Double>], types predictedTypes: [Int]
    ) throws(MetricsError) {
        try checkNew(image, in: classificationImages)
        do {
            classification.add(try Metrics.classificationCounts(
                truthCentroids: truthCentroids, types: truthTypes, predictedCentroids: predictedCentroids,
                types: predictedTypes, radius: options.radius, placeholderForEmptyImages: options.placeholderForEmptyImages))
        } catch {
            throw .image(image, error)
        }
        classificationImages.append(image)
    }

    /// Pairs one image's nucleus records (centroids and types from post-processing).
    public mutating func addClassification(image: String, truth: [InstanceRecord], prediction: [InstanceRecord]) throws(MetricsError) {
        try checkNew(image, in: classificationImages)
        do {
            classification.add(try Metrics.classificationCounts(
                truth: truth, prediction: prediction, radius: options.radius,
                placeholderForEmptyImages: options.placeholderForEmptyImages))
        } catch {
            throw .image(image, error)
        }
        classificationImages.append(image)
    }

    /// Scores one PanNuke image from its class-wise maps; `tissue` groups images as the
    /// official script does (nil: one unnamed group).
    public mutating func addPanNuke(image: String, tissue: String? = nil, truth: [InstanceMap], prediction: [InstanceMap]) throws(MetricsError) {
        try checkNew(image, in: panNuke.map(\.image))
        do {
            panNuke.append((image, tissue, try Metrics.panNuke(truth: truth, prediction: prediction)))
        } catch {
            throw .image(image, error)
        }
    }

    private func checkNew(_ image: String, in names: [String]) throws(MetricsError) {
        if names.contains(image) { throw .image(image, .invalidArgument("image", "was already added")) }
    }

    /// Everything collected so far; parts without images are absent.
    public func report() -> EvaluationReport {
        var report = EvaluationReport()
        if !segmentation.isEmpty {
            let all = segmentation.map(\.scores)
            func mean(_ value: (SegmentationScores) -> Double) -> MetricValue { MetricValue(Metrics.mean(all.map(value))) }
            report.segmentation = EvaluationReport.Segmentation(
                images: segmentation.map { EvaluationReport.Segmentation.Image(image: $0.image, $0.scores) },
                mean: EvaluationReport.Segmentation.Scores(
                    dice: mean(\.dice), aji: mean(\.aji), ajiPlus: mean(\.ajiPlus), dq: mean(\.dq), sq: mean(\.sq), pq: mean(\.pq)))
        }
        if !classificationImages.isEmpty {
            report.classification = EvaluationReport.Classification(
                images: classificationImages, options: options, scores: classification.scores(typeIDs: options.typeIDs))
        }
        if !panNuke.isEmpty {
            report.panNuke = EvaluationReport.PanNuke(
                images: panNuke, summary: PanNukeSummary(images: panNuke.map { ($0.tissue, $0.scores) }),
                classNames: options.classNames)
        }
        return report
    }
}
