import NXIR

/// One graph rewrite with one job. `run` returns whether it changed the model; the optimizer
/// repeats its passes until none does. Every pass must keep outputs within 1e-5 relative of
/// the graph it was given.
public protocol GraphPass: Sendable {
    /// The name `SessionOptions.disabledPasses` and `nx bench --disable-pass` use.
    var name: String { get }
    func run(on model: inout Model, registry: OperatorRegistry) throws -> Bool
}

/// A pass that chooses how tensors are stored (blocked layouts, reorders) rather than what
/// is computed: the optimizer runs these after the other passes have converged.
public protocol LayoutPass: GraphPass {}
