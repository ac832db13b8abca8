/// Why a known op's shapes are inconsistent; the inference pass adds the node's name.
struct ShapeRuleError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// What a shape rule sees of one node: its attributes, the shapes of its inputs (nil for an
/// omitted optional input) and the inputs whose elements are known before running.
struct ShapeRuleContext {
    let node: Node
    let inputShapes: [[Int]?]
    /// Known elements of integer inputs (flattened), per input.
    let integerValues: [[Int]?]
    /// Constant tensors (initializers and Constant outputs) per input, for float arguments.
    let tensors: [Tensor?]

    var inputCount: Int { inputShapes.count }

    /// Whether optional input `index` is given.
    func has(_ index: Int) -> Bool { index < inputShapes.count && inputShapes[index] != nil }

    /// The shape of required input `index`.
    func shape(_ index: Int) throws(ShapeRuleError) -> [Int] {
        guard index < inputShapes.count, let shape = inputShapes[index] else {
            throw ShapeRuleError("required input \(index) is missing")
        }
        return shape
    }

    /// The integer elements of input `index`, or nil when they are not known statically.
    func integers(_ index: Int) -> [Int]? { index < integerValues.count ? integerValues[index] : nil }

    /// The float elements of a constant input, or nil when it is not a constant.
    func floats(_ index: Int) -> [Float]? {
        guard index < tensors.count, let tensor = tensors[index] else { return nil }
        return try? tensor.floatValues()
    }

    /// Name of input `index`, for messages.
    func inputName(_ index: Int) -> String { index < node.inputs.count ? node.inputs[index] : "#\(index)" }

    func int(_ name: String, default value: Int) throws(ShapeRuleError) -> Int {
        guard let attribute = node.attributes[name] else { return value }
        guard let result = attribute.intValue else { throw ShapeRuleError("attribute '\(name)' is not an int") }
        return result
    }

    func ints(_ name: String) throws(ShapeRuleError) -> [Int]? {
        guard let attribute = node.attributes[name] else { return nil }
        guard let result = attribute.intsValue else { throw ShapeRuleError("attribute '\(name)' is not a list of ints") }
        return result
    }

    func string(_ name: String, default value: String) throws(ShapeRuleError) -> String {
        guard let attribute = node.attributes[name] else { return value }
        guard let result = attribute.stringValue else { throw ShapeRuleError("attribute '\(name)' is not a string") }
        return result
    }

    /// `axis` in [-rank, rank) made non-negative.
    func normalized(axis: Int, rank: Int, name: String = "axis") throws(ShapeRuleError) -> Int {
        guard axis >= -rank && axis < rank else { throw ShapeRuleError("\(name) \(axis) is outside rank \(rank)") }
        return axis < 0 ? axis + rank : axis
    }
}
