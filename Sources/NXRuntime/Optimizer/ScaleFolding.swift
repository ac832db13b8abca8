import NXIR

/// Folds a constant per-channel scale into the linear op before it, when nothing else reads
/// the op's output: ConvNeXt's layer scale (`gamma * x` after the second MLP layer).
/// - `Mul(Conv(X, W, B), s)` (or an ai.nx FusedConv, e.g. from channels-first-mlp) with s of shape [C, 1, ...] or [1, C, 1, ...] (NCHW):
///   a FusedConv with `B' = B * s` and s as its weight scale (input 6), which the kernel
///   folds into W while packing it: a scaled copy of W first made ConvNeXt-B's 36 layer
///   scales 170 MB of writes and page faults at load.
/// - `Mul(FusedMatMul(A, W, b), s)` with s of N elements along the last axis (channels
///   last, PyTorch's export): `W'[:, n] = W[:, n] * s[n]`, `b' = b * s`.
/// The op must not carry an activation (a scale does not commute with it).
struct ScaleFolding: FusionPass {
    let name = "scale-folding"

    func fuseOne(_ model: Model) -> Graph? {
        let graph = model.graph
        let index = GraphIndex(graph)
        for (mulIndex, mul) in graph.nodes.enumerated() where mul.domain.isEmpty && mul.opType == "Mul" && mul.inputs.count == 2 {
            for side in 0..<2 {
                let value = mul.inputs[side]
                guard let scale = graph.initializers[mul.inputs[1 - side]], scale.dataType == .float32,
                    let producerIndex = index.producer[value], index.soleConsumer(value) == mulIndex
                else { continue }
                let producer = graph.nodes[producerIndex]
                // Inputs past the bias (a pre-activation, a residual) would not be scaled.
                guard producer.attributes["activation"] == nil, producer.inputs.count <= 3,
                    let folded = fold(producer, scale: scale, graph: graph)
                else { continue }
                var result = graph
                var node = producer
                node.inputs = [producer.inputs[0]] + folded.map { name, tensor in
                    guard let tensor else { return name }
                    let fresh = unique(name, in: result)
                    result.initializers[fresh] = tensor
                    return fresh
                }
                if producer.isConvolution {
                    node.inputs = node.inputs(setting: [FusedConvInput.weightScale: mul.inputs[1 - side]])
                    node.opType = "FusedConv"
                    node.domain = nxDomain
                }
                node.outputs = mul.outputs
                result.nodes[producerIndex] = node
                result.nodes.remove(at: mulIndex)
                return result
            }
        }
        return nil
    }

    /// The op's inputs after X: each a name to derive a new initializer's from and its
    /// tensor, or an existing name (nil tensor). Nil when the scale's shape or the op's
    /// constants do not fit.
    private func fold(_ op: Node, scale: Tensor, graph: Graph) -> [(String, Tensor?)]? {
        guard op.inputs.count >= 2, let weight = graph.initializers[op.inputs[1]], weight.dataType == .float32,
            weight.sizeProblem == nil, let factors = try? scale.floatValues()
        else { return nil }
        let isConv = op.isConvolution
        let isLinear = op.domain == nxDomain && op.opType == "FusedMatMul" && op.inputs.count == 3 && weight.rank == 2
        let channels: Int
        let scaled: Tensor?
        if isConv {
            // The weight as a Conv's [M, C, k...], whichever way it is stored.
            let convShape = op.isTransposedWeightConv && weight.rank == 2 ? [weight.shape[1], weight.shape[0], 1, 1] : weight.shape
            channels = convShape[0]
            // Right-aligned against the output [N, C, spatial...]: 1, C, then ones.
            let aligned = [Int](repeating: 1, count: max(0, convShape.count - scale.rank)) + scale.shape
            guard factors.count == channels, aligned.count == convShape.count, aligned[0] == 1, aligned[1] == channels,
                aligned.dropFirst(2).allSatisfy({ $0 == 1 })
            else { return nil }
            scaled = nil
        } else if isLinear {
            channels = weight.shape[1]
            guard factors.count == channels, scale.shape.last == channels else { return nil }
            scaled = Self.scaling(weight) { source, target in
                for row in 0..<weight.shape[0] {
                    for n in 0..<channels { target[row * channels + n] = source[row * channels + n] * factors[n] }
                }
            }
        } else {
            return nil
        }
        var result: [(String, Tensor?)] = [scaled.map { ("\(op.inputs[1])_scaled", $0) } ?? (op.inputs[1], nil)]
        let biasName = op.inputs.count > 2 ? op.inputs[2] : ""
        if !biasName.isEmpty {
            guard let bias = try? graph.initializers[biasName]?.floatValues(), bias.count == channels else { return nil }
            result.append(("\(biasName)_scaled", Tensor(shape: [channels], scalars: zip(bias, factors).map(*))))
        } else if isLinear {
            return nil
        }
        return result
    }

    /// A float32 weight of the same shape, written in one pass from the original (which may
    /// be a misaligned view into the model file): no intermediate array, no zeroing first.
    /// (FusedMatMul only, PyTorch's channels-last export: MatMulKernel has no weight scale.)
    private static func scaling(_ weight: Tensor, _ write: (UnalignedFloats, UnsafeMutablePointer<Float>) -> Void) -> Tensor {
        let buffer = PageMemory.allocate(max(weight.byteCount, MemoryLayout<Float>.stride), populated: true)
        write(LinearSupport.unalignedFloats(weight), buffer.bindMemory(to: Float.self).baseAddress!)
        let storage = TensorStorage(lending: buffer, count: weight.byteCount) { PageMemory.deallocate($0) }
        return Tensor(dataType: .float32, shape: weight.shape, storage: storage)
    }
}
