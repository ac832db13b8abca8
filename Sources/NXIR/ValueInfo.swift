/// A named value's declared element type and shape, as on graph inputs and outputs.
/// Either may be unknown (`nil`), as ONNX allows for intermediate values.
public struct ValueInfo: Equatable, Sendable, CustomStringConvertible {
    public var name: String
    public var elementType: DataType?
    public var shape: Shape?
    public var docString: String

    public init(name: String, elementType: DataType? = nil, shape: Shape? = nil, docString: String = "") {
        self.name = name
        self.elementType = elementType
        self.shape = shape
        self.docString = docString
    }

    public var description: String {
        "\(name): \(elementType?.description ?? "?")\(shape?.description ?? "[?]")"
    }
}
