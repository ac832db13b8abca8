/// One operator application. Inputs and outputs are value names; an empty input name marks
/// an optional input left out, as in ONNX.
public struct Node: Equatable, Sendable, CustomStringConvertible {
    public var name: String
    public var opType: String
    /// "" is the default ONNX domain (ai.onnx).
    public var domain: String
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [String: Attribute]
    public var docString: String

    public init(
        name: String = "", opType: String, domain: String = "", inputs: [String], outputs: [String],
        attributes: [String: Attribute] = [:], docString: String = ""
    ) {
        self.name = name
        self.opType = opType
        self.domain = domain
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
        self.docString = docString
    }

    public subscript(attribute name: String) -> Attribute? { attributes[name] }

    /// How messages name this node: its name, or its op type and first output when unnamed.
    public var label: String { name.isEmpty ? "\(opType)->\(outputs.first ?? "?")" : name }

    public var description: String {
        "\(label) (\(domain.isEmpty ? "" : domain + ".")\(opType)): \(inputs) -> \(outputs)"
    }
}
