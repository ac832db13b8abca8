/// A named value in a graph under construction.
public struct Value: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public init(_ name: String) { self.name = name }
    public var description: String { name }
}

/// Writes graphs in Swift: each call appends one ONNX node and returns its output value.
///
/// Names are unique and readable: `scoped("stages.0") { ... }` prefixes initializer names
/// with "stages.0." (so they can be the checkpoint's own names) and node names with
/// "stages.0/". Ops with no single ONNX form at the target opset (Gelu before 20, ReduceMean's
/// axes before 18) are emitted in the form that opset defines.
public final class GraphBuilder {
    public let opset: Int
    private var graph: Graph
    private var scopes: [String] = []
    private var usedNames: Set<String> = []
    private var renames: [String: String] = [:]

    public init(name: String = "graph", opset: Int = Model.defaultOpset) {
        self.opset = opset
        self.graph = Graph(name: name)
    }

    // MARK: Structure

    public func scoped<T>(_ scope: String, _ body: () throws -> T) rethrows -> T {
        scopes.append(scope)
        defer { scopes.removeLast() }
        return try body()
    }

    private var scopePrefix: String { scopes.joined(separator: ".") }

    /// The full name `initializer(name, ...)` would give inside the current scope.
    public func qualified(_ name: String) -> String { scopePrefix.isEmpty ? name : "\(scopePrefix).\(name)" }

    private func unique(_ base: String) -> String {
        var candidate = base
        var suffix = 1
        while usedNames.contains(candidate) {
            candidate = "\(base)_\(suffix)"
            suffix += 1
        }
        usedNames.insert(candidate)
        return candidate
    }

    public func input(_ name: String, _ type: DataType = .float32, shape: Shape) -> Value {
        let unique = unique(name)
        graph.inputs.append(ValueInfo(name: unique, elementType: type, shape: shape))
        return Value(unique)
    }

    /// Declares `value` as a graph output, renaming it to `name` when given.
    public func output(_ value: Value, name: String? = nil, type: DataType = .float32, shape: Shape? = nil) {
        var finalName = value.name
        if let name, name != value.name {
            precondition(!usedNames.contains(name), "output name '\(name)' is already used")
            usedNames.insert(name)
            renames[value.name] = name
            finalName = name
        }
        graph.outputs.append(ValueInfo(name: finalName, elementType: type, shape: shape))
    }

    /// A weight named `name` inside the current scope.
    @discardableResult
    public func initializer(_ name: String, _ tensor: Tensor) -> Value {
        let full = qualified(name)
        precondition(!usedNames.contains(full), "initializer '\(full)' defined twice")
        usedNames.insert(full)
        graph.initializers[full] = tensor
        return Value(full)
    }

    /// An unnamed constant (shapes, axes, the scalars of a GELU): a Constant node rather than
    /// an initializer, as PyTorch writes them, so parameter counts include only weights.
    public func constant(_ tensor: Tensor) -> Value {
        node("Constant", [], attributes: ["value": .tensor(tensor)], name: "Constant")[0]
    }

    public func constant(ints: [Int]) -> Value { constant(Tensor(shape: [ints.count], scalars: ints.map(Int64.init))) }
    public func constant(scalar: Float) -> Value { constant(Tensor(scalar: scalar)) }

    /// Appends a node; `nil` inputs are optional inputs left out.
    @discardableResult
    public func node(
        _ opType: String, _ inputs: [Value?], attributes: [String: Attribute] = [:], outputCount: Int = 1,
        domain: String = "", name: String? = nil
    ) -> [Value] {
        let base = (scopePrefix.isEmpty ? "" : scopePrefix + "/") + (name ?? opType)
        let nodeName = unique(base)
        let outputs = (0..<outputCount).map { index in
            unique(outputCount == 1 ? "\(nodeName)_output" : "\(nodeName)_output_\(index)")
        }
        // Trailing absent optional inputs are dropped, as ONNX writers do.
        var inputNames = inputs.map { $0?.name ?? "" }
        while inputNames.last == "" { inputNames.removeLast() }
        graph.nodes.append(Node(
            name: nodeName, opType: opType, domain: domain, inputs: inputNames, outputs: outputs,
            attributes: attributes))
        return outputs.map(Value.init)
    }

    private func op(_ opType: String, _ inputs: [Value?], _ attributes: [String: Attribute] = [:]) -> Value {
        node(opType, inputs, attributes: attributes)[0]
    }

    public func build() -> Graph {
        var result = graph
        if !renames.isEmpty {
            func rename(_ name: String) -> String { renames[name] ?? name }
            for index in result.nodes.indices {
                result.nodes[index].inputs = result.nodes[index].inputs.map(rename)
                result.nodes[index].outputs = result.nodes[index].outputs.map(rename)
            }
        }
        return result
    }

    public func model(metadata: [String: String] = [:], docString: String = "") -> Model {
        Model(graph: build(), opsetImports: [OperatorSetID(version: opset)], docString: docString, metadata: metadata)
    }

    // MARK: Convolution and linear algebra

    public func conv(
        _ x: Value, _ weight: Value, bias: Value? = nil, strides: [Int] = [1, 1], pads: [Int]? = nil,
        dilations: [Int]? = nil, group: Int = 1
    ) -> Value {
        var attributes: [String: Attribute] = ["strides": .ints(strides)]
        if let pads { attributes["pads"] = .ints(pads) }
        if let dilations { attributes["dilations"] = .ints(dilations) }
        if group != 1 { attributes["group"] = .int(group) }
        return op("Conv", [x, weight, bias], attributes)
    }

    public func convTranspose(
        _ x: Value, _ weight: Value, bias: Value? = nil, strides: [Int] = [1, 1], pads: [Int]? = nil,
        outputPadding: [Int]? = nil, group: Int = 1
    ) -> Value {
        var attributes: [String: Attribute] = ["strides": .ints(strides)]
        if let pads { attributes["pads"] = .ints(pads) }
        if let outputPadding { attributes["output_padding"] = .ints(outputPadding) }
        if group != 1 { attributes["group"] = .int(group) }
        return op("ConvTranspose", [x, weight, bias], attributes)
    }

    public func matMul(_ a: Value, _ b: Value) -> Value { op("MatMul", [a, b]) }

    public func gemm(_ a: Value, _ b: Value, _ c: Value? = nil, transB: Bool = false) -> Value {
        op("Gemm", [a, b, c], transB ? ["transB": .int(1)] : [:])
    }

    // MARK: Element-wise

    public func add(_ a: Value, _ b: Value) -> Value { op("Add", [a, b]) }
    public func sub(_ a: Value, _ b: Value) -> Value { op("Sub", [a, b]) }
    public func mul(_ a: Value, _ b: Value) -> Value { op("Mul", [a, b]) }
    public func div(_ a: Value, _ b: Value) -> Value { op("Div", [a, b]) }
    public func relu(_ x: Value) -> Value { op("Relu", [x]) }
    public func sigmoid(_ x: Value) -> Value { op("Sigmoid", [x]) }
    public func erf(_ x: Value) -> Value { op("Erf", [x]) }
    public func identity(_ x: Value) -> Value { op("Identity", [x]) }

    /// Exact (erf) GELU, or the tanh approximation. Before opset 20 there is no Gelu op, so
    /// this writes the subgraph PyTorch exports: x * 0.5 * (1 + erf(x / sqrt 2)).
    public func gelu(_ x: Value, approximate: Bool = false) -> Value {
        if opset >= 20 { return op("Gelu", [x], approximate ? ["approximate": .string("tanh")] : [:]) }
        precondition(!approximate, "tanh GELU before opset 20 is not written by this builder")
        let scaled = div(x, constant(scalar: Float(2).squareRoot()))
        let onePlusErf = add(erf(scaled), constant(scalar: 1))
        return mul(mul(x, onePlusErf), constant(scalar: 0.5))
    }

    // MARK: Normalization

    public func layerNormalization(_ x: Value, scale: Value, bias: Value?, axis: Int = -1, epsilon: Float = 1e-5) -> Value {
        op("LayerNormalization", [x, scale, bias], ["axis": .int(axis), "epsilon": .float(epsilon)])
    }

    public func batchNormalization(
        _ x: Value, scale: Value, bias: Value, mean: Value, variance: Value, epsilon: Float = 1e-5
    ) -> Value {
        op("BatchNormalization", [x, scale, bias, mean, variance], ["epsilon": .float(epsilon)])
    }

    // MARK: Shape and data movement

    public func transpose(_ x: Value, perm: [Int]) -> Value { op("Transpose", [x], ["perm": .ints(perm)]) }
    public func concat(_ values: [Value], axis: Int) -> Value { op("Concat", values, ["axis": .int(axis)]) }
    public func reshape(_ x: Value, _ shape: [Int]) -> Value { op("Reshape", [x, constant(ints: shape)]) }
    public func flatten(_ x: Value, axis: Int = 1) -> Value { op("Flatten", [x], ["axis": .int(axis)]) }

    public func slice(_ x: Value, starts: [Int], ends: [Int], axes: [Int], steps: [Int]? = nil) -> Value {
        op("Slice", [x, constant(ints: starts), constant(ints: ends), constant(ints: axes), steps.map(constant(ints:))])
    }

    // MARK: Pooling and reduction

    public func globalAveragePool(_ x: Value) -> Value { op("GlobalAveragePool", [x]) }
    public func globalMaxPool(_ x: Value) -> Value { op("GlobalMaxPool", [x]) }

    public func reduceMean(_ x: Value, axes: [Int], keepDims: Bool = true) -> Value {
        if opset >= 18 {
            return op("ReduceMean", [x, constant(ints: axes)], ["keepdims": .int(keepDims ? 1 : 0)])
        }
        return op("ReduceMean", [x], ["axes": .ints(axes), "keepdims": .int(keepDims ? 1 : 0)])
    }
}
