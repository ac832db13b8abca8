import Testing

@testable import NXRuntime

/// Weight packing against its definition, from aligned memory and from a weight at an odd
/// byte offset (as in a single-file .onnx, where packing reads it in place).
@Suite struct PackedPanelsTests {
    @Test(arguments: [(1, 1), (12, 256), (13, 300), (40, 257), (7, 3)])
    func packsByDefinitionAlignedOrNot(_ m: Int, _ k: Int) {
        var random = LinearTestRandom(UInt64(m * 1000 + k))
        let a = random.floats(m * k)
        for transposed in [false, true] {
            let lda = transposed ? m : k
            let expected = reference(a, lda: lda, m: m, k: k, transposed: transposed)
            let aligned = a.withUnsafeBufferPointer {
                PackedGEMM.PackedA($0.baseAddress!, lda: lda, m: m, k: k, transposed: transposed)
            }
            #expect(contents(aligned) == expected, "\(m)x\(k) transposed \(transposed), aligned")
            // The same floats one byte into a buffer.
            let bytes = UnsafeMutableRawPointer.allocate(byteCount: a.count * 4 + 1, alignment: 16)
            defer { bytes.deallocate() }
            a.withUnsafeBytes { (bytes + 1).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            let misaligned = PackedGEMM.PackedA(UnalignedFloats(UnsafeRawPointer(bytes + 1)), lda: lda, m: m, k: k, transposed: transposed)
            #expect(contents(misaligned) == expected, "\(m)x\(k) transposed \(transposed), misaligned")
        }
    }

    private func contents(_ packed: PackedGEMM.PackedA) -> [Float] {
        Array(UnsafeBufferPointer(start: packed.values.pointer, count: packed.values.count))
    }

    /// [K block][panel][k][row within the panel], zero rows past m.
    private func reference(_ a: [Float], lda: Int, m: Int, k: Int, transposed: Bool) -> [Float] {
        let rows = PackedGEMM.mr, depth = PackedGEMM.kc
        let panels = (m + rows - 1) / rows
        var out: [Float] = []
        for k0 in stride(from: 0, to: k, by: depth) {
            for panel in 0..<panels {
                for kk in k0..<min(k, k0 + depth) {
                    for r in 0..<rows {
                        let row = panel * rows + r
                        out.append(row < m ? a[transposed ? kk * lda + row : row * lda + kk] : 0)
                    }
                }
            }
        }
        return out
    }
}
