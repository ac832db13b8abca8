import NXIR

/// A compiled operator instance: built once per node at session load (attributes parsed,
/// constant weights packed), then run any number of times, possibly from several threads
/// at once, so `run` must not mutate the kernel.
///
/// `inputs` follow the node's inputs; `nil` marks an omitted optional input. Outputs are
/// allocated through `context` and returned in the node's output order (an omitted optional
/// output may be returned or not; extra outputs are ignored).
public protocol Kernel: Sendable {
    func run(_ inputs: [Tensor?], context: ExecutionContext) throws -> [Tensor]
    func flops(inputs: [Tensor?], outputs: [Tensor]) -> Int
    /// Constant inputs (by position) this kernel copied at load into its own layout and no
    /// longer reads: the session may drop them and pass `nil` in their place.
    var packedConstantInputs: Set<Int> { get }
}

extension Kernel {
    public var packedConstantInputs: Set<Int> { [] }
}

/// How the registry finds and makes a kernel. One line per op family entry, e.g.
/// `KernelRegistration("Relu", opsets: 6...14, types: [.float32]) { try ReluKernel($0) }`.
public struct KernelRegistration: Sendable {
    public let opType: String
    public let domain: String
    public let opsets: ClosedRange<Int>
    /// Element types of the first input the kernel accepts (empty: any).
    public let types: Set<DataType>
    public let make: @Sendable (KernelBuildContext) throws -> any Kernel

    public init(
        _ opType: String, domain: String = "", opsets: ClosedRange<Int>, types: Set<DataType> = [],
        make: @escaping @Sendable (KernelBuildContext) throws -> any Kernel
    ) {
        self.opType = opType
        self.domain = domain
        self.opsets = opsets
        self.types = types
        self.make = make
    }
}

/// What a kernel sees when it is built: its node, the opset the model imports for the
/// node's domain, its constant inputs (so weights can be packed once at load) and the
/// input shapes known before any run (so they are packed for the sizes that will come).
public struct KernelBuildContext: Sendable {
    public let node: Node
    public let opset: Int
    public let constants: [String: Tensor]
    /// Static shapes of the node's inputs, by position (nil: unknown until run time).
    public let inputShapes: [[Int]?]

    public init(node: Node, opset: Int, constants: [String: Tensor] = [:], inputShapes: [[Int]?] = []) {
        self.node = node
        self.opset = opset
        self.constants = constants
        self.inputShapes = inputShapes
    }

    /// The shape input `index` will have at run time, when known at load.
    public func staticShape(_ index: Int) -> [Int]? { index < inputShapes.count ? inputShapes[index] : nil }

    /// The constant value of input `index`, when it is an initializer.
    public func constantInput(_ index: Int) -> Tensor? {
        guard index < node.inputs.count, !node.inputs[index].isEmpty else { return nil }
        return constants[node.inputs[index]]
    }

    public func hasInput(_ index: Int) -> Bool { index < node.inputs.count && !node.inputs[index].isEmpty }

    // Attribute readers: a missing attribute gives the default; one of the wrong kind throws.

    public func int(_ name: String, default value: Int) throws -> Int {
        guard let attribute = node.attributes[name] else { return value }
        guard let v = attribute.intValue else { throw kindError(name, "INT", attribute) }
        return v
    }

    public func int(_ name: String) throws -> Int? {
        guard let attribute = node.attributes[name] else { return nil }
        guard let v = attribute.intValue else { throw kindError(name, "INT", attribute) }
        return v
    }

    public func float(_ name: String, default value: Float) throws -> Float {
        guard let attribute = node.attributes[name] else { return value }
        guard let v = attribute.floatValue else { throw kindError(name, "FLOAT", attribute) }
        return v
    }

    public func string(_ name: String, default value: String) throws -> String {
        guard let attribute = node.attributes[name] else { return value }
        guard let v = attribute.stringValue else { throw kindError(name, "STRING", attribute) }
        return v
    }

    public func ints(_ name: String) throws -> [Int]? {
        guard let attribute = node.attributes[name] else { return nil }
        guard let v = attribute.intsValue else { throw kindError(name, "INTS", attribute) }
        return v
    }

    public func floats(_ name: String) throws -> [Float]? {
        guard let attribute = node.attributes[name] else { return nil }
        guard let v = attribute.floatsValue else { throw kindError(name, "FLOATS", attribute) }
        return v
    }

    public func tensor(_ name: String) throws -> Tensor? {
        guard let attribute = node.attributes[name] else { return nil }
        guard let v = attribute.tensorValue else { throw kindError(name, "TENSOR", attribute) }
        return v
    }

    private func kindError(_ name: String, _ expected: String, _ got: Attribute) -> KernelError {
        KernelError("attribute '\(name)' should be \(expected), is \(got.kind.rawValue)")
    }
}

extension Kernel {
    /// Floating-point operations one run performed (a multiply-add counts 2), for the
    /// profiler's GFLOP/s column. Kernels whose cost matters override it.
    public func flops(inputs: [Tensor?], outputs: [Tensor]) -> Int { 0 }
}
