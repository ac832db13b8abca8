/// Why a metric could not be computed, naming the argument, label, matrix entry or image at
/// fault.
public indirect enum MetricsError: Error, Equatable, CustomStringConvertible {
    /// An argument is malformed; the first value names it, the second says how.
    case invalidArgument(String, String)
    /// A cost-matrix entry is NaN or minus infinity.
    case invalidCost(row: Int, column: Int, value: Double)
    /// No assignment of finite cost exists (too many infinite entries).
    case infeasibleAssignment(rows: Int, columns: Int)
    /// A problem with one image of an evaluation.
    case image(String, MetricsError)

    public var description: String {
        switch self {
        case .invalidArgument(let name, let problem): "\(name): \(problem)"
        case .invalidCost(let row, let column, let value): "cost matrix entry [\(row), \(column)] is \(value); costs must be numbers or +infinity"
        case .infeasibleAssignment(let rows, let columns): "the \(rows)x\(columns) cost matrix has no assignment of finite cost"
        case .image(let name, let error): "image '\(name)': \(error)"
        }
    }
}
