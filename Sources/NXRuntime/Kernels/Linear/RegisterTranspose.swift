import CPUHints

/// 16x16 float transposes in vector registers, for kernels that turn rows into columns a
/// block at a time (a GEMM's pixel-major tiles into C, a weight into its packed panels).
enum RegisterTranspose {
    typealias Vector = SIMD16<Float>

    /// Transposes 16 rows of 16 lanes in place: four rounds of unzipping row pairs (each
    /// round rotates an element's 8-bit row-lane index right by one bit; four rounds make
    /// row and lane swap places).
    @inline(__always)
    static func transpose16(_ rows: UnsafeMutablePointer<Vector>, spare: UnsafeMutablePointer<Vector>) {
        for round in 0..<4 {
            let (from, to) = round % 2 == 0 ? (rows, spare) : (spare, rows)
            for pair in 0..<8 {
                // The C permutes, not SIMD32's evenHalf / oddHalf: those are calls when the
                // optimizer does not inline them (CPUHints.h).
                to[pair] = nx_even16(from[2 * pair], from[2 * pair + 1])
                to[pair + 8] = nx_odd16(from[2 * pair], from[2 * pair + 1])
            }
        }
    }
}
