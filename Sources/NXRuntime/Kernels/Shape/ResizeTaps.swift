import NXIR

/// One axis of a Resize: for every output position, the input positions it reads and their
/// weights (or that it takes the extrapolation value), computed in Double exactly as ONNX's
/// reference does (`_interpolate_1d_along_axis`), then applied to float32 data.
struct ResizeTaps {
    enum Mode: String { case nearest, linear, cubic }

    enum Coordinates: String {
        case halfPixel = "half_pixel", halfPixelSymmetric = "half_pixel_symmetric"
        case pytorchHalfPixel = "pytorch_half_pixel", alignCorners = "align_corners"
        case asymmetric, tfCropAndResize = "tf_crop_and_resize", tfHalfPixelForNN = "tf_half_pixel_for_nn"
    }

    /// How nearest mode rounds; `simple` is opset 10's rule (floor when upsampling, ceil
    /// when downsampling, as onnxruntime does for Resize-10/Upsample).
    enum NearestMode: String { case roundPreferFloor = "round_prefer_floor", roundPreferCeil = "round_prefer_ceil", floor, ceil, simple }

    let inputLength: Int
    let outputLength: Int
    let scale: Double
    /// Taps per output position.
    let width: Int
    /// `outputLength × width` input positions (already clamped into the input) and weights.
    let indices: [Int]
    let weights: [Float]
    /// Output positions whose source lies outside the crop (tf_crop_and_resize).
    let extrapolated: [Bool]
    let isNearest: Bool

    init(
        inputLength: Int, outputLength: Int, scale: Double, roi: (start: Double, end: Double),
        mode: Mode, coordinates: Coordinates, nearest: NearestMode, cubicA: Double,
        excludeOutside: Bool, antialias: Bool
    ) {
        self.inputLength = inputLength
        self.scale = scale
        self.outputLength = outputLength
        isNearest = mode == .nearest
        let input = Double(inputLength)
        let outputWidth = scale * input  // the reference uses this real length, not outputLength
        var indices: [Int] = [], weights: [Float] = [], extrapolated: [Bool] = []
        var width = mode == .nearest ? 1 : 0
        for o in 0..<outputLength {
            let y = Double(o)
            var outside = false
            let x: Double
            switch coordinates {
            case .halfPixel: x = (y + 0.5) / scale - 0.5
            case .halfPixelSymmetric:
                let adjustment = Double(outputLength) / outputWidth
                x = input / 2 * (1 - adjustment) + (y + 0.5) / scale - 0.5
            case .pytorchHalfPixel: x = outputWidth == 1 ? -0.5 : (y + 0.5) / scale - 0.5
            case .alignCorners: x = outputWidth == 1 ? 0 : y * (input - 1) / (outputWidth - 1)
            case .asymmetric: x = y / scale
            case .tfHalfPixelForNN: x = (y + 0.5) / scale
            case .tfCropAndResize:
                let base = outputWidth == 1
                    ? (roi.end - roi.start) * (input - 1) / 2
                    : y * (roi.end - roi.start) * (input - 1) / (outputWidth - 1)
                x = base + roi.start * (input - 1)
                outside = x < 0 || x > input - 1
            }
            extrapolated.append(outside)
            let floorX = x.rounded(.down)
            let ratio = x == floorX ? 1 : x - floorX

            if mode == .nearest {
                let pick: Int
                if nearest == .simple {
                    // Resize-10: x itself, floored when upsampling, ceiled when downsampling.
                    pick = scale < 1 ? Int(x.rounded(.up)) : Int(floorX)
                } else {
                    let coefficients = Self.nearestCoefficients(ratio, nearest)
                    let start = Self.windowStart(x, count: 2)
                    pick = start + (coefficients.1 ? 1 : 0)
                }
                indices.append(min(max(pick, 0), inputLength - 1))
                weights.append(1)
                continue
            }
            var coefficients: [Double]
            switch (mode, antialias) {
            case (.linear, false): coefficients = [1 - ratio, ratio]
            case (.linear, true): coefficients = Self.linearAntialias(ratio, scale: scale)
            case (.cubic, false): coefficients = Self.cubic(ratio, a: cubicA)
            default: coefficients = Self.cubicAntialias(ratio, scale: scale, a: cubicA)
            }
            let count = coefficients.count
            let start = Self.windowStart(x, count: count)
            if excludeOutside {
                for k in 0..<count where start + k < 0 || start + k >= inputLength { coefficients[k] = 0 }
                let sum = coefficients.reduce(0, +)
                if sum != 0 { coefficients = coefficients.map { $0 / sum } }
            }
            width = count
            for k in 0..<count {
                indices.append(min(max(start + k, 0), inputLength - 1))
                weights.append(Float(coefficients[k]))
            }
        }
        self.width = width
        self.indices = indices
        self.weights = weights
        self.extrapolated = extrapolated
    }

    /// First input position of the `count`-wide window around x: the reference's
    /// `_get_neighbor_idxes` on an edge-padded axis (ties go to the smaller positions).
    static func windowStart(_ x: Double, count: Int) -> Int {
        let pad = (count + 1) / 2
        let padded = x + Double(pad)
        let floorPadded = padded.rounded(.down)
        let fraction = padded - floorPadded
        let offset: Int
        if count % 2 == 0 {
            offset = fraction == 0 ? -(count / 2) : -(count / 2) + 1
        } else {
            offset = fraction <= 0.5 ? -((count - 1) / 2) : -((count - 1) / 2) + 1
        }
        return Int(floorPadded) + offset - pad
    }

    /// (take the left neighbour, take the right neighbour) for nearest mode.
    static func nearestCoefficients(_ ratio: Double, _ mode: NearestMode) -> (Bool, Bool) {
        if ratio == ratio.rounded(.down) { return (false, true) }
        switch mode {
        case .roundPreferFloor: return (ratio <= 0.5, ratio > 0.5)
        case .roundPreferCeil: return (ratio < 0.5, ratio >= 0.5)
        case .floor: return (true, false)
        case .ceil, .simple: return (false, true)
        }
    }

    static func cubic(_ r: Double, a: Double) -> [Double] {
        let s = 1 - r
        return [
            ((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a,
            ((a + 2) * r - (a + 3)) * r * r + 1,
            ((a + 2) * s - (a + 3)) * s * s + 1,
            ((a * (s + 1) - 5 * a) * (s + 1) + 8 * a) * (s + 1) - 4 * a,
        ]
    }

    /// Linear (triangle) filter stretched by 1/scale when downsampling, normalized.
    static func linearAntialias(_ ratio: Double, scale: Double) -> [Double] {
        let scale = min(scale, 1)
        let start = Int((-1 / scale).rounded(.down) + 1)
        let footprint = 2 - 2 * start
        let coefficients = (0..<footprint).map { k in
            min(max(1 - abs((Double(start + k) - ratio) * scale), 0), 1)
        }
        let sum = coefficients.reduce(0, +)
        return coefficients.map { $0 / sum }
    }

    /// Keys cubic filter stretched by 1/scale when downsampling, normalized.
    static func cubicAntialias(_ ratio: Double, scale: Double, a: Double) -> [Double] {
        let scale = min(scale, 1)
        func weight(_ value: Double) -> Double {
            let x = abs(value), x2 = x * x, x3 = x * x2
            if x <= 1 { return (a + 2) * x3 - (a + 3) * x2 + 1 }
            if x < 2 { return a * x3 - 5 * a * x2 + 8 * a * x - 4 * a }
            return 0
        }
        let start = Int((-2 / scale).rounded(.down) + 1)
        let end = 2 - start
        let coefficients = (start..<end).map { weight(scale * (Double($0) - ratio)) }
        let sum = coefficients.reduce(0, +)
        return coefficients.map { $0 / sum }
    }

    /// Resizes `source` seen as [outer, inputLength, inner] into `destination` as
    /// [outer, outputLength, inner], in parallel over output rows. When the axis is the
    /// innermost (inner == 1) each output is a short dot product; otherwise whole rows of
    /// `inner` values are blended, which vectorizes.
    func apply(
        source: UnsafePointer<Float>, destination: UnsafeMutablePointer<Float>,
        outer: Int, inner: Int, extrapolation: Float, context: ExecutionContext
    ) {
        let inputBlock = inputLength * inner
        let width = self.width, outputLength = self.outputLength, isNearest = self.isNearest
        let items = outer * outputLength
        guard items > 0, inner > 0 else { return }
        let anyExtrapolated = extrapolated.contains(true)
        indices.withUnsafeBufferPointer { indices in
            weights.withUnsafeBufferPointer { weights in
                extrapolated.withUnsafeBufferPointer { extrapolated in
                    // One output row (`inner` values) at (block, o).
                    @inline(__always) func row(_ block: Int, _ o: Int) {
                        let out = destination + (block * outputLength + o) * inner
                        if anyExtrapolated && extrapolated[o] {
                            out.update(repeating: extrapolation, count: inner)
                            return
                        }
                        let base = source + block * inputBlock
                        if isNearest {
                            out.update(from: base + indices[o] * inner, count: inner)
                            return
                        }
                        let taps = o * width
                        let w0 = weights[taps], row0 = base + indices[taps] * inner
                        for j in 0..<inner { out[j] = w0 * row0[j] }
                        for k in 1..<width {
                            let w = weights[taps + k], row = base + indices[taps + k] * inner
                            for j in 0..<inner { out[j] += w * row[j] }
                        }
                    }
                    // The innermost axis: every output one value, blocks walked in order.
                    @inline(__always) func values(_ block: Int, _ range: Range<Int>) {
                        let base = source + block * inputBlock
                        let out = destination + block * outputLength
                        if isNearest {
                            for o in range { out[o] = base[indices[o]] }
                        } else if width == 2 {
                            for o in range {
                                out[o] = weights[2 * o] * base[indices[2 * o]] + weights[2 * o + 1] * base[indices[2 * o + 1]]
                            }
                        } else {
                            for o in range {
                                var sum: Float = 0
                                for k in o * width..<(o + 1) * width { sum += weights[k] * base[indices[k]] }
                                out[o] = sum
                            }
                        }
                        if anyExtrapolated {
                            for o in range where extrapolated[o] { out[o] = extrapolation }
                        }
                    }
                    let work: (Range<Int>) -> Void = { range in
                        var item = range.lowerBound
                        while item < range.upperBound {
                            let block = item / outputLength, o = item % outputLength
                            let end = min(outputLength, o + range.upperBound - item)
                            if inner == 1 {
                                values(block, o..<end)
                            } else {
                                for position in o..<end { row(block, position) }
                            }
                            item += end - o
                        }
                    }
                    let bytes = items * inner * 4
                    if bytes >= StridedCopy.parallelThreshold {
                        context.parallelFor(items, grain: max(1, StridedCopy.parallelThreshold / 8 / max(inner * 4, 1)), work)
                    } else {
                        work(0..<items)
                    }
                }
            }
        }
    }
}
