import NXIR

/// The windows of MaxPool / AveragePool: output sizes from auto_pad, pads and ceil_mode
/// (a ceil-mode window that would start in the end padding is dropped, as ONNX specifies),
/// lifted to 3-D, plus per-dimension tables giving, for each output position, the window's
/// first input position, the kernel offsets inside the input and how many offsets fall in
/// the padded extent (the count_include_pad divisor).
struct PoolGeometry: Sendable {
    /// One output position along one dimension.
    struct Window: Sendable {
        /// Input position of kernel offset 0 (may be negative: in the padding).
        let start: Int
        /// Kernel offsets `first..<last` read real input.
        let first: Int
        let last: Int
        /// Kernel offsets inside input plus pads (excludes the part ceil_mode adds past them).
        let padded: Int
    }

    let geometry: ConvGeometry
    let windows0: [Window]
    let windows1: [Window]
    let windows2: [Window]

    init(_ attributes: SpatialAttributes, ceilMode: Bool, input: [Int]) throws {
        let rank = input.count
        let kernel = try attributes.kernel(weightSpatial: nil, rank: rank)
        let (strides, dilations, padsBegin, padsEnd) = try attributes.resolved(rank: rank)
        var dims: [ConvDim] = []
        for i in 0..<rank {
            var dim = ConvDim(
                input: input[i], kernel: kernel[i], output: 0, stride: strides[i], dilation: dilations[i],
                padBegin: 0, padEnd: 0)
            let window = dim.dilatedKernel
            switch attributes.autoPad {
            case .notSet:
                dim.padBegin = padsBegin[i]
                dim.padEnd = padsEnd[i]
                let span = dim.input + dim.padBegin + dim.padEnd - window
                if ceilMode {
                    dim.output = LinearSupport.ceilDiv(span, dim.stride) + 1
                    if (dim.output - 1) * dim.stride >= dim.input + dim.padBegin { dim.output -= 1 }
                } else {
                    dim.output = LinearSupport.floorDiv(span, dim.stride) + 1
                }
            case .valid:
                dim.padValid()
            case .sameUpper, .sameLower:
                dim.padSame(upper: attributes.autoPad == .sameUpper)
            }
            try dim.requireOutput(dimension: i)
            dims.append(dim)
        }
        geometry = try ConvGeometry(dims)
        windows0 = Self.windows(geometry.d0)
        windows1 = Self.windows(geometry.d1)
        windows2 = Self.windows(geometry.d2)
    }

    private static func windows(_ dim: ConvDim) -> [Window] {
        (0..<dim.output).map { o in
            let start = o * dim.stride - dim.padBegin
            let first = min(dim.kernel, max(0, LinearSupport.ceilDiv(-start, dim.dilation)))
            let last = max(first, min(dim.kernel, LinearSupport.ceilDiv(dim.input - start, dim.dilation)))
            let padded = max(0, min(dim.kernel, LinearSupport.ceilDiv(dim.input + dim.padEnd - start, dim.dilation)))
            return Window(start: start, first: first, last: last, padded: padded)
        }
    }
}
