import Testing

@testable import NXRuntime

/// Weight packing against its definition, for both GEMMs' panel shapes (6-row panels,
/// element by element; 64-row panels, in 16x16 register transposes with scalar edges),
/// from aligned memory and from a weight at an odd byte offset (as in a single-file .onnx,
/// where packing reads it in place), with and without a per-row scale.
@Suite struct PackedPanelsTests {
    @Test(arguments: [(1, 1), (12, 256), (13, 300), (40, 257), (7, 3)])
    func packsSixRowPanelsByDefinition(_ m: Int, _ k: Int) {
        check(PackedGEMM.PackedA.self, m: m, k: k)
    }

    @Test(arguments: [(1, 1), (64, 128), (70, 300), (130, 257), (16, 16), (33, 40)])
    func packsSixtyFourRowPanelsByDefinition(_ m: Int, _ k: Int) {
        check(ChannelPanelGEMM.PackedA.self, m: m, k: k)
    }

    private func check<Shape: PanelShape>(_: PackedPanels<Shape>.Type, m: Int, k: Int) {
        var random = LinearTestRandom(UInt64(m * 1000 + k))
        let a = random.floats(m * k)
        let scale = random.floats(m)
        for transposed in [false, true] {
            let lda = transposed ? m : k
            for scaled in [false, true] {
                let label = "\(Shape.rows)-row panels, \(m)x\(k), transposed \(transposed), scaled \(scaled)"
                let expected = reference(Shape.self, a, lda: lda, m: m, k: k, transposed: transposed, scale: scaled ? scale : nil)
                let aligned = a.withUnsafeBufferPointer { values -> PackedPanels<Shape> in
                    scale.withUnsafeBufferPointer { factors in
                        PackedPanels<Shape>(
                            UnalignedFloats(UnsafeRawPointer(values.baseAddress!)), lda: lda, m: m, k: k, transposed: transposed,
                            rowScale: scaled ? factors.baseAddress! : nil)
                    }
                }
                #expect(contents(aligned) == expected, "\(label), aligned")
                // The same floats one byte into a buffer.
                let bytes = UnsafeMutableRawPointer.allocate(byteCount: a.count * 4 + 1, alignment: 16)
                defer { bytes.deallocate() }
                a.withUnsafeBytes { (bytes + 1).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                let misaligned = scale.withUnsafeBufferPointer { factors -> PackedPanels<Shape> in
                    PackedPanels<Shape>(
                        UnalignedFloats(UnsafeRawPointer(bytes + 1)), lda: lda, m: m, k: k, transposed: transposed,
                        rowScale: scaled ? factors.baseAddress! : nil)
                }
                #expect(contents(misaligned) == expected, "\(label), misaligned")
            }
        }
    }

    private func contents<Shape: PanelShape>(_ packed: PackedPanels<Shape>) -> [Float] {
        Array(UnsafeBufferPointer(start: packed.values.pointer, count: packed.values.count))
    }

    /// [K block][panel][k][row within the panel], zero rows past m; each row times its scale.
    private func reference<Shape: PanelShape>(
        _: Shape.Type, _ a: [Float], lda: Int, m: Int, k: Int, transposed: Bool, scale: [Float]?
    ) -> [Float] {
        let rows = Shape.rows, depth = Shape.depth
        let panels = (m + rows - 1) / rows
        var out: [Float] = []
        for k0 in stride(from: 0, to: k, by: depth) {
            for panel in 0..<panels {
                for kk in k0..<min(k, k0 + depth) {
                    for r in 0..<rows {
                        let row = panel * rows + r
                        guard row < m else { out.append(0); continue }
                        let value = a[transposed ? kk * lda + row : row * lda + kk]
                        out.append(scale.map { value * $0[row] } ?? value)
                    }
                }
            }
        }
        return out
    }
}
