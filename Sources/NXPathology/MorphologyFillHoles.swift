/// `scipy.ndimage.binary_fill_holes` with its default structure: a background pixel stays
/// background only if it reaches the image border through edge-adjacent (4-connected)
/// background pixels; every other background pixel is a hole and becomes foreground.
enum MorphologyFillHoles {
    /// Fills `mask` (0/1) in place; `stack` is scratch space.
    static func fill(_ mask: UnsafeMutableBufferPointer<UInt8>, width: Int, height: Int, stack: inout [Int32]) {
        // Mark background reachable from outside with 2, flooding from every border pixel.
        stack.removeAll(keepingCapacity: true)
        func seed(_ index: Int) {
            if mask[index] == 0 {
                mask[index] = 2
                stack.append(Int32(index))
            }
        }
        for x in 0..<width {
            seed(x)
            seed((height - 1) * width + x)
        }
        for y in 0..<height {
            seed(y * width)
            seed(y * width + width - 1)
        }
        while let top = stack.popLast() {
            let index = Int(top)
            let y = index / width, x = index - y * width
            if y > 0 { seed(index - width) }
            if x > 0 { seed(index - 1) }
            if x < width - 1 { seed(index + 1) }
            if y < height - 1 { seed(index + width) }
        }
        for index in mask.indices { mask[index] = mask[index] == 2 ? 0 : 1 }
    }
}
