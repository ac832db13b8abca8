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

/// One match of a local pattern: the nodes at the keys of `replacements` become their
/// values and the nodes at `removed` go; every other node stays as it is.
struct LocalRewrite {
    let replacements: [Int: Node]
    let removed: Set<Int>

    init(replacements: [Int: Node], removed: Set<Int>) {
        (self.replacements, self.removed) = (replacements, removed)
    }

    init(position: Int, replacement: Node, removed: Set<Int>) {
        self.init(replacements: [position: replacement], removed: removed)
    }

    var nodes: Set<Int> { removed.union(replacements.keys) }
}

/// A fusion pass whose every match is decided by its own nodes, the values they read and
/// write, and constants, never by a node of another match. One scan then applies every
/// match that shares no node with an earlier one, with one GraphIndex, where a rescan per
/// match (an index and a graph copy each) made the optimizer a fifth of ConvNeXt-T's load.
/// A match the scan leaves (it overlapped an earlier one) is found by the next scan.
protocol LocalFusionPass: FusionPass {
    func match(at position: Int, in model: Model, index: GraphIndex) -> LocalRewrite?
}

extension LocalFusionPass {
    func fuseOne(_ model: Model) -> Graph? {
        let index = GraphIndex(model.graph)
        var result = model.graph
        var taken = Set<Int>(), removed = Set<Int>()
        for position in model.graph.nodes.indices where !taken.contains(position) {
            guard let rewrite = match(at: position, in: model, index: index) else { continue }
            let nodes = rewrite.nodes
            guard taken.isDisjoint(with: nodes) else { continue }
            taken.formUnion(nodes)
            for (position, node) in rewrite.replacements { result.nodes[position] = node }
            removed.formUnion(rewrite.removed)
        }
        guard !taken.isEmpty else { return nil }
        result.removeNodes(removed)
        return result
    }
}
