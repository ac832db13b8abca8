/// The rectangular linear sum assignment problem: pair min(rows, columns) rows with distinct
/// columns at the least total cost. Solved in O(n²m) by the shortest augmenting path method
/// (Jonker-Volgenant duals, Crouse 2016, "On implementing 2D rectangular assignment
/// algorithms"), the method scipy's `linear_sum_assignment` uses; every tie is broken the way
/// scipy breaks it, so both return the same pairs even when several optima exist. HoVer-Net's
/// AJI+ and centroid pairing are defined by scipy's answer, hence that care.
public enum LinearAssignment {
    /// A row paired with a column.
    public struct Pair: Sendable, Hashable {
        public let row: Int
        public let column: Int

        public init(row: Int, column: Int) {
            self.row = row
            self.column = column
        }
    }

    /// The least-cost pairs of a `rows` × `columns` row-major cost matrix, by ascending row.
    /// Entries may be +infinity (forbidden pairs); NaN and -infinity are rejected, and so is
    /// a matrix in which every full assignment uses a forbidden pair.
    public static func minimize(costs: [Double], rows: Int, columns: Int) throws(MetricsError) -> [Pair] {
        guard rows >= 0, columns >= 0, costs.count == rows * columns else {
            throw .invalidArgument("cost matrix", "\(costs.count) entries for \(rows)x\(columns)")
        }
        if let bad = costs.firstIndex(where: { $0.isNaN || $0 == -.infinity }) {
            throw .invalidCost(row: bad / columns, column: bad % columns, value: costs[bad])
        }
        if rows == 0 || columns == 0 { return [] }

        // The method needs at least as many columns as rows: solve a tall matrix transposed.
        if columns < rows {
            var transposed = [Double](repeating: 0, count: costs.count)
            for r in 0..<rows {
                for c in 0..<columns { transposed[c * rows + r] = costs[r * columns + c] }
            }
            let rowForColumn = try solve(transposed, rows: columns, columns: rows)
            // rowForColumn[c] is the original row paired with column c; list by row.
            return rowForColumn.enumerated()
                .map { Pair(row: $0.element, column: $0.offset) }
                .sorted { $0.row < $1.row }
        }
        return try solve(costs, rows: rows, columns: columns).enumerated().map { Pair(row: $0.offset, column: $0.element) }
    }

    /// The column of every row, for rows <= columns.
    private static func solve(_ cost: [Double], rows: Int, columns: Int) throws(MetricsError) -> [Int] {
        var u = [Double](repeating: 0, count: rows)
        var v = [Double](repeating: 0, count: columns)
        var shortest = [Double](repeating: .infinity, count: columns)
        var path = [Int](repeating: -1, count: columns)
        var columnOfRow = [Int](repeating: -1, count: rows)
        var rowOfColumn = [Int](repeating: -1, count: columns)
        var rowVisited = [Bool](repeating: false, count: rows)
        var columnVisited = [Bool](repeating: false, count: columns)
        var remaining = [Int](repeating: 0, count: columns)

        for currentRow in 0..<rows {
            // Dijkstra over reduced costs from `currentRow` to the nearest free column.
            var minValue = 0.0
            var remainingCount = columns
            // Filled in reverse, as scipy does, so a constant matrix yields the identity.
            for k in 0..<columns { remaining[k] = columns - 1 - k }
            for k in 0..<rows { rowVisited[k] = false }
            for k in 0..<columns {
                columnVisited[k] = false
                shortest[k] = .infinity
            }
            var sink = -1
            var i = currentRow
            while sink == -1 {
                rowVisited[i] = true
                var lowest = Double.infinity
                var chosen = -1
                let base = i * columns
                for k in 0..<remainingCount {
                    let j = remaining[k]
                    // Same operation order as scipy, for bit-identical sums.
                    let reduced = minValue + cost[base + j] - u[i] - v[j]
                    if reduced < shortest[j] {
                        path[j] = i
                        shortest[j] = reduced
                    }
                    // Among equally short columns prefer a free one: it ends the search.
                    if shortest[j] < lowest || (shortest[j] == lowest && rowOfColumn[j] == -1) {
                        lowest = shortest[j]
                        chosen = k
                    }
                }
                minValue = lowest
                if minValue == .infinity { throw .infeasibleAssignment(rows: rows, columns: columns) }
                let j = remaining[chosen]
                if rowOfColumn[j] == -1 {
                    sink = j
                } else {
                    i = rowOfColumn[j]
                }
                columnVisited[j] = true
                remainingCount -= 1
                remaining[chosen] = remaining[remainingCount]
            }

            // Update the duals so reduced costs stay non-negative.
            u[currentRow] += minValue
            for r in 0..<rows where rowVisited[r] && r != currentRow {
                u[r] += minValue - shortest[columnOfRow[r]]
            }
            for c in 0..<columns where columnVisited[c] {
                v[c] -= minValue - shortest[c]
            }

            // Augment along the path back to `currentRow`.
            var j = sink
            while true {
                let r = path[j]
                rowOfColumn[j] = r
                swap(&columnOfRow[r], &j)
                if r == currentRow { break }
            }
        }
        return columnOfRow
    }
}
