/// The bridge from post-processing to the output writers: a record as the `Nucleus` they
/// take (same coordinates and conventions; the pixel count has no place there).
extension InstanceRecord {
    public var nucleus: Nucleus {
        Nucleus(
            id: Int(id),
            bbox: Nucleus.BoundingBox(
                rowMin: boundingBox.rowMin, columnMin: boundingBox.columnMin, rowMax: boundingBox.rowMax,
                columnMax: boundingBox.columnMax),
            centroid: Nucleus.Centroid(x: centroid.x, y: centroid.y),
            contour: contour.map { Nucleus.Point(x: Int($0.x), y: Int($0.y)) },
            type: type, typeProbability: typeProbability)
    }
}
