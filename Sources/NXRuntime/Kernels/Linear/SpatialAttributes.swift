import NXIR

/// ONNX's `auto_pad`: explicit pads, "same" output size (odd padding at the end or the
/// start), or no padding.
enum SpatialAutoPad: String, Sendable {
    case notSet = "NOTSET", sameUpper = "SAME_UPPER", sameLower = "SAME_LOWER", valid = "VALID"

    var isSame: Bool { self == .sameUpper || self == .sameLower }
}

/// The window attributes Conv, ConvTranspose and the pools share, read and checked once at
/// load; `resolved` turns them into per-dimension values once the spatial rank is known.
struct SpatialAttributes: Sendable {
    let autoPad: SpatialAutoPad
    let kernelShape: [Int]?
    let strides: [Int]?
    let dilations: [Int]?
    let pads: [Int]?

    init(_ context: KernelBuildContext, dilations readDilations: Bool = true) throws {
        let padText = try context.string("auto_pad", default: "NOTSET")
        // Some exporters write an empty string for the default.
        guard let autoPad = padText.isEmpty ? .notSet : SpatialAutoPad(rawValue: padText) else {
            throw KernelError("auto_pad '\(padText)' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID")
        }
        self.autoPad = autoPad
        kernelShape = try context.ints("kernel_shape")
        strides = try context.ints("strides")
        dilations = readDilations ? try context.ints("dilations") : nil
        pads = try context.ints("pads")
        if let kernelShape, kernelShape.contains(where: { $0 < 1 }) { throw KernelError("kernel_shape \(kernelShape) has a size below 1") }
        if let strides, strides.contains(where: { $0 < 1 }) { throw KernelError("strides \(strides) has a value below 1") }
        if let dilations, dilations.contains(where: { $0 < 1 }) { throw KernelError("dilations \(dilations) has a value below 1") }
        if let pads, pads.contains(where: { $0 < 0 }) { throw KernelError("pads \(pads) has a negative value") }
    }

    /// Unit strides and no padding (explicit or automatic): with a 1x1 kernel, the output
    /// is the input's pixels one for one.
    var hasUnitStridesAndNoPadding: Bool {
        (strides ?? []).allSatisfy { $0 == 1 } && (pads ?? []).allSatisfy { $0 == 0 } && (autoPad == .notSet || autoPad == .valid)
    }

    /// Strides, dilations and (begin, end) pads for `rank` spatial dimensions, defaults filled
    /// in; throws when a given list has the wrong length.
    func resolved(rank: Int) throws -> (strides: [Int], dilations: [Int], padsBegin: [Int], padsEnd: [Int]) {
        func list(_ values: [Int]?, _ name: String, _ count: Int) throws -> [Int] {
            guard let values else { return [Int](repeating: name == "pads" ? 0 : 1, count: count) }
            guard values.count == count else {
                throw KernelError("\(name) has \(values.count) values, expected \(count) for \(rank) spatial dimension(s)")
            }
            return values
        }
        let pads = try list(self.pads, "pads", 2 * rank)
        return (
            try list(strides, "strides", rank), try list(dilations, "dilations", rank),
            Array(pads[0..<rank]), Array(pads[rank...])
        )
    }

    /// The kernel's spatial shape: `kernel_shape` if given (checked against the weight's,
    /// when there is a weight), else the weight's.
    func kernel(weightSpatial: [Int]?, rank: Int) throws -> [Int] {
        if let kernelShape {
            guard kernelShape.count == rank else {
                throw KernelError("kernel_shape \(kernelShape) has \(kernelShape.count) values, expected \(rank)")
            }
            if let weightSpatial, weightSpatial != kernelShape {
                throw KernelError("kernel_shape \(kernelShape) does not match the weight's spatial shape \(weightSpatial)")
            }
            return kernelShape
        }
        guard let weightSpatial else { throw KernelError("kernel_shape is required") }
        return weightSpatial
    }
}

/// One spatial dimension of a sliding-window op: the window of output position `o` reads
/// input positions `o * stride - padBegin + k * dilation` for `k` in `0..<kernel`.
struct ConvDim: Sendable, Equatable {
    var input: Int
    var kernel: Int
    var output: Int
    var stride: Int
    var dilation: Int
    var padBegin: Int
    var padEnd: Int

    /// A dimension of size 1 that changes nothing: lifts 1-D and 2-D ops to 3-D.
    static let unit = ConvDim(input: 1, kernel: 1, output: 1, stride: 1, dilation: 1, padBegin: 0, padEnd: 0)

    var dilatedKernel: Int { (kernel - 1) * dilation + 1 }

    /// auto_pad VALID: no padding, only whole windows.
    mutating func padValid() {
        output = LinearSupport.floorDiv(input - dilatedKernel, stride) + 1
    }

    /// auto_pad SAME_UPPER / SAME_LOWER: output = ceil(input / stride), the padding split
    /// evenly with the odd pixel at the end (upper) or the beginning (lower).
    mutating func padSame(upper: Bool) {
        output = LinearSupport.ceilDiv(input, stride)
        let total = max(0, (output - 1) * stride + dilatedKernel - input)
        padBegin = upper ? total / 2 : total - total / 2
        padEnd = total - padBegin
    }

    /// Throws unless the dimension produces at least one output, naming its geometry.
    func requireOutput(dimension: Int) throws {
        guard output >= 1 else {
            throw KernelError(
                "spatial dimension \(dimension) of size \(input) gives no output: window \(dilatedKernel) (kernel \(kernel), dilation \(dilation)), pads \(padBegin)+\(padEnd), stride \(stride)")
        }
    }
}

/// The geometry of a convolution-like op with 1 to 3 spatial dimensions, lifted to exactly
/// 3 (`d0` outermost, `d2` innermost, leading unused dimensions of size 1) so every loop is
/// a fixed triple loop.
struct ConvGeometry: Sendable {
    let rank: Int
    let d0: ConvDim
    let d1: ConvDim
    let d2: ConvDim

    init(_ dims: [ConvDim]) throws {
        guard (1...3).contains(dims.count) else {
            throw KernelError("\(dims.count) spatial dimensions are not supported (1 to 3 are)")
        }
        rank = dims.count
        let lifted = [ConvDim](repeating: .unit, count: 3 - dims.count) + dims
        d0 = lifted[0]
        d1 = lifted[1]
        d2 = lifted[2]
    }

    var dims: [ConvDim] { Array([d0, d1, d2][(3 - rank)...]) }
    var inputSize: Int { d0.input * d1.input * d2.input }
    var outputSize: Int { d0.output * d1.output * d2.output }
    var kernelSize: Int { d0.kernel * d1.kernel * d2.kernel }
    var outputShape: [Int] { dims.map(\.output) }

    /// Conv's (and pooling's) geometry: output sizes and pads from `auto_pad`, explicit pads
    /// or none. `ceilMode` (pooling) rounds the window count up, dropping a last window that
    /// would start in the end padding, as ONNX's reference does.
    static func convolution(_ attributes: SpatialAttributes, input: [Int], kernel: [Int], ceilMode: Bool = false) throws -> ConvGeometry {
        let rank = input.count
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
        return try ConvGeometry(dims)
    }
}
