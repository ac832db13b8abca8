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
        let kernel = try attributes.kernel(weightSpatial: nil, rank: input.count)
        geometry = try ConvGeometry.convolution(attributes, input: input, kernel: kernel, ceilMode: ceilMode)
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
