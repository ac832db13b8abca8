/// Stride-1 convolutions (1-D or 2-D, any kernel, dilation, padding and group) as one GEMM
/// per kernel tap, with no column matrix.
///
/// The input is copied once into a zero-padded image whose rows are `paddedWidth` wide. On
/// that image a tap (ky, kx) is a plain shift: over "wide" output positions
/// `j = oy * paddedWidth + ox`, tap input `j + ky * dy * paddedWidth + kx * dx` is a
/// contiguous run per channel, so `Y_wide += W_tap [M x C] * X_shifted [C x wide]` is an
/// ordinary GEMM with K = C. The `kw - 1` wide columns past each row's real outputs read
/// across the row edge and are dropped when the block is copied out. Work is cut into blocks
/// of output rows small enough for the block's GEMM result to stay in L2 across all taps;
/// the copy-out adds the bias and applies the activation.
///
/// im2col would write and read K*k*k x H*W floats per image (108 MB for HistoNeXt-T's
/// widest 3x3 layer); here the extra traffic is the padded copy, about the input's size.
enum TapConvolution {
    /// Convolutions with fewer input channels per group keep im2col: K this small makes
    /// each tap's GEMM too shallow to pay for reloading its output block every tap.
    static let minimumGroupChannels = 32

    static func applies(_ g: ConvGeometry, groupChannels: Int) -> Bool {
        g.rank <= 2 && g.kernelSize > 1 && groupChannels >= minimumGroupChannels
            && g.d1.stride == 1 && g.d2.stride == 1
    }

    /// Weights [M, C/group, taps] reordered to [group][tap][M/group][C/group] so each tap's
    /// matrix is contiguous.
    static func packWeights(_ w: UnsafePointer<Float>, outputs: Int, groupChannels: Int, taps: Int, group: Int) -> [Float] {
        let groupOutputs = outputs / group
        return [Float](unsafeUninitializedCapacity: max(1, outputs * groupChannels * taps)) { buffer, initialized in
            for gi in 0..<group {
                for tap in 0..<taps {
                    let destination = buffer.baseAddress! + (gi * taps + tap) * groupOutputs * groupChannels
                    for m in 0..<groupOutputs {
                        let source = w + (gi * groupOutputs + m) * groupChannels * taps + tap
                        for c in 0..<groupChannels { destination[m * groupChannels + c] = source[c * taps] }
                    }
                }
            }
            initialized = max(1, outputs * groupChannels * taps)
        }
    }

    /// Y = conv(X) for one batch of images; `weights` holds each group's tap matrices, packed.
    static func run(
        x: UnsafePointer<Float>, weights: [PackedGEMM.PackedA], bias: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, batch: Int, channels: Int, outputChannels: Int, group: Int,
        geometry g: ConvGeometry, activation: UnaryFunction?, inputActivation: InputActivation? = nil,
        context: ExecutionContext
    ) {
        let rows = g.d1, columns = g.d2
        let groupChannels = channels / group, groupOutputs = outputChannels / group
        let paddedHeight = rows.input + rows.padBegin + rows.padEnd
        let paddedWidth = columns.input + columns.padBegin + columns.padEnd
        let plane = paddedHeight * paddedWidth
        // Reads past the last plane reach (kw - 1) * dilation floats further (dropped columns).
        let padded = context.allocateFloats([groupChannels * plane + columns.dilatedKernel])
        let taps = rows.kernel * columns.kernel
        let outputSize = rows.output * columns.output
        // Blocks of output rows whose result fits half an L2, a multiple of the threads.
        let rowsBySize = max(1, SGEMM.blockElements / max(1, groupOutputs * paddedWidth))
        let wanted = ((rows.output + rowsBySize - 1) / rowsBySize + context.threads - 1) / context.threads * context.threads
        let blockRows = max(1, (rows.output + wanted - 1) / wanted)
        let blockCount = (rows.output + blockRows - 1) / blockRows
        withExtendedLifetime(padded.tensor) {
            for n in 0..<batch {
                for gi in 0..<group {
                    let source = x + (n * channels + gi * groupChannels) * g.inputSize
ZeroPaddedCopy.copy(
                        source, channels: groupChannels, height: rows.input, width: columns.input, top: rows.padBegin,
                        left: columns.padBegin, paddedHeight: paddedHeight, paddedWidth: paddedWidth, slack: columns.dilatedKernel,
                        into: padded.data, inputActivation: inputActivation, firstChannel: gi * groupChannels, context: context)
                    let output = y + (n * outputChannels + gi * groupOutputs) * outputSize
                    let groupBias = bias.map { $0 + gi * groupOutputs }
                    context.parallelFor(blockCount) { blocks in
                        let serial = context.singleThreaded()
                        ScratchPool.shared.withFloats(groupOutputs * blockRows * paddedWidth) { wide in
                            for block in blocks {
                                let firstRow = block * blockRows
                                let rowCount = min(blockRows, rows.output - firstRow)
                                let width = rowCount * paddedWidth
                                for tap in 0..<taps {
                                    let (ky, kx) = (tap / columns.kernel, tap % columns.kernel)
                                    let shift = (firstRow + ky * rows.dilation) * paddedWidth + kx * columns.dilation
                                    PackedGEMM.multiply(
                                        weights[gi * taps + tap], b: UnsafePointer(padded.data + shift), ldb: plane, n: width,
                                        c: wide, ldc: width, accumulate: tap > 0, context: serial)
                                }
                                copyOut(
                                    wide, paddedWidth: paddedWidth, rowCount: rowCount, outputs: groupOutputs,
                                    into: output + firstRow * columns.output, outputSize: outputSize,
                                    outputWidth: columns.output, bias: groupBias, activation: activation)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Moves a block's real output columns from the wide result into Y, adding the bias and
    /// applying the activation on the way.
    static func copyOut(
        _ wide: UnsafePointer<Float>, paddedWidth: Int, rowCount: Int, outputs: Int,
        into y: UnsafeMutablePointer<Float>, outputSize: Int, outputWidth: Int,
        bias: UnsafePointer<Float>?, activation: UnaryFunction?
    ) {
        let wideWidth = rowCount * paddedWidth
        for m in 0..<outputs {
            let value = bias?[m] ?? 0
            let destination = y + m * outputSize
            for row in 0..<rowCount {
                let from = wide + m * wideWidth + row * paddedWidth
                let to = destination + row * outputWidth
                for column in 0..<outputWidth { to[column] = from[column] + value }
            }
            if let activation { activation.map(destination, destination, count: rowCount * outputWidth) }
        }
    }
}
