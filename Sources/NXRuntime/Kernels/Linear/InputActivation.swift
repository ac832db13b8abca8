/// A per-channel `max(0, x * scale[c] + shift[c])` (inference BatchNormalization then ReLU)
/// that a convolution applies to its input while copying it, from the optimizer's
/// pre-activation fusion.
struct InputActivation: Sendable {
    let scale: [Float]
    let shift: [Float]

    /// Writes the activated `count` values of channel `channel` from `source` to `destination`.
    @inline(__always)
    func apply(_ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<Float>, count: Int, channel: Int) {
        let a = scale[channel], b = shift[channel]
        for i in 0..<count { destination[i] = max(0, source[i] * a + b) }
    }

    /// The whole NCHW tensor activated into `destination` (for the paths that read the input
    /// in place).
    func apply(_ x: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>, batch: Int, channels: Int, planeSize: Int, context: ExecutionContext) {
        context.parallelFor(batch * channels, grain: max(1, 16384 / max(planeSize, 1))) { planes in
            for plane in planes {
                apply(x + plane * planeSize, destination + plane * planeSize, count: planeSize, channel: plane % channels)
            }
        }
    }
}
