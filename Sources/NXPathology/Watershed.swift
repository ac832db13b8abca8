/// Marker-controlled watershed as `skimage.segmentation.watershed(image, markers, mask=mask)`
/// computes it (connectivity 1, no compactness, no watershed line): a priority flood from the
/// markers in which a pixel takes the label of the pixel that first pushes it and the queue is
/// ordered by (cost, insertion age). A pixel's cost is its image value, raised to at least the
/// cost of the pixel that pushed it since scikit-image 0.25.1 (`WatershedCost`). O(N log N).
enum Watershed {
    /// Floods `labels` (the markers on entry, the basins on return) over the pixels where
    /// `mask` is nonzero. Markers outside the mask are cleared first, as skimage multiplies
    /// the markers by the mask.
    static func flood(
        image: UnsafeBufferPointer<Double>, labels: UnsafeMutableBufferPointer<Int32>,
        mask: UnsafeBufferPointer<UInt8>, width: Int, height: Int, cost: WatershedCost = .raisedToSource
    ) {
        let raise = cost == .raisedToSource
        var maskCount = 0
        for index in labels.indices {
            if mask[index] == 0 { labels[index] = 0 } else { maskCount += 1 }
        }
        // Every masked pixel enters the queue at most once (markers at the start, the others
        // when first reached), so maskCount bounds the queue.
        var heap = WatershedHeap(capacity: maskCount)
        // skimage pushes the markers in raster order (np.flatnonzero), all with age 0.
        for index in labels.indices where labels[index] != 0 {
            heap.push(.init(value: image[index], age: 0, index: Int32(index)))
        }
        var age: Int32 = 1
        while let item = heap.pop() {
            let index = Int(item.index)
            let y = index / width, x = index - y * width
            let label = labels[index]
            // skimage's neighbour offsets for connectivity 1, sorted by raveled offset:
            // up, left, right, down. Pixels outside the image are its zero-mask padding.
            for step in 0..<4 {
                let neighbour: Int
                switch step {
                case 0:
                    guard y > 0 else { continue }
                    neighbour = index - width
                case 1:
                    guard x > 0 else { continue }
                    neighbour = index - 1
                case 2:
                    guard x < width - 1 else { continue }
                    neighbour = index + 1
                default:
                    guard y < height - 1 else { continue }
                    neighbour = index + width
                }
                guard mask[neighbour] != 0, labels[neighbour] == 0 else { continue }
                age += 1
                // Labelled at push time: without compactness a pixel cannot be reached more
                // cheaply later, so skimage labels it here.
                labels[neighbour] = label
                let value = raise ? max(image[neighbour], item.value) : image[neighbour]
                heap.push(.init(value: value, age: age, index: Int32(neighbour)))
            }
        }
    }
}
