extension Metrics {
    /// The pixel overlaps between the nuclei of a ground-truth map and of a prediction: only the
    /// pairs that share at least one pixel, sorted by truth number then prediction number (the
    /// row-major order of HoVer-Net's dense pairwise matrices). Built in one pass over the pixels,
    /// so its cost is O(pixels + overlapping pairs), never O(truths × predictions).
    struct OverlapTable {
        /// One overlapping pair; `truth` and `prediction` are 0-based nucleus numbers.
        struct Entry {
            let truth: Int
            let prediction: Int
            let intersection: Int
            /// |G ∪ P| = |G| + |P| - |G ∩ P|.
            let union: Int
        }

        let truth: LabelIndex
        let prediction: LabelIndex
        let entries: [Entry]
        /// Entries of truth t are `entries[rowStart[t]..<rowStart[t + 1]]`.
        let rowStart: [Int]
        /// Pixels that are foreground in both maps.
        let foregroundIntersection: Int

        init(truth truthMap: InstanceMap, prediction predictionMap: InstanceMap) throws(MetricsError) {
            guard truthMap.width == predictionMap.width, truthMap.height == predictionMap.height else {
                throw .invalidArgument(
                    "prediction",
                    "is \(predictionMap.width)x\(predictionMap.height) but the ground truth is \(truthMap.width)x\(truthMap.height)")
            }
            let truth = LabelIndex(truthMap), prediction = LabelIndex(predictionMap)
            let predictionCount = UInt64(prediction.count)

            // Nuclei are compact, so consecutive pixels mostly repeat the same pair: counting runs
            // before touching the dictionary keeps hashing to about one per row of a nucleus.
            var counts: [UInt64: Int] = [:]
            var both = 0
            truth.pixelIndex.withUnsafeBufferPointer { t in
                prediction.pixelIndex.withUnsafeBufferPointer { p in
                    var runKey = UInt64.max, runLength = 0
                    for k in 0..<t.count {
                        let a = t[k], b = p[k]
                        guard a != 0, b != 0 else { continue }
                        both += 1
                        let key = UInt64(a - 1) * predictionCount + UInt64(b - 1)
                        if key == runKey {
                            runLength += 1
                        } else {
                            if runLength > 0 { counts[runKey, default: 0] += runLength }
                            runKey = key
                            runLength = 1
                        }
                    }
                    if runLength > 0 { counts[runKey, default: 0] += runLength }
                }
            }

            var entries: [Entry] = []
            entries.reserveCapacity(counts.count)
            for key in counts.keys.sorted() {
                let t = Int(key / predictionCount), p = Int(key % predictionCount)
                let intersection = counts[key]!
                entries.append(Entry(
                    truth: t, prediction: p, intersection: intersection,
                    union: truth.areas[t] + prediction.areas[p] - intersection))
            }
            var rowStart = [Int](repeating: 0, count: truth.count + 1)
            for entry in entries { rowStart[entry.truth + 1] += 1 }
            for t in 0..<truth.count { rowStart[t + 1] += rowStart[t] }
            self.truth = truth
            self.prediction = prediction
            self.entries = entries
            self.rowStart = rowStart
            foregroundIntersection = both
        }

        /// The entries of truth nucleus `t`, by ascending prediction number.
        func row(_ t: Int) -> ArraySlice<Entry> { entries[rowStart[t]..<rowStart[t + 1]] }
    }
}
