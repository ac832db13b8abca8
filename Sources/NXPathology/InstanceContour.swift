/// Suzuki-Abe border following for the outer border of one component, transcribed from
/// OpenCV's `icvFetchContour` (imgproc contours.cpp) so the point sequence is OpenCV's:
/// it starts at the component's first pixel in raster order, looks for the first neighbour
/// clockwise from the left, then walks the border keeping the background on its right, and
/// stops when it is back at the start about to repeat the first step.
enum InstanceContour {
    /// Chain-code directions 0...7: right, up-right, up, up-left, left, down-left, down,
    /// down-right (y grows downwards), as OpenCV's `CV_INIT_3X3_DELTAS` and `icvCodeDeltas`.
    static let directionX = [1, 1, 0, -1, -1, -1, 0, 1]
    static let directionY = [0, -1, -1, -1, 0, 1, 1, 1]

    struct Trace {
        /// Every border pixel (CHAIN_APPROX_NONE).
        var all: [SIMD2<Int32>] = []
        /// Only the pixels where the direction changes (CHAIN_APPROX_SIMPLE).
        var simple: [SIMD2<Int32>] = []
    }

    /// Traces the outer border through `start` in `image`, a buffer `stride` wide whose
    /// outermost ring is zero (so no neighbour lookup leaves it), nonzero = foreground.
    /// `start` must be the first foreground pixel in raster order of its component; points
    /// are returned in the buffer's coordinates plus `offset`.
    static func traceOuter(
        _ image: UnsafeBufferPointer<UInt8>, stride: Int, start: (x: Int, y: Int), offset: SIMD2<Int32>
    ) -> Trace {
        var deltas = [Int](repeating: 0, count: 16)
        for s in 0..<8 {
            deltas[s] = directionY[s] * stride + directionX[s]
            deltas[s + 8] = deltas[s]
        }
        var trace = Trace()
        var point = SIMD2<Int32>(Int32(start.x), Int32(start.y)) &+ offset
        let i0 = start.y * stride + start.x
        // Outer border: search clockwise from the left neighbour (s = 4) for the last pixel.
        let searchEnd = 4
        var s = searchEnd
        var i1 = i0
        repeat {
            s = (s - 1) & 7
            i1 = i0 + deltas[s]
            if image[i1] != 0 { break }
        } while s != searchEnd
        if s == searchEnd {  // an isolated pixel
            trace.all.append(point)
            trace.simple.append(point)
            return trace
        }
        var i3 = i0
        // CHAIN_APPROX_SIMPLE writes a point when the step direction changes; OpenCV seeds
        // the previous direction with the reverse of the first search hit.
        var previousSimple = s ^ 4
        while true {
            // Counter-clockwise from the direction we came from, to the next border pixel.
            var i4 = i3
            repeat {
                s += 1
                i4 = i3 + deltas[s]
            } while image[i4] == 0
            s &= 7
            trace.all.append(point)
            if s != previousSimple {
                trace.simple.append(point)
                previousSimple = s
            }
            point &+= SIMD2<Int32>(Int32(directionX[s]), Int32(directionY[s]))
            if i4 == i0 && i3 == i1 { break }
            i3 = i4
            s = (s + 4) & 7
        }
        return trace
    }
}
