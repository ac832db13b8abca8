/// A model's outputs stitched over a whole image at full resolution (`width * height` floats
/// per plane, row-major): the nucleus probability (softmax of np, channel 1), the horizontal
/// and vertical distance maps (hv channels 0 and 1, raw), and one probability plane per type
/// (softmax of tp; empty when the model has no type branch). Probabilities are computed on the
/// model's output grid and then resampled bilinearly, so each pixel's type probabilities still
/// sum to 1.
public struct SegmentationMaps: Sendable {
    public let width: Int
    public let height: Int
    public var nucleusProbability: [Float]
    public var horizontal: [Float]
    public var vertical: [Float]
    public var typeProbabilities: [[Float]]

    public init(width: Int, height: Int, nucleusProbability: [Float], horizontal: [Float], vertical: [Float], typeProbabilities: [[Float]]) {
        let count = width * height
        precondition(
            nucleusProbability.count == count && horizontal.count == count && vertical.count == count
                && typeProbabilities.allSatisfy { $0.count == count }, "every map needs \(width)x\(height) values")
        self.width = width
        self.height = height
        self.nucleusProbability = nucleusProbability
        self.horizontal = horizontal
        self.vertical = vertical
        self.typeProbabilities = typeProbabilities
    }

    public var typeCount: Int { typeProbabilities.count }

    /// The most probable type of each pixel (ties go to the lower index); nil without types.
    public func mostProbableType() -> GrayImage<UInt8>? {
        guard !typeProbabilities.isEmpty, typeProbabilities.count <= 256 else { return nil }
        var types = [UInt8](repeating: 0, count: width * height)
        var best = typeProbabilities[0]
        for type in 1..<typeProbabilities.count {
            let plane = typeProbabilities[type]
            for index in 0..<types.count where plane[index] > best[index] {
                best[index] = plane[index]
                types[index] = UInt8(type)
            }
        }
        return GrayImage(width: width, height: height, pixels: types)
    }
}

/// Seconds spent in each stage of `Segmenter.segment`.
public struct SegmentationTimings: Sendable, Equatable {
    /// Reading tiles out of the image (reflect padding, normalisation).
    public var tilePreparation: Double = 0
    /// `Session.run` on every batch.
    public var inference: Double = 0
    /// Softmax, placing tile outputs on the grid, and bilinear upsampling to full resolution.
    public var stitching: Double = 0
    /// The whole call.
    public var total: Double = 0

    public init() {}
}

/// Counts that show how the work was split and what was held in memory at once.
public struct SegmentationStatistics: Sendable, Equatable {
    public var tiles = 0
    public var batches = 0
    /// The batch size used (the option, or the model's fixed batch dimension).
    public var batchSize = 0
    /// Batches run side by side (`Segmenter.concurrentRuns`).
    public var concurrentRuns = 0
    /// Tiles run through the model, padding included: `tiles` unless the model's batch
    /// dimension is fixed and the last batch was padded.
    public var tilesComputed = 0
    /// Most tile inputs materialised at the same time: never more than one round of batches
    /// (`batchSize` x `concurrentRuns`).
    public var peakTilesHeld = 0
    /// Most low-resolution tile-row strips held at the same time.
    public var peakStripsHeld = 0

    public init() {}
}

/// Progress of a `segment` call, reported after each round of batches.
public struct SegmentationProgress: Sendable, Equatable {
    public let tilesDone: Int
    public let tilesTotal: Int
    public var fraction: Double { tilesTotal == 0 ? 1 : Double(tilesDone) / Double(tilesTotal) }
}

/// What `Segmenter.segment` returns.
public struct SegmentationResult: Sendable {
    public var maps: SegmentationMaps
    public var layout: TileLayout
    public var timings: SegmentationTimings
    public var statistics: SegmentationStatistics
}
