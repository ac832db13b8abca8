/// What the metrics add to the pipeline's `InstanceMap` (labels row-major, 0 = background):
/// PanNuke's class-wise layout. Wherever instance order matters to a metric (ties), nuclei are
/// taken by ascending label, the order HoVer-Net's `remap_label` gives them.
extension InstanceMap {
    /// One map per entry of `classes`, holding the nuclei whose type (from `types`, keyed by
    /// label) is that class, labels unchanged; nuclei of other types are left out. Throws for a
    /// nucleus without a type.
    public func classMaps(types: [Int32: Int], classes: [Int]) throws(MetricsError) -> [InstanceMap] {
        let index = Metrics.LabelIndex(self)
        var classOf = [Int](repeating: -1, count: index.count + 1)
        for k in 0..<index.count {
            guard let type = types[index.labels[k]] else {
                throw .invalidArgument("instance types", "nucleus \(index.labels[k]) has no type")
            }
            classOf[k + 1] = classes.firstIndex(of: type) ?? -1
        }
        var maps = [[Int32]](repeating: [Int32](repeating: 0, count: labels.count), count: classes.count)
        for (pixel, k) in index.pixelIndex.enumerated() where k != 0 {
            let c = classOf[Int(k)]
            if c >= 0 { maps[c][pixel] = labels[pixel] }
        }
        return maps.map { InstanceMap(checkedWidth: width, height: height, labels: $0) }
    }
}
