/// The static sizes of a HistoNeXt graph (Spec/HISTONEXT.md §3 and §5): feature map sizes, the
/// crop of every decoder stage, and where the output window sits in the input. Everything is
/// fixed by the input size, so crops become Slices with constant starts and ends.
public struct HistoNeXtGeometry: Sendable, Equatable {
    /// One center crop: the transposed conv makes `upSize`, the stage keeps `size` from `start`.
    public struct Crop: Sendable, Equatable {
        public let upSize: Int
        public let size: Int
        public let start: Int
    }

    public let inputSize: Int
    /// F0 ... F3 (strides 4, 8, 16, 32).
    public let featureSizes: [Int]
    /// NP/HV crops per stage, in execution order u3, u2, u1, u0 (3x3 transposed convs).
    public let denseCrops: [Crop]
    /// TP crops per stage, in the same order (5x5 transposed convs).
    public let typeCrops: [Crop]
    public let outputSize: Int
    public let outputStride = 2
    /// Input row (and column) of the first pixel that output pixel (0, 0) covers.
    public let outputOffset: Int
    /// Input pixels covered per side (also the tiling step).
    public var outputWindow: Int { outputSize * outputStride }

    static let denseKernel = 3
    static let typeKernel = 5

    /// Works the sizes out; throws when the input is too small or when the two branches would
    /// not land on the centred output window (then the model contract of §5 breaks).
    public init(inputSize: Int, outputSize: Int, variant: String = "") throws(ModelError) {
        func fail(_ message: String) -> ModelError { .configuration(variant, message) }
        // Stem 4x4/4, then three 2x2/2 downsamples, none padded.
        guard inputSize >= 32 else { throw fail("input size \(inputSize) is below 32, the encoder's total stride") }
        var sizes = [(inputSize - 4) / 4 + 1]
        for _ in 1..<4 { sizes.append((sizes.last! - 2) / 2 + 1) }
        featureSizes = sizes

        // Stage s upsamples to F_{s-1} (stage 0: to the output size); odd excess goes top/left.
        func crops(kernel: Int) throws(ModelError) -> [Crop] {
            var result: [Crop] = []
            var previous = sizes[3]
            for stage in HistoNeXtConfig.stages {
                let upSize = (previous - 1) * 2 + kernel
                let target = stage > 0 ? sizes[stage - 1] : outputSize
                guard upSize >= target else {
                    throw fail("stage u\(stage): the \(kernel)x\(kernel) transposed conv makes \(upSize), less than the \(target) it must crop to")
                }
                let excess = upSize - target
                result.append(Crop(upSize: upSize, size: target, start: excess - excess / 2))
                previous = target
            }
            return result
        }
        denseCrops = try crops(kernel: Self.denseKernel)
        typeCrops = try crops(kernel: Self.typeKernel)
        self.inputSize = inputSize
        self.outputSize = outputSize

        // F0 pixel i is centred on input 4i + 1.5; a stride-2, k-wide, unpadded transposed conv
        // puts its pixel o at F0 coordinate (o - (k-1)/2) / 2, i.e. input 2o - k + 2.5. Output
        // pixel y = o - start covers the two input pixels around that centre.
        let denseOffset = 2 * denseCrops[3].start - Self.denseKernel + 2
        let typeOffset = 2 * typeCrops[3].start - Self.typeKernel + 2
        let window = outputSize * outputStride
        guard (inputSize - window) >= 0, (inputSize - window) % 2 == 0 else {
            throw fail("a \(window)-pixel output window cannot be centred in a \(inputSize)-pixel input")
        }
        let centred = (inputSize - window) / 2
        guard denseOffset == centred, typeOffset == centred else {
            throw fail(
                "input size \(inputSize) puts the NP/HV output at input \(denseOffset) and the TP output at \(typeOffset), "
                    + "not at the centred \(centred)")
        }
        outputOffset = centred
    }
}
