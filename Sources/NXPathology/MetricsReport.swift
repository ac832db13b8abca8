import Foundation

/// A metric value in a report: any Double, written to JSON as the shortest decimal that reads
/// back to the same Double (full precision), and NaN (a 0/0 score) written as null.
public struct MetricValue: Codable, Sendable, Hashable, CustomStringConvertible {
    public let value: Double

    public init(_ value: Double) { self.value = value }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        value = container.decodeNil() ? .nan : try container.decode(Double.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if value.isNaN { try container.encodeNil() } else { try container.encode(value) }
    }

    /// NaN equals NaN here, so reports compare as documents.
    public static func == (a: MetricValue, b: MetricValue) -> Bool {
        (a.value.isNaN && b.value.isNaN) || a.value == b.value
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(value.isNaN ? Double.nan.bitPattern : (value == 0 ? 0 : value.bitPattern))
    }

    public var description: String { value.isNaN ? "null" : "\(value)" }
}

/// The JSON-serialisable result of an `Evaluation`: every number at full precision, NaN as
/// null, parts without images absent. Field names are the JSON keys.
public struct EvaluationReport: Codable, Sendable, Hashable {
    /// Per-image segmentation scores and their mean over images (np.mean: NaN if any is).
    public struct Segmentation: Codable, Sendable, Hashable {
        public struct Scores: Codable, Sendable, Hashable {
            public var dice, aji, ajiPlus, dq, sq, pq: MetricValue
        }

        public struct Image: Codable, Sendable, Hashable {
            public var image: String
            public var scores: Scores
            public var matched, falsePositives, falseNegatives: Int

            init(image: String, _ s: SegmentationScores) {
                self.image = image
                scores = Scores(
                    dice: MetricValue(s.dice), aji: MetricValue(s.aji), ajiPlus: MetricValue(s.ajiPlus),
                    dq: MetricValue(s.dq), sq: MetricValue(s.sq), pq: MetricValue(s.pq))
                matched = s.matched
                falsePositives = s.falsePositives
                falseNegatives = s.falseNegatives
            }
        }

        public var images: [Image]
        public var mean: Scores
    }

    /// Detection and type F1 from the pairings pooled over `images`.
    public struct Classification: Codable, Sendable, Hashable {
        public struct TypeEntry: Codable, Sendable, Hashable {
            public var type: Int
            public var f1: MetricValue
            public var truePositives, falsePositives, falseNegatives, unpairedPredictions, unpairedTruths: Int
        }

        public var images: [String]
        public var radius: Double
        public var placeholderForEmptyImages: Bool
        public var f1Detection: MetricValue
        public var accuracy: MetricValue
        public var matched, falsePositives, falseNegatives: Int
        public var types: [TypeEntry]

        init(images: [String], options: Evaluation.Options, scores: ClassificationScores) {
            self.images = images
            radius = options.radius
            placeholderForEmptyImages = options.placeholderForEmptyImages
            f1Detection = MetricValue(scores.f1Detection)
            accuracy = MetricValue(scores.accuracy)
            matched = scores.matched
            falsePositives = scores.falsePositives
            falseNegatives = scores.falseNegatives
            types = scores.types.map {
                TypeEntry(
                    type: $0.type, f1: MetricValue($0.f1), truePositives: $0.truePositives, falsePositives: $0.falsePositives,
                    falseNegatives: $0.falseNegatives, unpairedPredictions: $0.unpairedPredictions, unpairedTruths: $0.unpairedTruths)
            }
        }
    }

    /// PanNuke's per-image, per-tissue and overall bPQ/mPQ.
    public struct PanNuke: Codable, Sendable, Hashable {
        public struct Image: Codable, Sendable, Hashable {
            public var image: String
            public var tissue: String?
            public var binaryPQ, multiClassPQ: MetricValue
            public var classPQ: [MetricValue]
        }

        public struct Tissue: Codable, Sendable, Hashable {
            public var name: String
            public var imageCount: Int
            public var binaryPQ, multiClassPQ: MetricValue
        }

        public var classNames: [String]?
        public var images: [Image]
        public var tissues: [Tissue]
        public var binaryPQ, multiClassPQ, classAveragedPQ: MetricValue
        public var classPQ: [MetricValue]

        init(images: [(image: String, tissue: String?, scores: PanNukeImageScores)], summary: PanNukeSummary, classNames: [String]?) {
            self.classNames = classNames
            self.images = images.map {
                Image(
                    image: $0.image, tissue: $0.tissue, binaryPQ: MetricValue($0.scores.binaryPQ),
                    multiClassPQ: MetricValue($0.scores.multiClassPQ), classPQ: $0.scores.classPQ.map(MetricValue.init))
            }
            tissues = summary.tissues.map {
                Tissue(name: $0.name, imageCount: $0.imageCount, binaryPQ: MetricValue($0.binaryPQ), multiClassPQ: MetricValue($0.multiClassPQ))
            }
            binaryPQ = MetricValue(summary.binaryPQ)
            multiClassPQ = MetricValue(summary.multiClassPQ)
            classAveragedPQ = MetricValue(summary.classAveragedPQ)
            classPQ = summary.classPQ.map(MetricValue.init)
        }
    }

    public var segmentation: Segmentation?
    public var classification: Classification?
    public var panNuke: PanNuke?

    public init() {}

    /// Pretty-printed JSON with sorted keys, so identical reports are identical files.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    public static func decode(json: Data) throws -> EvaluationReport {
        try JSONDecoder().decode(EvaluationReport.self, from: json)
    }
}
