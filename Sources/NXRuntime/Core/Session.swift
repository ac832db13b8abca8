import Dispatch
import NXIR

/// Loads a model once and runs it many times: named inputs in, named outputs out.
///
/// Load: validate, optimize, order the nodes, find every kernel (all missing ones reported
/// together), build the kernels with the graph's constants, and work out when each value
/// dies. Run: feed the inputs, run the kernels in order, free each buffer after its last
/// reader. Kernels compute output shapes from their actual inputs, so any input shape the
/// graph allows runs. The first run of a shape records its buffers; later runs of it place
/// them in one planned arena and allocate nothing (`MemoryPlanner`).
/// `run` is safe to call from several threads at once.
public final class Session: @unchecked Sendable {
    /// The model as it runs, after optimization, without the initializers that only kernels
    /// which packed them at load read (`Kernel.packedConstantInputs`).
    public let model: Model
    public let inputs: [ValueInfo]
    public let outputs: [ValueInfo]
    public let options: SessionOptions

    private struct Step {
        let kernel: any Kernel
        let label: String
        let opType: String
        let inputSlots: [Int]  // -1: omitted optional input
        let outputSlots: [Int]  // -1: omitted optional output
        let releaseAfter: [Int]
    }

    private let steps: [Step]
    private let slotCount: Int
    private let constantSlots: [(slot: Int, tensor: Tensor)]
    private let inputSlots: [(info: ValueInfo, slot: Int)]
    private let outputSlots: [(name: String, slot: Int)]
    private let pool = BufferPool()
    private let planner: MemoryPlanner
    private let profiler: Profiler?

    public init(model original: Model, options: SessionOptions = SessionOptions(), registry: OperatorRegistry = .standard) throws {
        let issues = original.validate()
        if !issues.isEmpty { throw RuntimeError.invalidModel(issues.map(\.message)) }
        self.options = options
        planner = MemoryPlanner(pool: pool, arenaLimit: options.threads)
        BLASThreads.useCallerThreadOnly()

        var model = original
        let unknownPasses = options.disabledPasses.subtracting(Optimizer.passNames)
        if !unknownPasses.isEmpty {
            throw RuntimeError.runtime(
                "unknown optimizer pass \(unknownPasses.sorted().joined(separator: ", ")) (passes: \(Optimizer.passNames.joined(separator: ", ")))")
        }
        if options.optimize {
            model = try Optimizer(registry: registry, disabled: options.disabledPasses).optimize(model)
        }
        model.graph = try model.graph.topologicallySorted()
        // The build below owns the initializers: it drops each weight as soon as every
        // reader has packed it, so a weight is never held twice at load's peak either.
        var graph = model.graph
        model.graph.initializers = [:]
        TensorStorage.dropResidentFilePages(of: original.graph.initializers.values)

        // Every node's kernel, or one error listing every node without one.
        var registrations: [KernelRegistration] = []
        var unsupported: [RuntimeError.UnsupportedOperator] = []
        for node in graph.nodes {
            let opset = model.opsetVersion(for: node.domain)
            if let opset, let registration = registry.lookup(opType: node.opType, domain: node.domain, opset: opset) {
                registrations.append(registration)
            } else {
                unsupported.append(.init(opType: node.opType, domain: node.domain, opset: opset, node: node.label))
            }
        }
        if !unsupported.isEmpty { throw RuntimeError.unsupportedOperators(unsupported) }

        // Slots: one per value name.
        var slots: [String: Int] = [:]
        func slot(_ name: String) -> Int {
            if let existing = slots[name] { return existing }
            slots[name] = slots.count
            return slots.count - 1
        }
        let runtimeInputs = graph.runtimeInputs
        inputSlots = runtimeInputs.map { ($0, slot($0.name)) }
        for name in graph.initializers.keys.sorted() { _ = slot(name) }
        let build = try KernelBuild(
            graph: &graph, registrations: registrations, opsets: graph.nodes.map { model.opsetVersion(for: $0.domain)! },
            staticShapes: StaticShapes.infer(graph), threads: options.threads)
        var lastUse: [Int: Int] = [:]
        var built: [(kernel: any Kernel, inputs: [Int], outputs: [Int])] = []
        for (index, node) in graph.nodes.enumerated() {
            let ins = node.inputs.map { $0.isEmpty ? -1 : slot($0) }
            for input in ins where input >= 0 { lastUse[input] = index }
            built.append((build.kernels[index], ins, node.outputs.map { $0.isEmpty ? -1 : slot($0) }))
        }
        outputSlots = graph.outputs.map { ($0.name, slot($0.name)) }
        let packedOnly = Set(build.packedOnly.map { slot($0) })
        constantSlots = graph.initializers.sorted { $0.key < $1.key }.map { (slot: slot($0.key), tensor: $0.value) }
        let kept = Set(outputSlots.map(\.slot)).union(constantSlots.map(\.slot)).union(packedOnly)
        var releases = [[Int]](repeating: [], count: graph.nodes.count)
        for (valueSlot, index) in lastUse where !kept.contains(valueSlot) { releases[index].append(valueSlot) }
        // Outputs nobody reads die right after their node.
        for (index, step) in built.enumerated() {
            for output in step.outputs where output >= 0 && lastUse[output] == nil && !kept.contains(output) {
                releases[index].append(output)
            }
        }
        steps = graph.nodes.indices.map { index in
            Step(
                kernel: built[index].kernel, label: graph.nodes[index].label, opType: graph.nodes[index].opType,
                inputSlots: built[index].inputs, outputSlots: built[index].outputs, releaseAfter: releases[index])
        }
        slotCount = slots.count
        inputs = runtimeInputs
        outputs = graph.outputs
        model.graph = graph
        self.model = model
        profiler = options.profile
            ? Profiler(nodesPerOpType: graph.nodes.reduce(into: [:]) { $0[$1.opType, default: 0] += 1 }) : nil
        // Building read the weights: kernels that transformed or copied one, and passes that
        // folded one, left its file pages resident beside the result. Let the OS take them
        // back; weights kept as views fault the same bytes in again on first use.
        TensorStorage.dropResidentFilePages(of: [original.graph.initializers.values, graph.initializers.values].joined())
    }

    /// Runs the model. Every declared input must be fed with its declared element type and a
    /// shape that fits the declared one (fixed dimensions equal, a named dimension the same
    /// size wherever it appears). `threads` caps this run's threads below the session's:
    /// runs side by side on one thread each (several tiles of an image) keep every core busy
    /// without the synchronization of splitting each op between threads.
    public func run(_ feeds: [String: Tensor], threads: Int? = nil) throws -> [String: Tensor] {
        try checkFeeds(feeds)
        let memory: any RunMemory = options.planMemory
            ? planner.begin(ShapeSignature(shapes: inputSlots.map { feeds[$0.info.name]!.shape }, types: inputSlots.map { feeds[$0.info.name]!.dataType }))
            : pool
        do {
            let outputs = try execute(
                feeds, context: ExecutionContext(threads: min(options.threads, threads ?? options.threads), pool: memory))
            // Every value but the outputs is gone with `execute`'s frame: what the run's
            // memory sees alive now outlives the run.
            memory.finish(completed: true)
            return outputs
        } catch {
            memory.finish(completed: false)
            throw error
        }
    }

    private func execute(_ feeds: [String: Tensor], context: ExecutionContext) throws -> [String: Tensor] {
        var values = [Tensor?](repeating: nil, count: slotCount)
        for (slot, tensor) in constantSlots { values[slot] = tensor }
        for (info, slot) in inputSlots { values[slot] = feeds[info.name] }

        for (stepIndex, step) in steps.enumerated() {
            let arguments = step.inputSlots.map { $0 >= 0 ? values[$0] : nil }
            let start = profiler == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            let results: [Tensor]
            do {
                results = try step.kernel.run(arguments, context: context)
            } catch let error as RuntimeError {
                throw error
            } catch {
                throw RuntimeError.node(name: step.label, opType: step.opType, message: "\(error)")
            }
            if let profiler {
                let elapsed = DispatchTime.now().uptimeNanoseconds - start
                profiler.record(
                    step: stepIndex, node: step.label, opType: step.opType, outputShape: results.first?.shape ?? [],
                    nanoseconds: elapsed, flops: step.kernel.flops(inputs: arguments, outputs: results))
            }
            for (index, slot) in step.outputSlots.enumerated() where slot >= 0 {
                guard index < results.count else {
                    throw RuntimeError.node(name: step.label, opType: step.opType, message: "kernel produced \(results.count) outputs, node declares \(step.outputSlots.count)")
                }
                values[slot] = results[index]
            }
            for slot in step.releaseAfter { values[slot] = nil }
        }

        var result: [String: Tensor] = [:]
        for (name, slot) in outputSlots {
            guard let value = values[slot] else { throw RuntimeError.runtime("output '\(name)' was not produced") }
            result[name] = value
        }
        return result
    }

    private func checkFeeds(_ feeds: [String: Tensor]) throws {
        let declared = Set(inputSlots.map(\.info.name))
        for name in feeds.keys.sorted() where !declared.contains(name) {
            throw RuntimeError.input(name: name, message: "the model has no such input (inputs: \(declared.sorted().joined(separator: ", ")))")
        }
        var named: [String: (size: Int, input: String)] = [:]
        for (info, _) in inputSlots {
            guard let tensor = feeds[info.name] else {
                throw RuntimeError.input(name: info.name, message: "missing; expected \(info.elementType?.description ?? "?")\(info.shape?.description ?? "")")
            }
            if let type = info.elementType, type != tensor.dataType {
                throw RuntimeError.input(name: info.name, message: "expected element type \(type), given \(tensor.dataType)")
            }
            if let problem = tensor.sizeProblem { throw RuntimeError.input(name: info.name, message: problem) }
            guard let shape = info.shape else { continue }
            guard shape.rank == tensor.rank else {
                throw RuntimeError.input(name: info.name, message: "expected shape \(shape) (rank \(shape.rank)), given \(tensor.shape)")
            }
            for (dimension, size) in zip(shape.dimensions, tensor.shape) {
                switch dimension {
                case .fixed(let expected) where expected != size:
                    throw RuntimeError.input(name: info.name, message: "expected shape \(shape), given \(tensor.shape)")
                case .symbolic(let symbol):
                    if let seen = named[symbol], seen.size != size {
                        throw RuntimeError.input(name: info.name, message: "dimension '\(symbol)' is \(size) here but \(seen.size) in input '\(seen.input)'")
                    }
                    named[symbol] = (size, info.name)
                default: break
                }
            }
        }
    }

    /// Time per op type over the runs so far (empty unless `options.profile`).
    public var profile: [ProfileEntry] { profiler?.entries ?? [] }
    /// Time per node over the runs so far, slowest first (empty unless `options.profile`).
    public var nodeProfile: [NodeProfileEntry] { profiler?.nodeEntries ?? [] }
    public func resetProfile() { profiler?.reset() }

    /// Buffers the session has allocated so far (the pool's and the arena's); flat across
    /// runs of one shape after the first.
    public var bufferAllocations: Int { pool.allocationCount + planner.statistics.arenaAllocations }
    public var bufferBytes: Int { pool.bytesAllocated + planner.statistics.arenaBytes }
    /// Bytes of the planned arenas that steady-state runs place their buffers in (one per
    /// planned run going on at once).
    public var arenaBytes: Int { planner.arenaSize }
    /// What the memory planner did so far.
    var memoryStatistics: MemoryStatistics { planner.statistics }
}
