/// Copies channels of an image into planes with zero borders, applying a fused
/// pre-activation on the way: the input layout of the Winograd and per-tap convolutions,
/// whose kernels then read shifted windows without bounds checks.
enum ZeroPaddedCopy {
    /// Channel c of `x` ([height, width] planes) goes to `padded + c * paddedHeight *
    /// paddedWidth` at (top, left); everything else in the planes, and `slack` floats after
    /// the last one (read by vectors past the end), is zero. Input rows or columns past the
    /// padded extent are never read by the conv and are left out.
    static func copy(
        _ x: UnsafePointer<Float>, channels: Int, height: Int, width: Int, top: Int, left: Int,
        paddedHeight: Int, paddedWidth: Int, slack: Int, into padded: UnsafeMutablePointer<Float>,
        inputActivation: InputActivation?, firstChannel: Int, context: ExecutionContext
    ) {
        let plane = paddedHeight * paddedWidth
        let rows = max(0, min(height, paddedHeight - top)), columns = max(0, min(width, paddedWidth - left))
        context.parallelFor(channels, grain: max(1, 16384 / max(plane, 1))) { range in
            // Only the border is zeroed: filling whole planes first wrote every float twice
            // (the fill was 1% of HistoNeXt-T's time).
            let right = paddedWidth - left - columns
            for c in range {
                let destination = padded + c * plane
                let source = x + c * height * width
                guard rows > 0 else {
                    LinearSupport.fill(destination, plane, 0)
                    continue
                }
                LinearSupport.fill(destination, top * paddedWidth + left, 0)
                for row in 0..<rows {
                    let line = destination + (top + row) * paddedWidth + left
                    if let inputActivation {
                        inputActivation.apply(source + row * width, line, count: columns, channel: firstChannel + c)
                    } else {
                        line.update(from: source + row * width, count: columns)
                    }
                    // This row's right border and the next row's left one are adjacent.
                    LinearSupport.fill(line + columns, row + 1 < rows ? right + left : 0, 0)
                }
                let written = (top + rows) * paddedWidth - right
                LinearSupport.fill(destination + written, plane - written, 0)
            }
        }
        LinearSupport.fill(padded + channels * plane, slack, 0)
    }
}
