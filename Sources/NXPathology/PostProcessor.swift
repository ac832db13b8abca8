/// HoVer-Net's post-processing (vqdang/hover_net, models/hovernet/post_proc.py), step for
/// step: from the NP probability and HV maps to an instance map (`instances`), and from an
/// instance map and a TP map to per-nucleus records (`instanceRecords`). Spec/POSTPROCESSING.md
/// gives every step, constant and choice. Thread-safe: a value with no shared state.
public struct PostProcessor: Sendable {
    public let options: PostProcessingOptions
    /// Threads for the steps that do not depend on each other (the foreground and the two
    /// gradients; the blur and the markers; records' contours). The results do not depend on it.
    public let threads: Int

    public init(_ options: PostProcessingOptions = PostProcessingOptions(), threads: Int = 1) {
        self.options = options
        self.threads = max(1, threads)
    }

    /// Instance labels from `np` (the NP softmax channel 1, height x width, row-major) and
    /// `hv` (2 x height x width, channel-major: horizontal then vertical map).
    public func instances(np: [Float], hv: [Float], width: Int, height: Int) throws(PostProcessingError) -> InstanceMap {
        try stages(np: np, hv: hv, width: width, height: height).instances
    }

    /// `instances` with every intermediate map kept.
    public func stages(np: [Float], hv: [Float], width: Int, height: Int) throws(PostProcessingError) -> PostProcessingStages {
        try options.validate()
        let count = try Self.pixelCount(width: width, height: height)
        try Self.check(np, name: "np", expected: count)
        try Self.check(hv, name: "hv", expected: 2 * count)

        // blb = label(np >= 0.5); remove_small_objects(blb, 10); blb[blb > 0] = 1
        // h_dir, v_dir = normalize(hv) to [0, 1]; Sobel x of h_dir, Sobel y of v_dir (float64);
        // each normalised to [0, 1] and inverted.
        var foreground = [UInt8](repeating: 0, count: count)
        var sobelH: [Float] = [], sobelV: [Float] = []
        Parallel.forEach(3, threads: threads) { step in
            switch step {
            case 0:
                for index in 0..<count where np[index] >= options.foregroundThreshold { foreground[index] = 1 }
                var scratch = Scratch(count: count)
                foreground.withUnsafeMutableBufferPointer { removeSmallComponents($0, width: width, height: height, &scratch) }
            case 1: sobelH = gradient(hv, channel: 0, dx: 1, dy: 0, width: width, height: height)
            default: sobelV = gradient(hv, channel: 1, dx: 0, dy: 1, width: width, height: height)
            }
        }

        // overall = max(sobelh, sobelv) - (1 - blb), negatives to 0 (float64 from here on, as
        // numpy promotes float32 - int32); dist = (1 - overall) * blb;
        // marker = blb - (overall >= 0.4), negatives to 0.
        var energy = [Double](repeating: 0, count: count)
        var relief = [Double](repeating: 0, count: count)
        var markerSeed = [UInt8](repeating: 0, count: count)
        for index in 0..<count {
            let blb = Double(foreground[index])
            var overall = Double(max(sobelH[index], sobelV[index])) - (1 - blb)
            if overall < 0 { overall = 0 }
            energy[index] = overall
            relief[index] = (1.0 - overall) * blb
            let border = overall >= options.markerThreshold ? 1 : 0
            markerSeed[index] = Int(foreground[index]) - border > 0 ? 1 : 0
        }
        // dist = -GaussianBlur(dist, (3, 3), 0): nuclei become basins; beside it, the markers.
        var dist = [Double](repeating: 0, count: count)
        var labels: [Int32] = []
        Parallel.forEach(2, threads: threads) { step in
            if step == 0 {
                let rows = UnsafeMutableBufferPointer<Double>.allocate(capacity: count)
                defer { rows.deallocate() }
                relief.withUnsafeBufferPointer { source in
                    dist.withUnsafeMutableBufferPointer { destination in
                        GaussianBlur3x3.apply(source, width: width, height: height, into: destination, scratch: rows)
                    }
                }
                for index in 0..<count { dist[index] = -dist[index] }
            } else {
                labels = markerSeed.withUnsafeMutableBufferPointer { makeMarkers($0, width: width, height: height) }
            }
        }
        let markers = labels

        // watershed(dist, markers=marker, mask=blb)
        dist.withUnsafeBufferPointer { image in
            labels.withUnsafeMutableBufferPointer { labels in
                foreground.withUnsafeBufferPointer { mask in
                    Watershed.flood(
                        image: image, labels: labels, mask: mask, width: width, height: height, cost: options.watershedCost)
                }
            }
        }
        return PostProcessingStages(
            width: width, height: height, foreground: foreground, sobelH: sobelH, sobelV: sobelV, energy: energy,
            dist: dist, markers: markers, instances: InstanceMap(checkedWidth: width, height: height, labels: labels))
    }

    /// Work buffers of the small-component removal, so it allocates nothing per pixel or per
    /// component.
    private struct Scratch: ~Copyable {
        let labels: UnsafeMutableBufferPointer<Int32>
        var stack: [Int32] = []
        var sizes: [Int] = []

        init(count: Int) {
            labels = .allocate(capacity: count)
            stack.reserveCapacity(count)
        }

        deinit { labels.deallocate() }
    }

    /// Clears the 4-connected components of `mask` that have fewer pixels than the minimum.
    private func removeSmallComponents(
        _ mask: UnsafeMutableBufferPointer<UInt8>, width: Int, height: Int, _ scratch: inout Scratch
    ) {
        let found = Labeling.label(
            UnsafeBufferPointer(mask), width: width, height: height, connectivity: .four, into: scratch.labels,
            stack: &scratch.stack)
        Labeling.removeSmallObjects(
            scratch.labels, labelCount: found, minimumSize: options.minimumObjectSize, sizes: &scratch.sizes)
        for index in mask.indices { mask[index] = scratch.labels[index] != 0 ? 1 : 0 }
    }

    /// binary_fill_holes; opening with the elliptical element; label (4-connected);
    /// remove_small_objects: the watershed's markers, from the marker seed (modified).
    private func makeMarkers(_ seed: UnsafeMutableBufferPointer<UInt8>, width: Int, height: Int) -> [Int32] {
        var stack: [Int32] = []
        stack.reserveCapacity(seed.count)
        var sizes: [Int] = []
        MorphologyFillHoles.fill(seed, width: width, height: height, stack: &stack)
        let opening = MorphologyOpening(
            element: .ellipse(width: options.openingKernelSize, height: options.openingKernelSize))
        var morphology = [UInt8](repeating: 0, count: seed.count)
        var counts = [Int32](repeating: 0, count: (width + 1) * height)
        morphology.withUnsafeMutableBufferPointer { morphology in
            counts.withUnsafeMutableBufferPointer { counts in
                opening.open(seed, width: width, height: height, scratch: morphology, counts: counts)
            }
        }
        var labels = [Int32](repeating: 0, count: seed.count)
        labels.withUnsafeMutableBufferPointer { labels in
            let found = Labeling.label(
                UnsafeBufferPointer(seed), width: width, height: height, connectivity: .four, into: labels,
                stack: &stack)
            Labeling.removeSmallObjects(labels, labelCount: found, minimumSize: options.minimumObjectSize, sizes: &sizes)
        }
        return labels
    }

    /// `1 - normalize(Sobel(normalize(hv[channel]), CV_64F, dx, dy, ksize))` as float32.
    private func gradient(_ hv: [Float], channel: Int, dx: Int, dy: Int, width: Int, height: Int) -> [Float] {
        let count = width * height
        let filter = SobelFilter(dx: dx, dy: dy, size: options.sobelKernelSize)
        var normalized = [Float](repeating: 0, count: count)
        var derivative = [Double](repeating: 0, count: count)
        var rows = [Double](repeating: 0, count: count)
        var line = [Double](repeating: 0, count: max(width, height) + options.sobelKernelSize)
        var result = [Float](repeating: 0, count: count)
        hv.withUnsafeBufferPointer { hv in
            normalized.withUnsafeMutableBufferPointer { normalized in
                let plane = UnsafeBufferPointer(rebasing: hv[(channel * count)..<((channel + 1) * count)])
                MinMaxNormalization.normalize(plane, into: normalized)
                derivative.withUnsafeMutableBufferPointer { derivative in
                    rows.withUnsafeMutableBufferPointer { rows in
                        line.withUnsafeMutableBufferPointer { line in
                            filter.apply(
                                UnsafeBufferPointer(normalized), width: width, height: height, into: derivative, rows: rows,
                                line: line)
                        }
                    }
                    result.withUnsafeMutableBufferPointer { result in
                        MinMaxNormalization.normalize(UnsafeBufferPointer(derivative), into: result)
                    }
                }
            }
        }
        // numpy: `1 - float32 array` stays float32.
        for index in 0..<count { result[index] = 1 - result[index] }
        return result
    }

    /// width * height, or a thrown error when a size is not positive or the image has more
    /// pixels than Int32 indexes (the labelling stacks hold Int32 pixel indices).
    static func pixelCount(width: Int, height: Int) throws(PostProcessingError) -> Int {
        let (count, overflow) = width.multipliedReportingOverflow(by: height)
        guard width > 0, height > 0, !overflow, count <= Int(Int32.max) else {
            throw .invalidSize(width: width, height: height)
        }
        return count
    }

    /// Throws unless `values` has `expected` finite values.
    static func check(_ values: [Float], name: String, expected: Int) throws(PostProcessingError) {
        guard values.count == expected else { throw .sizeMismatch(map: name, expected: expected, actual: values.count) }
        if let index = values.firstIndex(where: { !$0.isFinite }) {
            throw .nonFinite(map: name, index: index, value: values[index])
        }
    }
}
