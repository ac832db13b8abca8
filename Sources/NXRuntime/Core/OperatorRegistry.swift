import NXIR

/// Maps (domain, op type, opset) to a kernel. The session looks every node up once at load.
public struct OperatorRegistry: Sendable {
    private var entries: [String: [KernelRegistration]] = [:]

    public init(_ registrations: [KernelRegistration] = []) {
        for registration in registrations { register(registration) }
    }

    public mutating func register(_ registration: KernelRegistration) {
        entries[Self.key(registration.domain, registration.opType), default: []].append(registration)
    }

    /// The registration covering `opset`, preferring the newest when ranges overlap.
    public func lookup(opType: String, domain: String, opset: Int) -> KernelRegistration? {
        entries[Self.key(domain, opType)]?.filter { $0.opsets.contains(opset) }.max { $0.opsets.lowerBound < $1.opsets.lowerBound }
    }

    /// Every registered (domain, op type), for listings and the conformance test.
    public var operators: [(domain: String, opType: String, opsets: [ClosedRange<Int>])] {
        entries.values.map { list in (list[0].domain, list[0].opType, list.map(\.opsets)) }
            .sorted { ($0.domain, $0.opType) < ($1.domain, $1.opType) }
    }

    private static func key(_ domain: String, _ opType: String) -> String {
        (domain == "ai.onnx" ? "" : domain) + "::" + opType
    }

    /// The registry with every kernel this runtime ships.
    public static let standard = OperatorRegistry(StandardKernels.all)
}
