import NXIR
import Testing

@testable import NXRuntime

/// ChannelPanelGEMM (vectors along output channels, for images of few pixels) against the
/// definition, and the convolution's choice between it and PackedGEMM.
@Suite struct ChannelPanelGEMMTests {
    /// Partial channel panels (M not a multiple of 64), partial pixel tiles (N leaving every
    /// remainder 0-5 after tiles of 6, or not a multiple of the 16-wide transpose blocks),
    /// several K blocks, accumulation, a per-row bias and an activation, on 1 to 3 threads;
    /// the last shapes make several panel groups (a partial one last) for the threads to share.
    @Test(arguments: [(1, 1, 1), (33, 50, 300), (64, 7, 256), (64, 12, 256), (70, 27, 140), (130, 35, 129), (100, 13, 513), (320, 49, 96), (1000, 20, 300), (200, 196, 260), (512, 196, 300)])
    func matchesDefinition(_ m: Int, _ n: Int, _ k: Int) {
        expectMatchesDefinition(m, n, k, pack: { ChannelPanelGEMM.PackedA($0, lda: k, m: m, k: k) }) { a, b, n, c, accumulate, epilogue, context in
            ChannelPanelGEMM.multiply(a, b: b, ldb: n, n: n, c: c, ldc: n, accumulate: accumulate, epilogue: epilogue, context: context)
        }
    }

    /// A channel-blocked B ([K/16][N][16], read in place) and a channel-blocked C
    /// ([M/16][N][16], written from the registers and finished there), alone and together:
    /// partial pixel tiles, K past one block and not a multiple of it, M not a multiple of
    /// 64 (a last panel of one to three 16-channel blocks), on 1 to 3 threads. The plain C
    /// runs get a residual too.
    @Test(arguments: [(16, 1, 16), (48, 13, 160), (80, 49, 272), (64, 7, 256), (384, 196, 96), (112, 20, 16)])
    func blockedLayoutsMatchDefinition(_ m: Int, _ n: Int, _ k: Int) {
        var random = LinearTestRandom(UInt64(m * 7 + n * 5 + k))
        let a = random.floats(m * k), b = random.floats(k * n), bias = random.floats(m), residual = random.floats(m * n)
        let packed = a.withUnsafeBufferPointer { ChannelPanelGEMM.PackedA($0.baseAddress!, lda: k, m: m, k: k) }
        /// [C][N] as [C/16][N][16], and back.
        func blocked(_ values: [Float], channels: Int) -> [Float] {
            var result = [Float](repeating: 0, count: values.count)
            for c in 0..<channels { for p in 0..<n { result[(c / 16 * n + p) * 16 + c % 16] = values[c * n + p] } }
            return result
        }
        func unblocked(_ values: [Float], channels: Int) -> [Float] {
            var result = [Float](repeating: 0, count: values.count)
            for c in 0..<channels { for p in 0..<n { result[c * n + p] = values[(c / 16 * n + p) * 16 + c % 16] } }
            return result
        }
        for (blockedB, blockedC) in [(true, false), (false, true), (true, true)] {
            let addsResidual = !blockedC
            let expected = (0..<(m * n)).map { index in
                let (row, column) = (index / n, index % n)
                var sum: Float = 0
                for i in 0..<k { sum += a[row * k + i] * b[i * n + column] }
                return max(0, sum + bias[row] + (addsResidual ? residual[index] : 0))
            }
            let bValues = blockedB ? blocked(b, channels: k) : b
            for threads in 1...3 {
                var c = [Float](repeating: .nan, count: m * n)
                bias.withUnsafeBufferPointer { biasValues in
                    residual.withUnsafeBufferPointer { residualValues in
                        let epilogue = GEMMEpilogue(
                            bias: .perRow(biasValues.baseAddress!), activation: .relu,
                            residual: addsResidual ? residualValues.baseAddress! : nil)
                        ChannelPanelGEMM.multiply(
                            packed, b: bValues, ldb: n, n: n, c: &c, ldc: n, epilogue: epilogue, blockedB: blockedB,
                            blockedC: blockedC, context: ExecutionContext(threads: threads, pool: BufferPool()))
                    }
                }
                let result = blockedC ? unblocked(c, channels: m) : c
                #expect(
                    relativeDifference(result, expected) < 1e-5,
                    "\(m)x\(n)x\(k), blocked B \(blockedB), blocked C \(blockedC), \(threads) threads")
            }
        }
    }

    /// Work items cover every panel and tile once, in order, with panel groups that never
    /// grow; each group's scratch stays within its budget unless it is a single panel;
    /// several threads get at least two items each when there are panels enough, and the
    /// last `threads` single panels are cut into two halves of the tiles.
    @Test(arguments: [(1, 28, 1), (64, 28, 1), (64, 28, 2), (16, 28, 2), (8, 33, 2), (128, 7, 2), (3, 28, 4), (200, 46, 3), (8, 3, 2)])
    func workItemsCoverEveryPanelAndTile(_ panels: Int, _ tiles: Int, _ threads: Int) {
        let items = ChannelPanelGEMM.workItems(panels: panels, tiles: tiles, threads: threads)
        var covered = [[Int]](repeating: [], count: panels)
        for item in items { for panel in item.panels { covered[panel] += Array(item.tiles) } }
        #expect(covered.allSatisfy { $0 == Array(0..<tiles) })
        #expect(zip(items, items.dropFirst()).allSatisfy { $0.panels.lowerBound <= $1.panels.lowerBound })
        let sizes = items.map(\.panels.count)
        #expect(sizes.allSatisfy { $0 >= 1 } && zip(sizes, sizes.dropFirst()).allSatisfy { $0 >= $1 })
        let scratchBytes = sizes.max()! * tiles * ChannelPanelGEMM.nr * ChannelPanelGEMM.mr * 4
        #expect(sizes.max()! == 1 || scratchBytes <= 128 << 10)
        let halves = items.filter { $0.tiles.count < tiles }
        if threads > 1 && panels >= 2 * threads {
            #expect(items.count >= 2 * threads && sizes.last == 1)
            #expect(halves.count == (tiles >= 4 ? 2 * threads : 0))
            #expect(halves.allSatisfy { $0.panels.count == 1 && $0.panels.upperBound > panels - threads })
        }
        if threads == 1 { #expect(halves.isEmpty) }
    }

    @Test func transposesSixteenBySixteen() {
        var rows = (0..<16).map { row in SIMD16<Float>((0..<16).map { Float(row * 16 + $0) }) }
        var spare = [SIMD16<Float>](repeating: SIMD16(), count: 16)
        rows.withUnsafeMutableBufferPointer { r in
            spare.withUnsafeMutableBufferPointer { s in RegisterTranspose.transpose16(r.baseAddress!, spare: s.baseAddress!) }
        }
        for row in 0..<16 {
            for lane in 0..<16 { #expect(rows[row][lane] == Float(lane * 16 + row)) }
        }
    }

    /// A pointwise conv packs for ChannelPanelGEMM when its input is known at load to be a
    /// small image, for PackedGEMM when it is large or unknown; both give the same result.
    @Test(arguments: [(7, true), (40, false)])
    func convChoosesByStaticPixels(_ side: Int, _ expectChannels: Bool) throws {
        var random = LinearTestRandom(UInt64(side))
        let (channels, outputs) = (48, 40)
        let weight = Tensor(shape: [outputs, channels, 1, 1], scalars: random.floats(outputs * channels))
        let node = Node(name: "c", opType: "Conv", inputs: ["x", "w"], outputs: ["y"])
        let xShape = [1, channels, side, side]
        let known = try ConvKernel(KernelBuildContext(node: node, opset: 17, constants: ["w": weight], inputShapes: [xShape, weight.shape]))
        let unknown = try ConvKernel(KernelBuildContext(node: node, opset: 17, constants: ["w": weight]))
        func usesChannelPanels(_ kernel: ConvKernel) -> Bool {
            if case .channels = kernel.preparedWeights?.matrices { return true }
            return false
        }
        #expect(usesChannelPanels(known) == expectChannels)
        #expect(!usesChannelPanels(unknown))
        let x = Tensor(shape: xShape, scalars: random.floats(xShape.reduce(1, *)))
        let context = ExecutionContext(threads: 2, pool: BufferPool())
        let a = try known.run([x, nil], context: context)[0], b = try unknown.run([x, nil], context: context)[0]
        #expect(relativeDifference(try a.floatValues(), try b.floatValues()) < 1e-6)
    }
}
