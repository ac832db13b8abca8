/// HoVer-Net's `process` after the watershed: one record per instance, in ascending id order.
extension PostProcessor {
    /// Records without types.
    public func instanceRecords(labels: InstanceMap) throws(PostProcessingError) -> [InstanceRecord] {
        try records(labels: labels, types: nil, typeCount: 0)
    }

    /// Records with types from the TP argmax (height x width class ids in 0..<65536,
    /// 0 = background).
    public func instanceRecords<T: BinaryInteger>(labels: InstanceMap, typeArgmax: [T]) throws(PostProcessingError)
        -> [InstanceRecord]
    {
        let count = labels.width * labels.height
        guard typeArgmax.count == count else {
            throw .sizeMismatch(map: "type argmax", expected: count, actual: typeArgmax.count)
        }
        var types = [Int32](repeating: 0, count: count)
        var typeCount = 1
        for index in 0..<count {
            let value = typeArgmax[index]
            guard value >= 0, value < 65_536 else {
                throw .invalidType(map: "type argmax", index: index, value: Int(truncatingIfNeeded: value))
            }
            types[index] = Int32(value)
            typeCount = max(typeCount, Int(value) + 1)
        }
        return try records(labels: labels, types: types, typeCount: typeCount)
    }

    /// Records with types from TP probabilities (typeCount x height x width, channel-major),
    /// reduced to their argmax with ties to the lowest class, as `np.argmax`.
    public func instanceRecords(labels: InstanceMap, typeProbabilities: [Float], typeCount: Int) throws(PostProcessingError)
        -> [InstanceRecord]
    {
        let count = labels.width * labels.height
        guard typeCount >= 1, typeCount < 65_536 else {
            throw .invalidOption("typeCount", "must be in 1..<65536, got \(typeCount)")
        }
        try Self.check(typeProbabilities, name: "type probabilities", expected: typeCount * count)
        var types = [Int32](repeating: 0, count: count)
        var best = [Float](typeProbabilities[0..<count])
        for type in 1..<typeCount {
            let base = type * count
            for index in 0..<count where typeProbabilities[base + index] > best[index] {
                best[index] = typeProbabilities[base + index]
                types[index] = Int32(type)
            }
        }
        return try records(labels: labels, types: types, typeCount: typeCount)
    }

    private func records(labels map: InstanceMap, types: [Int32]?, typeCount: Int) throws(PostProcessingError)
        -> [InstanceRecord]
    {
        try options.validate()
        let width = map.width, height = map.height
        let labels = map.labels
        // Dense slot per instance id: a table when ids are small (always, for our maps), a
        // dictionary otherwise.
        let ids = map.instanceIDs
        guard !ids.isEmpty else { return [] }
        let largest = Int(ids.last!)
        var table: [Int32] = []
        var dictionary: [Int32: Int32] = [:]
        if largest <= 4 * labels.count + 1024 {
            table = [Int32](repeating: -1, count: largest + 1)
            for (slot, id) in ids.enumerated() { table[Int(id)] = Int32(slot) }
        } else {
            for (slot, id) in ids.enumerated() { dictionary[id] = Int32(slot) }
        }
        let n = ids.count
        var pixelCount = [Int](repeating: 0, count: n)
        var sumX = [Int](repeating: 0, count: n), sumY = [Int](repeating: 0, count: n)
        var minX = [Int](repeating: Int.max, count: n), maxX = [Int](repeating: -1, count: n)
        var minY = [Int](repeating: Int.max, count: n), maxY = [Int](repeating: -1, count: n)
        var typeVotes = [Int](repeating: 0, count: types == nil ? 0 : n * typeCount)
        for y in 0..<height {
            for x in 0..<width {
                let label = labels[y * width + x]
                guard label != 0 else { continue }
                let slot = Int(table.isEmpty ? dictionary[label]! : table[Int(label)])
                pixelCount[slot] += 1
                sumX[slot] += x
                sumY[slot] += y
                minX[slot] = min(minX[slot], x)
                maxX[slot] = max(maxX[slot], x)
                minY[slot] = min(minY[slot], y)
                maxY[slot] = max(maxY[slot], y)
                if let types { typeVotes[slot * typeCount + Int(types[y * width + x])] += 1 }
            }
        }

        // Contours are traced per instance, independently: in pieces, each with its own
        // buffers, joined in id order.
        let pieces = min(n, 8 * threads)
        let parts = Parallel.map(pieces, threads: threads) { piece in
            var records: [InstanceRecord] = []
            var crop: [UInt8] = []
            var components: [Int32] = []
            var stack: [Int32] = []
            var sizes: [Int] = []
            for slot in (piece * n / pieces)..<((piece + 1) * n / pieces) {
                let id = ids[slot]
                let box = InstanceBoundingBox(rowMin: minY[slot], columnMin: minX[slot], rowMax: maxY[slot] + 1, columnMax: maxX[slot] + 1)
                // The crop with a zero ring around it, as findContours pads its input.
                let stride = box.width + 2, rows = box.height + 2
                crop.removeAll(keepingCapacity: true)
                crop.append(contentsOf: repeatElement(0, count: stride * rows))
                for y in 0..<box.height {
                    for x in 0..<box.width where labels[(box.rowMin + y) * width + box.columnMin + x] == id {
                        crop[(y + 1) * stride + x + 1] = 1
                    }
                }
                let trace = outerContour(
                    &crop, stride: stride, rows: rows, offset: SIMD2(Int32(box.columnMin - 1), Int32(box.rowMin - 1)),
                    components: &components, stack: &stack, sizes: &sizes)
                // HoVer-Net: "< 3 points dont make a contour, so skip" (on its CHAIN_APPROX_SIMPLE
                // contour): instances lying on one straight line get no record.
                if trace.simple.count < 3 { continue }
                // cv2.moments on the crop, then shifted by the crop origin: m10 / m00 + cmin.
                let m00 = Double(pixelCount[slot])
                let m10 = Double(sumX[slot] - pixelCount[slot] * box.columnMin)
                let m01 = Double(sumY[slot] - pixelCount[slot] * box.rowMin)
                let centroid = SIMD2(m10 / m00 + Double(box.columnMin), m01 / m00 + Double(box.rowMin))
                var type: Int? = nil, probability: Double? = nil
                if types != nil {
                    let vote = typeVotes.withUnsafeBufferPointer {
                        InstanceTypeVote.vote(
                            counts: UnsafeBufferPointer(rebasing: $0[(slot * typeCount)..<((slot + 1) * typeCount)]),
                            pixelCount: pixelCount[slot])
                    }
                    type = vote.type
                    probability = vote.probability
                }
                records.append(
                    InstanceRecord(
                        id: id, boundingBox: box, centroid: centroid,
                        contour: options.contourApproximation == .none ? trace.all : trace.simple,
                        pixelCount: pixelCount[slot], type: type, typeProbability: probability))
            }
            return records
        }
        return parts.flatMap { $0 }
    }

    /// The outer border of the largest 8-connected component of a zero-ringed 0/1 crop (ties
    /// to the component met first in raster order). Other components are cleared from `crop`.
    private func outerContour(
        _ crop: inout [UInt8], stride: Int, rows: Int, offset: SIMD2<Int32>,
        components: inout [Int32], stack: inout [Int32], sizes: inout [Int]
    ) -> InstanceContour.Trace {
        components.removeAll(keepingCapacity: true)
        components.append(contentsOf: repeatElement(0, count: crop.count))
        let found = crop.withUnsafeBufferPointer { mask in
            components.withUnsafeMutableBufferPointer { labels in
                Labeling.label(mask, width: stride, height: rows, connectivity: .eight, into: labels, stack: &stack)
            }
        }
        var keep: Int32 = 1
        if found > 1 {
            sizes.removeAll(keepingCapacity: true)
            sizes.append(contentsOf: repeatElement(0, count: Int(found) + 1))
            for label in components { sizes[Int(label)] += 1 }
            for label in 2...found where sizes[Int(label)] > sizes[Int(keep)] { keep = label }
            for index in crop.indices where components[index] != keep { crop[index] = 0 }
        }
        let start = components.firstIndex(of: keep)!
        return crop.withUnsafeBufferPointer { image in
            InstanceContour.traceOuter(image, stride: stride, start: (start % stride, start / stride), offset: offset)
        }
    }
}
