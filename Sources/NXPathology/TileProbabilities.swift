import Dispatch
import NXIR

/// A batch's tiles as probabilities, tile by tile, each `channels` planes of `outputSize`²:
/// channel 0 softmax(np)[1], channels 1-2 hv, channels 3... softmax(tp). Made on the thread
/// that ran the batch, so that only copying into the strips is left for the segmenter's.
struct TileProbabilities {
    let planes: [Float]
    let types: Int
    /// Samples the model computed (a fixed batch pads the last one).
    let slots: Int
    let outputSize: Int
    /// How long the conversion took.
    let seconds: Double
    var channels: Int { 3 + types }

    /// Converts the first `tiles` samples of checked float32 outputs.
    init(np: Tensor, hv: Tensor, tp: Tensor?, tiles: Int, slots: Int, outputSize: Int) {
        let start = DispatchTime.now().uptimeNanoseconds
        let types = tp?.shape[1] ?? 0
        let plane = outputSize * outputSize
        let channels = 3 + types
        var planes = [Float](repeating: 0, count: tiles * channels * plane)
        np.withUnsafeBytes { npBytes in
            hv.withUnsafeBytes { hvBytes in
                withOptionalBytes(tp) { tpBytes in
                    let npValues = npBytes.assumingMemoryBound(to: Float.self)
                    let hvValues = hvBytes.assumingMemoryBound(to: Float.self)
                    let tpValues = tpBytes?.assumingMemoryBound(to: Float.self)
                    var logits = [Float](repeating: 0, count: types)
                    planes.withUnsafeMutableBufferPointer { planes in
                        for slot in 0..<tiles {
                            let npBase = slot * 2 * plane, hvBase = slot * 2 * plane, tpBase = slot * types * plane
                            let target = planes.baseAddress! + slot * channels * plane
                            for source in 0..<plane {
                                // softmax over 2 channels, channel 1: 1 / (1 + e^(l0 - l1)).
                                target[source] = 1 / (1 + expf(npValues[npBase + source] - npValues[npBase + plane + source]))
                                target[plane + source] = hvValues[hvBase + source]
                                target[2 * plane + source] = hvValues[hvBase + plane + source]
                                guard let tpValues else { continue }
                                var largest = -Float.infinity
                                for t in 0..<types {
                                    logits[t] = tpValues[tpBase + t * plane + source]
                                    largest = max(largest, logits[t])
                                }
                                var sum: Float = 0
                                for t in 0..<types {
                                    logits[t] = expf(logits[t] - largest)
                                    sum += logits[t]
                                }
                                for t in 0..<types { target[(3 + t) * plane + source] = logits[t] / sum }
                            }
                        }
                    }
                }
            }
        }
        self.planes = planes
        self.types = types
        self.slots = slots
        self.outputSize = outputSize
        seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// Copies each tile's planes into the stitcher.
    func place(_ tiles: [Tile], into stitcher: StripStitcher) {
        let size = outputSize, plane = size * size, channels = channels
        planes.withUnsafeBufferPointer { planes in
            for (slot, tile) in tiles.enumerated() {
                let source = planes.baseAddress! + slot * channels * plane
                stitcher.place(tile) { destination, rowStride, channelStride in
                    for channel in 0..<channels {
                        for row in 0..<size {
                            (destination + channel * channelStride + row * rowStride)
                                .update(from: source + channel * plane + row * size, count: size)
                        }
                    }
                }
            }
        }
    }
}

private func withOptionalBytes<R>(_ tensor: Tensor?, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
    if let tensor { return try tensor.withUnsafeBytes { try body($0) } }
    return try body(nil)
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
