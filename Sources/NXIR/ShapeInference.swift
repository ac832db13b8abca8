/// A node (or graph input) whose shapes could not be worked out, and why. Only root causes are
/// listed: values downstream of one are unknown as well, and resolving it resolves them.
public struct UnresolvedNode: Equatable, Sendable, CustomStringConvertible {
    /// The node's label, or the graph input's name.
    public let node: String
    /// The op type, or "input" for a graph input.
    public let opType: String
    public let reason: String

    public init(node: String, opType: String, reason: String) {
        self.node = node
        self.opType = opType
        self.reason = reason
    }

    public var description: String { "\(node) (\(opType)): \(reason)" }
}

/// Concrete shapes of a graph's values for one set of input shapes, worked out statically from
/// the inputs, the initializers and each node's attributes and constant arguments.
public struct InferredShapes: Sendable {
    /// Every value whose shape is known: graph inputs, initializers and node outputs.
    public internal(set) var shapes: [String: [Int]] = [:]
    /// Integer tensors whose elements are known before running (a Reshape's target shape
    /// computed by Shape -> Gather -> Concat, say), flattened; small tensors only.
    public internal(set) var integerValues: [String: [Int]] = [:]
    /// Why some values have no shape; empty when every node's outputs are known.
    public internal(set) var unresolved: [UnresolvedNode] = []

    public subscript(_ value: String) -> [Int]? { shapes[value] }
    public var isComplete: Bool { unresolved.isEmpty }
}

extension Graph {
    /// Integer tensors up to this many elements are tracked by value (shape arithmetic is tiny).
    static let trackedIntegerElements = 64

    /// Shapes of every value for the given input shapes. Inputs not given use their declared
    /// shape, a symbolic or unknown first (batch) dimension taken as 1; other symbolic
    /// dimensions leave the input unknown (listed in `unresolved`), as do ops this pass does
    /// not know and shape arguments that are not constants. Throws, naming the node, when a
    /// known op's inputs contradict each other (a Conv whose weight does not fit its input,
    /// say) or a given shape contradicts the declared one.
    public func inferShapes(inputs given: [String: [Int]] = [:]) throws(IRError) -> InferredShapes {
        var result = InferredShapes()
        var tensors: [String: Tensor] = [:]
        func record(constant tensor: Tensor, as name: String) {
            tensors[name] = tensor
            result.shapes[name] = tensor.shape
            if !tensor.dataType.isFloatingPoint, tensor.elementCount <= Self.trackedIntegerElements,
                let values = try? tensor.intValues()
            {
                result.integerValues[name] = values
            }
        }
        for (name, tensor) in initializers { record(constant: tensor, as: name) }

        let feeds = runtimeInputs
        for name in given.keys.sorted() where !feeds.contains(where: { $0.name == name }) {
            throw IRError.graph("no graph input named '\(name)' (inputs: \(feeds.map(\.name).joined(separator: ", ")))")
        }
        for input in feeds {
            switch try Self.inputShape(input, given: given[input.name]) {
            case .success(let shape): result.shapes[input.name] = shape
            case .failure(let reason): result.unresolved.append(UnresolvedNode(node: input.name, opType: "input", reason: reason.message))
            }
        }

        for index in try topologicalOrder() {
            let node = nodes[index]
            // A present input without a shape makes this node unknown; the cause is upstream.
            var inputShapes: [[Int]?] = []
            var blocked = false
            for name in node.inputs {
                if name.isEmpty {
                    inputShapes.append(nil)
                } else if let shape = result.shapes[name] {
                    inputShapes.append(shape)
                } else {
                    blocked = true
                    break
                }
            }
            if blocked { continue }
            if node.opType == "Constant" && (node.domain.isEmpty || node.domain == "ai.onnx") {
                guard let output = node.outputs.first, !output.isEmpty else { continue }
                if let tensor = ShapeRules.constantValue(node) {
                    record(constant: tensor, as: output)
                } else {
                    result.unresolved.append(UnresolvedNode(
                        node: node.label, opType: node.opType, reason: "a string or sparse constant is not read by shape inference"))
                }
                continue
            }
            let context = ShapeRuleContext(
                node: node, inputShapes: inputShapes,
                integerValues: node.inputs.map { $0.isEmpty ? nil : result.integerValues[$0] },
                tensors: node.inputs.map { $0.isEmpty ? nil : tensors[$0] })
            let outcome: ShapeRules.Outcome
            do {
                outcome = try ShapeRules.infer(context)
            } catch {
                throw IRError.node(node.label, "(\(node.opType)) \(error.message)")
            }
            switch outcome {
            case .unresolved(let reason):
                result.unresolved.append(UnresolvedNode(node: node.label, opType: node.opType, reason: reason))
            case .outputs(let outputs):
                for (position, name) in node.outputs.enumerated() where !name.isEmpty && position < outputs.count {
                    guard let output = outputs[position] else { continue }
                    result.shapes[name] = output.shape
                    if let values = output.values, values.count <= Self.trackedIntegerElements {
                        result.integerValues[name] = values
                    }
                }
            }
        }
        return result
    }

    /// A runtime input's concrete shape: the given one (checked against the declaration), or
    /// the declared one with a free batch dimension taken as 1.
    private static func inputShape(_ input: ValueInfo, given: [Int]?) throws(IRError) -> Result<[Int], ShapeRuleError> {
        if let given {
            if given.contains(where: { $0 < 0 }) {
                throw IRError.tensor(input.name, "given shape \(given) has a negative dimension")
            }
            if let declared = input.shape {
                let mismatch = declared.rank != given.count
                    || zip(declared.dimensions, given).contains { dimension, size in dimension.value.map { $0 != size } ?? false }
                if mismatch { throw IRError.tensor(input.name, "given shape \(given) does not fit the declared \(declared)") }
            }
            return .success(given)
        }
        guard let declared = input.shape else { return .failure(ShapeRuleError("no declared shape: give one")) }
        var shape: [Int] = []
        var free: [String] = []
        for (axis, dimension) in declared.dimensions.enumerated() {
            if let size = dimension.value {
                shape.append(size)
            } else if axis == 0 {
                shape.append(1)  // the batch
            } else {
                free.append(dimension.description)
            }
        }
        if !free.isEmpty {
            return .failure(ShapeRuleError("dimensions \(free.joined(separator: ", ")) of \(declared) are not fixed: give the shape"))
        }
        return .success(shape)
    }
}
