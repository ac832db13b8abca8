extension Metrics {
    /// The nuclei of an instance map numbered 1...count by ascending label: `pixelIndex` holds
    /// each pixel's number (0 for background), `labels[k - 1]` and `areas[k - 1]` describe
    /// nucleus k. One or two passes over the pixels; everything downstream works on these small
    /// numbers instead of arbitrary labels.
    struct LabelIndex {
        let labels: [Int32]
        let areas: [Int]
        let pixelIndex: [Int32]

        var count: Int { labels.count }
        var totalArea: Int { areas.reduce(0, +) }

        init(_ map: InstanceMap) {
            let source = map.labels
            let maxLabel = Int(source.max() ?? 0)
            // A table indexed by label is the fast path; labels far beyond the pixel count (sparse
            // ids such as 10^9) fall back to a dictionary so memory stays proportional to the map.
            if maxLabel <= max(4 * source.count, 1 << 16) {
                var number = [Int32](repeating: 0, count: maxLabel + 1)
                var areaOf = [Int](repeating: 0, count: maxLabel + 1)
                source.withUnsafeBufferPointer { pixels in
                    areaOf.withUnsafeMutableBufferPointer { area in
                        for label in pixels { area[Int(label)] += 1 }
                    }
                }
                var labels: [Int32] = [], areas: [Int] = []
                for label in 1..<(maxLabel + 1) where areaOf[label] > 0 {
                    labels.append(Int32(label))
                    areas.append(areaOf[label])
                    number[label] = Int32(labels.count)
                }
                self.labels = labels
                self.areas = areas
                self.pixelIndex = [Int32](unsafeUninitializedCapacity: source.count) { output, initialized in
                    number.withUnsafeBufferPointer { table in
                        source.withUnsafeBufferPointer { pixels in
                            for k in 0..<pixels.count { output[k] = table[Int(pixels[k])] }
                        }
                    }
                    initialized = source.count
                }
            } else {
                var areaOf: [Int32: Int] = [:]
                for label in source where label != 0 { areaOf[label, default: 0] += 1 }
                let labels = areaOf.keys.sorted()
                var number: [Int32: Int32] = [0: 0]
                for (k, label) in labels.enumerated() { number[label] = Int32(k + 1) }
                self.labels = labels
                self.areas = labels.map { areaOf[$0]! }
                self.pixelIndex = source.map { number[$0]! }
            }
        }
    }
}
