/// Instance labels per pixel (row-major, width x height), 0 = background. Labels are
/// HoVer-Net's: the marker numbers of the watershed, in raster order of first appearance of
/// each marker, not renumbered, so ids may skip values where a marker was dropped.
public struct InstanceMap: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let labels: [Int32]

    /// Throws unless both sizes are positive, `labels` has width * height values, and none is
    /// negative.
    public init(width: Int, height: Int, labels: [Int32]) throws(PostProcessingError) {
        let count = try PostProcessor.pixelCount(width: width, height: height)
        guard labels.count == count else { throw .sizeMismatch(map: "instance map", expected: count, actual: labels.count) }
        if let index = labels.firstIndex(where: { $0 < 0 }) { throw .invalidLabel(index: index, value: labels[index]) }
        self.width = width
        self.height = height
        self.labels = labels
    }

    /// For maps the pipeline built (already checked).
    init(checkedWidth width: Int, height: Int, labels: [Int32]) {
        self.width = width
        self.height = height
        self.labels = labels
    }

    public subscript(x: Int, y: Int) -> Int32 { labels[y * width + x] }

    /// The distinct nonzero labels, ascending.
    public var instanceIDs: [Int32] {
        guard let largest = labels.max(), largest > 0 else { return [] }
        // A presence table when ids are no larger than the map (always, for watershed
        // output); a set otherwise.
        guard Int(largest) <= 4 * labels.count + 1024 else { return Set(labels).subtracting([0]).sorted() }
        var present = [Bool](repeating: false, count: Int(largest) + 1)
        for label in labels { present[Int(label)] = true }
        return (1...Int(largest)).compactMap { present[$0] ? Int32($0) : nil }
    }

    /// Number of distinct nonzero labels.
    public var instanceCount: Int { instanceIDs.count }
}
