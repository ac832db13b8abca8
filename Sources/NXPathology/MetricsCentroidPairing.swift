/// Which ground-truth nuclei a prediction found, by centroid, as HoVer-Net's
/// `pair_coordinates`: the optimal assignment of the whole Euclidean distance matrix, from
/// which pairs farther apart than the radius are dropped (a distance equal to the radius is
/// kept). Indices refer to the input arrays; `pairs` is sorted by truth index.
public struct CentroidPairing: Sendable, Hashable {
    public struct Pair: Sendable, Hashable {
        public let truth: Int
        public let prediction: Int

        public init(truth: Int, prediction: Int) {
            self.truth = truth
            self.prediction = prediction
        }
    }

    public let pairs: [Pair]
    public let unpairedTruth: [Int]
    public let unpairedPrediction: [Int]
}

extension Metrics {
    /// Euclidean distance computed as scipy's `cdist`: sqrt(dx² + dy²), in that order.
    static func distance(_ a: SIMD2<Double>, _ b: SIMD2<Double>) -> Double {
        let dx = a.x - b.x, dy = a.y - b.y
        return (dx * dx + dy * dy).squareRoot()
    }

    /// Pairs centroids within `radius` pixels. The assignment minimises the total distance
    /// over all min(truths, predictions) pairs before the radius is applied, exactly as
    /// HoVer-Net does, which is not always the largest set of pairs within the radius.
    public static func pairCentroids(
        truth: [SIMD2<Double>], prediction: [SIMD2<Double>], radius: Double = defaultRadius
    ) throws(MetricsError) -> CentroidPairing {
        guard radius.isFinite, radius >= 0 else {
            throw .invalidArgument("radius", "\(radius) is not a finite, non-negative distance")
        }
        for (name, points) in [("truth centroids", truth), ("predicted centroids", prediction)] {
            if let bad = points.firstIndex(where: { !$0.x.isFinite || !$0.y.isFinite }) {
                throw .invalidArgument(name, "centroid \(bad) is (\(points[bad].x), \(points[bad].y))")
            }
        }
        var distances = [Double](repeating: 0, count: truth.count * prediction.count)
        for (i, a) in truth.enumerated() {
            for (j, b) in prediction.enumerated() { distances[i * prediction.count + j] = distance(a, b) }
        }
        let assignment = try LinearAssignment.minimize(costs: distances, rows: truth.count, columns: prediction.count)
        var pairs: [CentroidPairing.Pair] = []
        var pairedTruth = [Bool](repeating: false, count: truth.count)
        var pairedPrediction = [Bool](repeating: false, count: prediction.count)
        for pair in assignment where distances[pair.row * prediction.count + pair.column] <= radius {
            pairs.append(CentroidPairing.Pair(truth: pair.row, prediction: pair.column))
            pairedTruth[pair.row] = true
            pairedPrediction[pair.column] = true
        }
        return CentroidPairing(
            pairs: pairs,
            unpairedTruth: pairedTruth.indices.filter { !pairedTruth[$0] },
            unpairedPrediction: pairedPrediction.indices.filter { !pairedPrediction[$0] })
    }
}
