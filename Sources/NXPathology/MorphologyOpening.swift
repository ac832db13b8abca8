/// Binary erosion, dilation and opening of 0/1 maps as `cv2.erode`, `cv2.dilate` and
/// `cv2.morphologyEx(MORPH_OPEN)` compute them with their default border: pixels outside the
/// image never erode (they count as 1) and never dilate (they count as 0).
/// Each run of the element is answered from a per-row prefix count, so the cost is
/// O(N * element rows) whatever the element's width.
struct MorphologyOpening {
    let element: MorphologyStructuringElement

    /// Opening = erosion then dilation by the same element; `scratch` must hold width * height
    /// values and `counts` (width + 1) * height.
    func open(
        _ mask: UnsafeMutableBufferPointer<UInt8>, width: Int, height: Int,
        scratch: UnsafeMutableBufferPointer<UInt8>, counts: UnsafeMutableBufferPointer<Int32>
    ) {
        apply(UnsafeBufferPointer(mask), into: scratch, width: width, height: height, erode: true, counts: counts)
        apply(UnsafeBufferPointer(scratch), into: mask, width: width, height: height, erode: false, counts: counts)
    }

    /// Erosion: 1 where every covered in-image pixel is 1. Dilation: 1 where any is.
    func apply(
        _ source: UnsafeBufferPointer<UInt8>, into destination: UnsafeMutableBufferPointer<UInt8>,
        width: Int, height: Int, erode: Bool, counts: UnsafeMutableBufferPointer<Int32>
    ) {
        // counts[y * (width + 1) + x]: how many of row y's first x pixels decide the result
        // (zeros for erosion, ones for dilation).
        let stride = width + 1
        let deciding: UInt8 = erode ? 0 : 1
        for y in 0..<height {
            var total: Int32 = 0
            counts[y * stride] = 0
            for x in 0..<width {
                if source[y * width + x] == deciding { total += 1 }
                counts[y * stride + x + 1] = total
            }
        }
        for y in 0..<height {
            for x in 0..<width {
                var hit = false
                for run in element.runs {
                    let row = y + run.dy
                    guard row >= 0 && row < height else { continue }
                    let low = max(x + run.lower, 0), high = min(x + run.upper + 1, width)
                    guard low < high else { continue }
                    if counts[row * stride + high] - counts[row * stride + low] > 0 {
                        hit = true
                        break
                    }
                }
                // Erosion: a zero under the element clears the pixel; dilation: a one sets it.
                destination[y * width + x] = erode ? (hit ? 0 : 1) : (hit ? 1 : 0)
            }
        }
    }
}
