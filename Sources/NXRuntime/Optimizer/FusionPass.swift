import NXIR

/// A pass made of one local rewrite, applied until it no longer matches. Its rewrites write
/// ai.nx ops, so the domain is imported once anything changed.
protocol FusionPass: GraphPass {
    /// The graph with one more rewrite applied, or nil when nothing matches.
    func fuseOne(_ model: Model) -> Graph?
}

extension FusionPass {
    func run(on model: inout Model, registry: OperatorRegistry) throws -> Bool {
        var current = model
        return rewriteRepeatedly(&model) { graph in
            current.graph = graph
            return fuseOne(current)
        }
    }

    /// Applies `rewrite` until it returns nil; true when it changed anything.
    func rewriteRepeatedly(_ model: inout Model, _ rewrite: (Graph) -> Graph?) -> Bool {
        var changed = false
        while let rewritten = rewrite(model.graph) {
            model.graph = rewritten
            changed = true
        }
        if changed { model.importNXDomain() }
        return changed
    }
}
