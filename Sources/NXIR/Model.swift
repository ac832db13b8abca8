/// An operator set a model imports: a domain ("" for ai.onnx) at a version.
public struct OperatorSetID: Equatable, Hashable, Sendable {
    public var domain: String
    public var version: Int

    public init(domain: String = "", version: Int) {
        self.domain = domain
        self.version = version
    }
}

/// A graph with the model-level facts ONNX keeps beside it.
public struct Model: Equatable, Sendable {
    /// ONNX IR version 8 is what opset 17/18 tools expect; ONNX Runtime reads 3 through 10.
    public static let defaultIRVersion = 8
    public static let defaultOpset = 17

    public var irVersion: Int
    public var opsetImports: [OperatorSetID]
    public var producerName: String
    public var producerVersion: String
    public var domain: String
    public var modelVersion: Int
    public var docString: String
    /// Free-form key/value metadata (ONNX `metadata_props`). Writers emit keys sorted.
    public var metadata: [String: String]
    public var graph: Graph

    public init(
        graph: Graph, irVersion: Int = Model.defaultIRVersion,
        opsetImports: [OperatorSetID] = [OperatorSetID(version: Model.defaultOpset)],
        producerName: String = "nx", producerVersion: String = "0.1.0", domain: String = "",
        modelVersion: Int = 0, docString: String = "", metadata: [String: String] = [:]
    ) {
        self.graph = graph
        self.irVersion = irVersion
        self.opsetImports = opsetImports
        self.producerName = producerName
        self.producerVersion = producerVersion
        self.domain = domain
        self.modelVersion = modelVersion
        self.docString = docString
        self.metadata = metadata
    }

    /// The version of `domain` this model imports; "ai.onnx" and "" are the same domain.
    public func opsetVersion(for domain: String) -> Int? {
        let wanted = domain == "ai.onnx" ? "" : domain
        return opsetImports.first { ($0.domain == "ai.onnx" ? "" : $0.domain) == wanted }?.version
    }
}
