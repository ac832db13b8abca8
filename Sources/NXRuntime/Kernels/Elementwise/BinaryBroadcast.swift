import NXIR

/// How to walk up to three inputs broadcast (numpy rules) to one contiguous output, as runs
/// of contiguous output elements along which every input either advances by one element or
/// stays on one element (a broadcast scalar).
///
/// Dimensions of size 1 are dropped and neighbouring dimensions merged wherever every input
/// lays them out contiguously, so the common cases come out as few long runs: same shapes
/// and scalar operands give one run over the whole tensor; [N,C,H,W] + [C,1,1] gives runs of
/// H·W with the bias fixed; [..., C] + [C] gives runs of C with both inputs advancing.
struct BinaryBroadcast {
    /// The broadcast output shape.
    let shape: [Int]
    let count: Int
    /// Coalesced output dimensions, outermost first; the last one is the run length.
    let dims: [Int]
    /// Element stride of each input (lanes 0..<inputs) along each coalesced dimension.
    let strides: [SIMD4<Int>]
    /// Each input's step along a run: 1 (advances) or 0 (broadcast along the run).
    let steps: SIMD4<Int>

    /// `nil` when the shapes do not broadcast together.
    init?(_ shapes: [[Int]]) {
        precondition(shapes.count >= 1 && shapes.count <= 4, "BinaryBroadcast takes 1 to 4 inputs")
        guard let shape = Broadcasting.shape(shapes) else { return nil }
        self.shape = shape
        count = shape.reduce(1, *)
        let perInput = shapes.map { Broadcasting.broadcastStrides($0, to: shape) }
        var dims: [Int] = []
        var strides: [SIMD4<Int>] = []
        for axis in shape.indices where shape[axis] != 1 {
            var s = SIMD4<Int>()
            for input in perInput.indices { s[input] = perInput[input][axis] }
            // Merge into the previous dimension when each input's layout is contiguous across both.
            if let last = strides.last, last == s &* shape[axis] {
                dims[dims.count - 1] *= shape[axis]
                strides[strides.count - 1] = s
            } else {
                dims.append(shape[axis])
                strides.append(s)
            }
        }
        if dims.isEmpty {
            dims = [1]
            strides = [SIMD4<Int>()]
        }
        self.dims = dims
        self.strides = strides
        steps = strides[strides.count - 1]
    }

    /// The run length: the innermost coalesced dimension.
    var runLength: Int { dims[dims.count - 1] }

    /// Calls `body(inputOffsets, outputStart, length)` for consecutive runs covering the
    /// output elements in `range`, in order. Input element `i` of the run is at
    /// `inputOffsets[k] + i * steps[k]` for input `k`.
    @inline(__always)
    func forEachRun(in range: Range<Int>, _ body: (SIMD4<Int>, Int, Int) -> Void) {
        guard !range.isEmpty else { return }
        let rank = dims.count
        let inner = dims[rank - 1]
        if rank == 1 {
            body(strides[0] &* range.lowerBound, range.lowerBound, range.count)
            return
        }
        // Multi-index of the first element, then an odometer over the outer dimensions.
        var index = [Int](repeating: 0, count: rank)
        var remainder = range.lowerBound
        var offsets = SIMD4<Int>()
        for axis in stride(from: rank - 1, through: 0, by: -1) {
            index[axis] = remainder % dims[axis]
            remainder /= dims[axis]
            offsets &+= strides[axis] &* index[axis]
        }
        var position = range.lowerBound
        var column = index[rank - 1]
        while position < range.upperBound {
            let length = min(inner - column, range.upperBound - position)
            body(offsets, position, length)
            position += length
            if position >= range.upperBound { break }
            // At the end of a run: rewind the inner index and carry into the outer ones.
            offsets &-= strides[rank - 1] &* column
            column = 0
            var axis = rank - 2
            while true {
                index[axis] += 1
                offsets &+= strides[axis]
                if index[axis] < dims[axis] || axis == 0 { break }
                offsets &-= strides[axis] &* dims[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }

    /// `forEachRun` over the whole output, split over the context's threads when large.
    @inline(__always)
    func run(context: ExecutionContext, _ body: (SIMD4<Int>, Int, Int) -> Void) {
        ElementwiseSupport.forChunks(count, context: context) { range in forEachRun(in: range, body) }
    }
}
