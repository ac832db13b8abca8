/// Stride-1 convolutions (1-D or 2-D, any kernel, dilation, padding and group) as one GEMM
/// per group whose B is read straight from a padded copy of the input (an implicit im2col).
///
/// The input is copied once into a zero-padded image whose rows are `paddedWidth` wide. On
/// that image a tap (ky, kx) is a plain shift: over "wide" output positions
/// `j = oy * paddedWidth + ox`, the input channel c sees under tap (ky, kx) is the contiguous
/// run starting at `c * plane + ky * dy * paddedWidth + kx * dx + j`. So row (c, tap) of the
/// GEMM's B is that run, found through a table of offsets, and
/// `Y_wide = W [M x C*taps] * B [C*taps x wide]` is one GEMM with the weight as it is
/// (PackedGEMM packs B's rows in cache-sized blocks, so no column matrix is ever written).
/// The `kw - 1` wide columns past each row's real outputs read across the row edge and are
/// dropped when the block is copied out. Work is cut into blocks of output rows whose GEMM
/// result stays in L2; the copy-out adds the bias and applies the activation.
///
/// im2col wrote and read K*k*k x H*W floats per image and group (108 MB for HistoNeXt-T's
/// widest 3x3 layer, 48 MB for a 12-group 5x5 one); one GEMM per tap (this file's first
/// version) read and wrote the output block once per tap, too often when a group has few
/// channels (HistoNeXt's grouped 5x5 convolutions ran at 12-40 GFLOP/s).
enum TapConvolution {
    static func applies(_ g: ConvGeometry, groupChannels: Int) -> Bool {
        g.rank <= 2 && g.kernelSize > 1 && g.d1.stride == 1 && g.d2.stride == 1
    }

    /// Y = conv(X) for one batch of images; `weights` holds each group's [M/group, C/group *
    /// taps] matrix, packed.
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
        // Row (c, tap) of B, from the block's first output row.
        let offsets = (0..<(groupChannels * taps)).map { k in
            let (c, tap) = (k / taps, k % taps)
            return c * plane + (tap / columns.kernel) * rows.dilation * paddedWidth + (tap % columns.kernel) * columns.dilation
        }
        // Blocks of output rows whose result fits half an L2, a multiple of the threads.
        let rowsBySize = max(1, SGEMM.blockElements / max(1, groupOutputs * paddedWidth))
        let wanted = ((rows.output + rowsBySize - 1) / rowsBySize + context.threads - 1) / context.threads * context.threads
        let blockRows = max(1, (rows.output + wanted - 1) / wanted)
        let blockCount = (rows.output + blockRows - 1) / blockRows
        withExtendedLifetime(padded.tensor) {
            offsets.withUnsafeBufferPointer { offsets in
                for n in 0..<batch {
                    for gi in 0..<group {
                        let source = x + (n * channels + gi * groupChannels) * g.inputSize
                        ZeroPaddedCopy.copy(
                            source, channels: groupChannels, height: rows.input, width: columns.input, top: rows.padBegin,
                            left: columns.padBegin, paddedHeight: paddedHeight, paddedWidth: paddedWidth,
                            slack: columns.dilatedKernel, into: padded.data, inputActivation: inputActivation,
                            firstChannel: gi * groupChannels, context: context)
                        let output = y + (n * outputChannels + gi * groupOutputs) * outputSize
                        let groupBias = bias.map { $0 + gi * groupOutputs }
                        context.parallelFor(blockCount) { blocks in
                            let serial = context.singleThreaded()
                            ScratchPool.shared.withFloats(groupOutputs * blockRows * paddedWidth) { wide in
                                for block in blocks {
                                    let firstRow = block * blockRows
                                    let rowCount = min(blockRows, rows.output - firstRow)
                                    let width = rowCount * paddedWidth
                                    PackedGEMM.multiply(
                                        weights[gi],
                                        rows: PackedGEMM.RowsOfB(UnsafePointer(padded.data + firstRow * paddedWidth), offsets: offsets.baseAddress!),
                                        n: width, c: wide, ldc: width, context: serial)
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
