import NXIR
import Synchronization

/// Every node's kernel, built on up to `threads` threads. Building packs and transforms the
/// weights, most of a session's load (HistoNeXt-T: about 380 of 530 ms on one thread), and
/// nodes build independently of each other.
///
/// Memory stays as on one thread: a node sees only its own constants, and a weight leaves
/// `initializers` as soon as every reader has built and packed it (`PackedWeightRelease`),
/// so load's peak is the packed weights plus what the threads have in flight.
struct KernelBuild {
    let kernels: [any Kernel]
    /// The initializers dropped because every reader packed them.
    let packedOnly: Set<String>

    private struct State {
        var initializers: [String: Tensor]
        var release: PackedWeightRelease
        var packedOnly: Set<String> = []
        var kernels: [(any Kernel)?]
        var failures: [Int: any Error] = [:]
        /// Nodes after the first failure are skipped: claims go in node order, so every node
        /// before it is still built and the error reported is the first node's, as on one thread.
        var firstFailure = Int.max
    }

    /// Takes `graph`'s initializers while building and leaves it those some kernel still reads
    /// at run time. Throws `RuntimeError.node` for the first node (in graph order) whose
    /// kernel cannot be built.
    init(graph: inout Graph, registrations: [KernelRegistration], opsets: [Int], staticShapes: [String: [Int]], threads: Int) throws {
        let nodes = graph.nodes
        let release = PackedWeightRelease(graph)
        let state = Mutex(State(initializers: graph.initializers, release: release, kernels: Array(repeating: nil, count: nodes.count)))
        graph.initializers = [:]
        WorkerPool.shared.run(chunks: nodes.count, threads: threads) { index in
            let node = nodes[index]
            let constants: [String: Tensor]? = state.withLock { state in
                guard index < state.firstFailure else { return nil }
                var constants: [String: Tensor] = [:]
                for name in node.inputs { constants[name] = state.initializers[name] }
                return constants
            }
            guard let constants else { return }
            let context = KernelBuildContext(
                node: node, opset: opsets[index], constants: constants, inputShapes: node.inputs.map { staticShapes[$0] })
            do {
                let kernel = try registrations[index].make(context)
                let released = state.withLock { state in
                    state.kernels[index] = kernel
                    return state.release.built(node, kernel).compactMap { name in
                        state.packedOnly.insert(name)
                        return state.initializers.removeValue(forKey: name)
                    }
                }
                // The caller's model still holds a weight read from a mapped file, so its
                // pages would stay resident beside the packed copy until the build ends
                // (ConvNeXt-B: 150 MB more at load's peak).
                for tensor in released { tensor.storage.dropResidentPages() }
            } catch {
                state.withLock { state in
                    state.failures[index] = error
                    state.firstFailure = min(state.firstFailure, index)
                }
            }
        }
        let built = state.withLock { $0 }
        graph.initializers = built.initializers
        if let index = built.failures.keys.min() {
            throw RuntimeError.node(name: nodes[index].label, opType: nodes[index].opType, message: "\(built.failures[index]!)")
        }
        kernels = built.kernels.map { $0! }
        packedOnly = built.packedOnly
    }
}

/// Tracks, while kernels are built, which initializers every reader has packed, so the
/// session can drop them as soon as the last reader is built.
struct PackedWeightRelease {
    private var usesLeft: [String: Int] = [:]
    private var packedSoFar: [String: Bool] = [:]
    private let outputs: Set<String>

    init(_ graph: Graph) {
        for node in graph.nodes {
            for name in node.inputs where graph.initializers[name] != nil { usesLeft[name, default: 0] += 1 }
        }
        outputs = Set(graph.outputs.map(\.name))
    }

    /// The initializers that `node`, just built as `kernel`, was the last reader of, all of
    /// whose readers packed them.
    mutating func built(_ node: Node, _ kernel: any Kernel) -> [String] {
        var done: [String] = []
        for (position, name) in node.inputs.enumerated() {
            guard let left = usesLeft[name] else { continue }
            let packed = (packedSoFar[name] ?? true) && kernel.packedConstantInputs.contains(position)
            packedSoFar[name] = packed
            usesLeft[name] = left - 1
            if left == 1 && packed && !outputs.contains(name) { done.append(name) }
        }
        return done
    }
}
