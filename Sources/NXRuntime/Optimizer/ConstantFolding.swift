import NXIR

/// Evaluates, once at load, every node whose inputs are all constants (initializers, or
/// outputs of nodes already folded), and replaces it with initializers holding its outputs.
/// This removes PyTorch's Constant nodes and shape arithmetic on constant shapes.
///
/// Limits: nodes with random outputs are never folded, nor are results over 64 MiB (folding
/// an Expand of a scalar to a huge shape would trade a cheap op for a large weight).
struct ConstantFolding: GraphPass {
    let name = "constant-folding"
    static let maximumFoldedBytes = 64 << 20
    private static let nondeterministic: Set<String> = ["RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli"]

    func run(on model: inout Model, registry: OperatorRegistry) throws -> Bool {
        var graph = model.graph
        let graphOutputs = Set(graph.outputs.map(\.name))
        let context = ExecutionContext(threads: 1, pool: BufferPool())
        var folded = Set<Int>()
        for index in try graph.topologicalOrder() {
            let node = graph.nodes[index]
            guard !Self.nondeterministic.contains(node.opType),
                node.inputs.allSatisfy({ $0.isEmpty || graph.initializers[$0] != nil }),
                !node.outputs.contains(where: graphOutputs.contains),
                let opset = model.opsetVersion(for: node.domain),
                let registration = registry.lookup(opType: node.opType, domain: node.domain, opset: opset)
            else { continue }
            let inputs = node.inputs.map { $0.isEmpty ? nil : graph.initializers[$0] }
            let outputs: [Tensor]
            do {
                let kernel = try registration.make(KernelBuildContext(node: node, opset: opset, constants: graph.initializers))
                outputs = try kernel.run(inputs, context: context)
            } catch {
                continue  // Leave it to run time, where the error will name the node.
            }
            guard outputs.count >= node.outputs.filter({ !$0.isEmpty }).count,
                outputs.reduce(0, { $0 + $1.byteCount }) <= Self.maximumFoldedBytes
            else { continue }
            for (name, tensor) in zip(node.outputs, outputs) where !name.isEmpty {
                // Own the bytes: pooled buffers belong to a pool that is going away.
                graph.initializers[name] = tensor.withUnsafeBytes { Tensor(dataType: tensor.dataType, shape: tensor.shape, storage: TensorStorage(copying: $0)) }
            }
            folded.insert(index)
        }
        guard !folded.isEmpty else { return false }
        graph.removeNodes(folded)
        model.graph = graph
        return true
    }
}
