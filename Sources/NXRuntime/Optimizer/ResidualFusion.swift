import NXIR

/// Folds a residual Add into the convolution that feeds it: `Add(Conv(X, W, B), Z)` (either
/// operand order; the Conv may be an ai.nx FusedConv) becomes FusedConv with Z as input 5,
/// `Y = activation(conv(X) + B + Z)`, so the sum is made while each output block is still in
/// registers instead of in a pass over both tensors (ConvNeXt's blocks and ResNet's).
///
/// The conv must have no activation yet (an activation after the Add fuses later, matching
/// the order above), no residual already, and its output no other reader; Z must have the
/// conv output's shape (static shapes, so a broadcasting Add is never fused).
struct ResidualFusion: FusionPass {
    let name = "residual-fusion"

    func fuseOne(_ model: Model) -> Graph? {
        var shapes: [String: [Int]]?
        return fuseOne(model.graph, shapes: &shapes)
    }

    /// Shapes are inferred once for all the rewrites (1-2 ms each on HistoNeXt, which has
    /// dozens): a rewrite keeps every remaining value's name and shape.
    func run(on model: inout Model, registry: OperatorRegistry) throws -> Bool {
        var shapes: [String: [Int]]?
        return rewriteRepeatedly(&model) { fuseOne($0, shapes: &shapes) }
    }

    private func fuseOne(_ graph: Graph, shapes: inout [String: [Int]]?) -> Graph? {
        let index = GraphIndex(graph)
        for (addIndex, add) in graph.nodes.enumerated()
        where add.domain.isEmpty && add.opType == "Add" && add.inputs.count == 2 && add.inputs[0] != add.inputs[1] {
            for side in 0..<2 {
                let value = add.inputs[side], residual = add.inputs[1 - side]
                guard let convIndex = index.producer[value], index.soleConsumer(value) == addIndex else { continue }
                let conv = graph.nodes[convIndex]
                let isConv = conv.isConvolution
                guard isConv, conv.attributes["activation"] == nil, conv.inputs.count >= 2, conv.inputs.count <= 7,
                    !conv.hasInput(FusedConvInput.residual)
                else { continue }
                if shapes == nil { shapes = StaticShapes.infer(graph) }
                guard let shape = shapes?[value], shapes?[residual] == shape else { continue }
                var fused = conv
                fused.opType = "FusedConv"
                fused.domain = nxDomain
                fused.inputs = conv.inputs(setting: [FusedConvInput.residual: residual])
                fused.outputs = add.outputs
                var result = graph
                result.nodes[convIndex] = fused
                result.nodes.remove(at: addIndex)
                return result
            }
        }
        return nil
    }
}
