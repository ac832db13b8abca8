/// One dimension of a declared shape: a number, a name shared by dimensions that must agree
/// (ONNX's `dim_param`, e.g. "batch"), or nothing known.
public enum Dimension: Hashable, Sendable, CustomStringConvertible, ExpressibleByIntegerLiteral,
    ExpressibleByStringLiteral
{
    case fixed(Int)
    case symbolic(String)
    case unknown

    public init(integerLiteral value: Int) { self = .fixed(value) }
    public init(stringLiteral value: String) { self = .symbolic(value) }

    public var value: Int? {
        if case .fixed(let v) = self { return v }
        return nil
    }

    public var description: String {
        switch self {
        case .fixed(let v): "\(v)"
        case .symbolic(let name): name
        case .unknown: "?"
        }
    }
}

/// A declared shape of known rank. An unknown rank is a `nil` `Shape?`.
public struct Shape: Hashable, Sendable, CustomStringConvertible, ExpressibleByArrayLiteral {
    public var dimensions: [Dimension]

    public init(_ dimensions: [Dimension]) { self.dimensions = dimensions }
    public init(arrayLiteral elements: Dimension...) { self.dimensions = elements }
    public init(fixed: [Int]) { self.dimensions = fixed.map(Dimension.fixed) }

    public var rank: Int { dimensions.count }

    /// The concrete sizes when every dimension is fixed.
    public var fixedSizes: [Int]? {
        let values = dimensions.compactMap(\.value)
        return values.count == dimensions.count ? values : nil
    }

    public var description: String { "[" + dimensions.map(\.description).joined(separator: ", ") + "]" }
}

/// Number of elements of a concrete shape (1 for a scalar).
public func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }
