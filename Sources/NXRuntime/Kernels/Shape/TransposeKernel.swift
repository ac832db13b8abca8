import NXIR

/// Transpose (opsets 1+): output axis j is input axis perm[j] (default: axes reversed), any
/// fixed-size element type.
///
/// The permutation is first reduced: size-1 axes are dropped and axes that stay adjacent
/// and in order are merged. ConvNeXt's NCHW<->NHWC transposes ([0,2,3,1], [0,3,1,2]) then
/// become batched 2-D transposes ([B, R, C] -> [B, C, R]), done in cache-blocked tiles split
/// over the threads; an identity reduction shares the input's bytes; anything else goes to
/// the strided copy, which moves contiguous inner runs with memcpy.
struct TransposeKernel: Kernel {
    let perm: [Int]?

    init(_ context: KernelBuildContext) throws {
        perm = try context.ints("perm")
    }

    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor] {
        let input = try ShapeSupport.input(inputs, 0, "data")
        let elementSize = try ShapeSupport.elementSize(input, "data")
        let rank = input.rank
        let perm = self.perm ?? Array((0..<rank).reversed())
        guard perm.count == rank, Set(perm) == Set(0..<rank) else {
            throw KernelError("perm \(perm) is not a permutation of the \(rank) axes of input shape \(input.shape)")
        }
        let outputShape = perm.map { input.shape[$0] }
        let (shape, reduced) = Self.reduce(shape: input.shape, perm: perm)
        if reduced == Array(0..<reduced.count) {
            // Same element order: a view, no copy.
            return [ShapeSupport.view(input, outputShape)]
        }
        let (output, data) = context.allocate(input.dataType, outputShape)
        if input.elementCount == 0 { return [output] }
        let source = ShapeSupport.base(input)
        if reduced == [1, 0] || reduced == [0, 2, 1] {
            let batch = reduced.count == 3 ? shape[0] : 1
            let rows = shape[reduced.count - 2], columns = shape[reduced.count - 1]
            Self.batchedTranspose(source, data, batch: batch, rows: rows, columns: columns, elementSize: elementSize, context: context)
        } else {
            let inputStrides = Broadcasting.strides(input.shape)
            StridedCopy.copy(
                shape: outputShape, source: source, sourceStrides: perm.map { inputStrides[$0] },
                destination: data, destinationStrides: Broadcasting.strides(outputShape),
                elementSize: elementSize, context: context)
        }
        return [output]
    }

    /// The smallest equivalent problem: size-1 axes dropped, runs of axes that stay adjacent
    /// and in order merged. Returns the reduced input shape and permutation.
    static func reduce(shape: [Int], perm: [Int]) -> (shape: [Int], perm: [Int]) {
        let kept = perm.filter { shape[$0] != 1 }
        // Group consecutive input axes that follow each other in the output.
        var groups: [[Int]] = []
        for axis in kept {
            if let last = groups.last?.last, last + 1 == axis || (last < axis && (last + 1..<axis).allSatisfy { shape[$0] == 1 }) {
                groups[groups.count - 1].append(axis)
            } else {
                groups.append([axis])
            }
        }
        // Reduced input axes are the groups in input order; the reduced perm is the output
        // order of those groups.
        let inputOrder = groups.indices.sorted { groups[$0][0] < groups[$1][0] }
        let reducedShape = inputOrder.map { groups[$0].reduce(1) { $0 * shape[$1] } }
        var position = [Int](repeating: 0, count: groups.count)
        for (newAxis, group) in inputOrder.enumerated() { position[group] = newAxis }
        return (reducedShape, groups.indices.map { position[$0] })
    }

    /// Tile side: a 32×32 tile of 4-byte elements is 4 KiB read and 4 KiB written, well
    /// inside L1, and each tile row is two full cache lines.
    static let tile = 32

    /// `batch` independent transposes of a rows×columns matrix into columns×rows.
    static func batchedTranspose(
        _ source: UnsafeRawPointer, _ destination: UnsafeMutableRawPointer,
        batch: Int, rows: Int, columns: Int, elementSize: Int, context: ExecutionContext
    ) {
        switch elementSize {
        case 1: tiled(UInt8.self, source, destination, batch, rows, columns, context)
        case 2: tiled(UInt16.self, source, destination, batch, rows, columns, context)
        case 4: tiled(UInt32.self, source, destination, batch, rows, columns, context)
        default: tiled(UInt64.self, source, destination, batch, rows, columns, context)
        }
    }

    private static func tiled<T: FixedWidthInteger>(
        _: T.Type, _ source: UnsafeRawPointer, _ destination: UnsafeMutableRawPointer,
        _ batch: Int, _ rows: Int, _ columns: Int, _ context: ExecutionContext
    ) {
        let size = MemoryLayout<T>.size
        // Square tiles, stretched along the long side when the other is short (e.g. the 3
        // channels of an image), so each tile still moves about tile² elements.
        let tileRows = rows < tile ? rows : (columns < tile ? min(rows, tile * tile / columns) : tile)
        let tileColumns = columns < tile ? columns : (rows < tile ? min(columns, tile * tile / rows) : tile)
        let rowTiles = (rows + tileRows - 1) / tileRows, columnTiles = (columns + tileColumns - 1) / tileColumns
        let tilesPerMatrix = rowTiles * columnTiles
        let matrixBytes = rows * columns * size
        // Tiles are numbered matrix by matrix, row of tiles by row of tiles, so each thread
        // gets a contiguous band of the source.
        let work: (Range<Int>) -> Void = { range in
            for unit in range {
                let matrix = unit / tilesPerMatrix, inMatrix = unit % tilesPerMatrix
                let r0 = (inMatrix / columnTiles) * tileRows, c0 = (inMatrix % columnTiles) * tileColumns
                let r1 = min(r0 + tileRows, rows), c1 = min(c0 + tileColumns, columns)
                let src = source + matrix * matrixBytes, dst = destination + matrix * matrixBytes
                func scalar(_ rs: Range<Int>, _ cs: Range<Int>) {
                    transposeElements(T.self, src, dst, rows: rows, columns: columns, rs, cs)
                }
                if size == 4 {
                    // 4-byte elements (float32): 4×4 blocks through SIMD registers, which
                    // doubles throughput over element moves; the ragged edge goes scalar.
                    let r4 = r0 + (r1 - r0) / 4 * 4, c4 = c0 + (c1 - c0) / 4 * 4
                    transpose4x4Blocks(src, dst, rows: rows, columns: columns, r0..<r4, c0..<c4)
                    scalar(r4..<r1, c0..<c1)
                    scalar(r0..<r4, c4..<c1)
                } else {
                    scalar(r0..<r1, c0..<c1)
                }
            }
        }
        let units = batch * tilesPerMatrix
        if batch * matrixBytes >= StridedCopy.parallelThreshold {
            context.parallelFor(units, grain: 1, work)
        } else {
            work(0..<units)
        }
    }

    /// Moves element (r, c) of the source to (c, r) of the destination for r in rs, c in cs.
    @inline(__always)
    private static func transposeElements<T: FixedWidthInteger>(
        _: T.Type, _ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, rows: Int, columns: Int,
        _ rs: Range<Int>, _ cs: Range<Int>
    ) {
        let size = MemoryLayout<T>.size
        for c in cs {
            var from = src + (rs.lowerBound * columns + c) * size
            var to = dst + (c * rows + rs.lowerBound) * size
            for _ in rs {
                to.storeBytes(of: from.loadUnaligned(as: T.self), as: T.self)
                from += columns * size
                to += size
            }
        }
    }

    /// Transposes the 4-byte elements of rows×columns block [rs, cs) (both multiples of 4 long).
    @inline(__always)
    private static func transpose4x4Blocks(
        _ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, rows: Int, columns: Int,
        _ rs: Range<Int>, _ cs: Range<Int>
    ) {
        typealias V = SIMD4<UInt32>
        var r = rs.lowerBound
        while r < rs.upperBound {
            var c = cs.lowerBound
            while c < cs.upperBound {
                let at = (r * columns + c) * 4
                let a = src.loadUnaligned(fromByteOffset: at, as: V.self)
                let b = src.loadUnaligned(fromByteOffset: at + columns * 4, as: V.self)
                let d = src.loadUnaligned(fromByteOffset: at + columns * 8, as: V.self)
                let e = src.loadUnaligned(fromByteOffset: at + columns * 12, as: V.self)
                let to = (c * rows + r) * 4
                dst.storeBytes(of: V(a[0], b[0], d[0], e[0]), toByteOffset: to, as: V.self)
                dst.storeBytes(of: V(a[1], b[1], d[1], e[1]), toByteOffset: to + rows * 4, as: V.self)
                dst.storeBytes(of: V(a[2], b[2], d[2], e[2]), toByteOffset: to + rows * 8, as: V.self)
                dst.storeBytes(of: V(a[3], b[3], d[3], e[3]), toByteOffset: to + rows * 12, as: V.self)
                c += 4
            }
            r += 4
        }
    }
}
