import NXIR

/// Runs the graph passes in order, repeatedly, until the model stops changing (at most a few
/// rounds: each pass only shrinks or fuses the graph, so this converges quickly); then the
/// layout passes the same way, on the converged graph.
public struct Optimizer: Sendable {
    /// In order: cleanup first, so the pattern passes see the graph without Identity and
    /// Constant nodes in the way.
    public static let defaultPasses: [any GraphPass] = [
        ConstantFolding(), IdentityElimination(), DeadNodeElimination(), BatchNormFolding(),
        GeluFusion(), LayerNormFusion(), ChannelLayerNormFusion(), MatMulBiasFusion(), ScaleFolding(), ActivationFusion(),
        ChannelsFirstMLP(), PreActivationFusion(), ResidualFusion(), ChannelBlockedRegions(), BlockedMLPHidden(),
    ]

    public static var passNames: [String] { defaultPasses.map(\.name) }

    public let passes: [any GraphPass]
    public let registry: OperatorRegistry

    public init(registry: OperatorRegistry = .standard, disabled: Set<String> = [], passes: [any GraphPass] = Optimizer.defaultPasses) {
        self.registry = registry
        self.passes = passes.filter { !disabled.contains($0.name) }
    }

    public func optimize(_ model: Model) throws -> Model {
        var model = model
        let rewrites = passes.filter { !($0 is any LayoutPass) }
        try converge(&model, rewrites)
        // Layouts are chosen for the graph the rewrites converged on: a reorder placed
        // earlier would stand between ops a later round would have fused.
        try converge(&model, passes.filter { $0 is any LayoutPass })
        return model
    }

    private func converge(_ model: inout Model, _ passes: [any GraphPass]) throws {
        for _ in 0..<8 {
            var changed = false
            for pass in passes {
                if try pass.run(on: &model, registry: registry) {
                    changed = true
                    // A weight a pass rewrote (scaled, transposed) is freed now rather than
                    // in the next round: PyTorch's ConvNeXt-T export held both copies at once.
                    Self.dropUnreadInitializers(&model.graph)
                }
                // Passes that rewrite weights read them from the mapped file; their new
                // copies replace them, so the file pages need not stay resident.
                TensorStorage.dropResidentFilePages(of: model.graph.initializers.values)
            }
            if !changed { break }
        }
    }

    /// Removes initializers that no node reads and no graph output names.
    static func dropUnreadInitializers(_ graph: inout Graph) {
        var read = Set(graph.outputs.map(\.name))
        for node in graph.nodes { read.formUnion(node.inputs) }
        let unread = graph.initializers.filter { !read.contains($0.key) }
        // A mapped weight's pages stay resident while the file is mapped unless dropped.
        for (name, tensor) in unread {
            tensor.storage.dropResidentPages()
            graph.initializers[name] = nil
        }
    }
}
