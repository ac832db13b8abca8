/// Connected-component labelling of binary maps, numbered as `scipy.ndimage.label` numbers
/// them: 1, 2, ... in raster order of each component's first pixel, 0 for background.
/// Flood fill with an explicit stack: O(N), no recursion, no allocation per pixel.
enum Labeling {
    enum Connectivity {
        /// Edge neighbours only (scipy's default 2-D structure, skimage's connectivity 1).
        case four
        /// Edge and corner neighbours (OpenCV's contour and component connectivity).
        case eight
    }

    /// Labels the nonzero pixels of `mask` into `labels` and returns the component count.
    /// `stack` is scratch space; it grows to at most width * height entries.
    @discardableResult
    static func label(
        _ mask: UnsafeBufferPointer<UInt8>, width: Int, height: Int, connectivity: Connectivity,
        into labels: UnsafeMutableBufferPointer<Int32>, stack: inout [Int32]
    ) -> Int32 {
        for index in labels.indices { labels[index] = 0 }
        stack.removeAll(keepingCapacity: true)
        var count: Int32 = 0
        for start in 0..<(width * height) where mask[start] != 0 && labels[start] == 0 {
            count += 1
            labels[start] = count
            stack.append(Int32(start))
            while let top = stack.popLast() {
                let index = Int(top)
                let y = index / width, x = index - y * width
                @inline(__always) func visit(_ neighbour: Int) {
                    if mask[neighbour] != 0 && labels[neighbour] == 0 {
                        labels[neighbour] = count
                        stack.append(Int32(neighbour))
                    }
                }
                if y > 0 { visit(index - width) }
                if x > 0 { visit(index - 1) }
                if x < width - 1 { visit(index + 1) }
                if y < height - 1 { visit(index + width) }
                if connectivity == .eight {
                    if y > 0 && x > 0 { visit(index - width - 1) }
                    if y > 0 && x < width - 1 { visit(index - width + 1) }
                    if y < height - 1 && x > 0 { visit(index + width - 1) }
                    if y < height - 1 && x < width - 1 { visit(index + width + 1) }
                }
            }
        }
        return count
    }

    /// HoVer-Net's `remove_small_objects` on a label image: zeroes every label with fewer
    /// than `minimumSize` pixels and keeps the others' numbers (no renumbering).
    static func removeSmallObjects(
        _ labels: UnsafeMutableBufferPointer<Int32>, labelCount: Int32, minimumSize: Int, sizes: inout [Int]
    ) {
        guard minimumSize > 0 else { return }
        sizes.removeAll(keepingCapacity: true)
        sizes.append(contentsOf: repeatElement(0, count: Int(labelCount) + 1))
        for label in labels { sizes[Int(label)] += 1 }
        for index in labels.indices where labels[index] != 0 && sizes[Int(labels[index])] < minimumSize {
            labels[index] = 0
        }
    }
}
