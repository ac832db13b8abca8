import NXIR

/// ai.nx ChannelBlockReorder (opset 1): X [N, C, spatial...] between plain NCHW and the
/// channel-blocked order `[N][C / 16][pixels][16]` (a pixel's 16 channels one vector), the
/// shape unchanged. `output_channel_block = 16` blocks X; `input_channel_block = 16` reads a
/// blocked X back into NCHW. The optimizer's `channel-blocked-regions` puts these at the
/// edges of a region whose kernels work in the blocked order (ONNX Runtime's ReorderInput
/// and ReorderOutput around its NCHWc regions).
struct ChannelBlockReorderKernel: Kernel {
    static let block = ChannelPanelGEMM.channelBlock
    /// Whether this writes the blocked order (else it reads it).
    let blocks: Bool

    init(_ context: KernelBuildContext) throws {
        let input = try context.int("input_channel_block", default: 0)
        let output = try context.int("output_channel_block", default: 0)
        guard [input, output].sorted() == [0, Self.block] else {
            throw KernelError(
                "ChannelBlockReorder needs exactly one of input_channel_block and output_channel_block set to \(Self.block) (has \(input) and \(output))")
        }
        blocks = output != 0
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        guard let x = inputs.first ?? nil else { throw KernelError("input X is missing") }
        try LinearSupport.requireFloat32(x, "input X")
        guard x.rank >= 3, x.shape[1] % Self.block == 0 else {
            throw KernelError("X must be [N, C, spatial...] with C a multiple of \(Self.block), is \(x.shape)")
        }
        let (y, yData) = context.allocateFloats(x.shape)
        let pixels = x.shape[2...].reduce(1, *)
        let groups = x.shape[0] * x.shape[1] / Self.block
        guard pixels > 0, groups > 0 else { return [y] }
        let blocks = blocks
        LinearSupport.withFloats(x) { xData in
            context.parallelFor(groups, grain: max(1, 16384 / (Self.block * pixels))) { range in
                for group in range {
                    let offset = group * Self.block * pixels
                    ChannelBlocks.reorder(xData + offset, into: yData + offset, pixels: pixels, toBlocked: blocks)
                }
            }
        }
        return [y]
    }
}

/// The move between 16 channel rows of `pixels` floats (NCHW) and `pixels` vectors of 16
/// channels (blocked), 16 pixels at a time through a register transpose.
enum ChannelBlocks {
    typealias Vector = SIMD16<Float>

    static func reorder(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, pixels: Int, toBlocked: Bool) {
        withUnsafeTemporaryAllocation(of: Vector.self, capacity: 32) { buffer in
            let rows = buffer.baseAddress!, spare = rows + 16
            var p0 = 0
            while p0 + 16 <= pixels {
                // Blocking reads 16 channel rows at pixel p0 and writes 16 pixel vectors;
                // unblocking is the same transpose read the other way.
                for j in 0..<16 {
                    let from = toBlocked ? source + j * pixels + p0 : source + (p0 + j) * 16
                    rows[j] = UnsafeRawPointer(from).loadUnaligned(as: Vector.self)
                }
                RegisterTranspose.transpose16(rows, spare: spare)
                for j in 0..<16 {
                    let to = toBlocked ? target + (p0 + j) * 16 : target + j * pixels + p0
                    UnsafeMutableRawPointer(to).storeBytes(of: rows[j], as: Vector.self)
                }
                p0 += 16
            }
            for p in p0..<pixels {
                for c in 0..<16 {
                    if toBlocked { target[p * 16 + c] = source[c * pixels + p] } else { target[c * pixels + p] = source[p * 16 + c] }
                }
            }
        }
    }
}
