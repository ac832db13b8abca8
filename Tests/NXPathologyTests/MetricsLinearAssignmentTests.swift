import Foundation
import NXFormat
import NXIR
import NXPathology
import NXTestSupport
import Testing

@Suite("Metrics linear assignment")
struct MetricsLinearAssignmentTests {
    /// The least total cost over every assignment of min(rows, columns) pairs, by enumeration.
    static func bruteForceMinimum(_ costs: [Double], rows: Int, columns: Int) -> Double {
        let transposed = rows > columns
        let (short, long) = transposed ? (columns, rows) : (rows, columns)
        func cost(_ s: Int, _ l: Int) -> Double { transposed ? costs[l * columns + s] : costs[s * columns + l] }
        var best = Double.infinity
        var used = [Bool](repeating: false, count: long)
        func search(_ s: Int, _ total: Double) {
            if s == short {
                best = min(best, total)
                return
            }
            for l in 0..<long where !used[l] {
                used[l] = true
                search(s + 1, total + cost(s, l))
                used[l] = false
            }
        }
        search(0, 0)
        return best
    }

    static func total(_ pairs: [LinearAssignment.Pair], _ costs: [Double], columns: Int) -> Double {
        pairs.reduce(0) { $0 + costs[$1.row * columns + $1.column] }
    }

    @Test("a known 3x3 optimum")
    func knownSquare() throws {
        // scipy's documentation example: rows 0, 1, 2 take columns 1, 0, 2 for a total of 5.
        let pairs = try LinearAssignment.minimize(costs: [4, 1, 3, 2, 0, 5, 3, 2, 2], rows: 3, columns: 3)
        #expect(pairs.map(\.column) == [1, 0, 2])
        #expect(pairs.map(\.row) == [0, 1, 2])
    }

    @Test("random matrices of every shape reach the brute-force optimum", arguments: [
        (1, 1), (1, 5), (5, 1), (3, 3), (4, 6), (6, 4), (6, 6), (2, 7), (7, 3),
    ])
    func optimality(rows: Int, columns: Int) throws {
        var random = SeededRandom(seed: UInt64(rows * 31 + columns))
        for trial in 0..<20 {
            // Half the trials draw small integers, where many assignments tie.
            let costs = (0..<(rows * columns)).map { _ in
                trial % 2 == 0 ? Double.random(in: -5...5, using: &random) : Double(Int.random(in: 0...3, using: &random))
            }
            let pairs = try LinearAssignment.minimize(costs: costs, rows: rows, columns: columns)
            #expect(pairs.count == min(rows, columns))
            #expect(Set(pairs.map(\.row)).count == pairs.count && Set(pairs.map(\.column)).count == pairs.count)
            #expect(pairs.map(\.row) == pairs.map(\.row).sorted())
            let expected = Self.bruteForceMinimum(costs, rows: rows, columns: columns)
            #expect(abs(Self.total(pairs, costs, columns: columns) - expected) <= 1e-12, "trial \(trial)")
        }
    }

    @Test("a constant matrix gives the identity, as scipy's does")
    func constantMatrix() throws {
        let pairs = try LinearAssignment.minimize(costs: [Double](repeating: 1, count: 12), rows: 3, columns: 4)
        #expect(pairs == (0..<3).map { LinearAssignment.Pair(row: $0, column: $0) })
    }

    @Test("forbidden pairs (+infinity) are avoided")
    func infinities() throws {
        let inf = Double.infinity
        let pairs = try LinearAssignment.minimize(costs: [1, inf, inf, 1, 1, inf, inf, 5, 1], rows: 3, columns: 3)
        #expect(pairs.map(\.column) == [0, 1, 2])
    }

    @Test("empty matrices have no pairs")
    func empty() throws {
        #expect(try LinearAssignment.minimize(costs: [], rows: 0, columns: 4).isEmpty)
        #expect(try LinearAssignment.minimize(costs: [], rows: 3, columns: 0).isEmpty)
    }

    @Test("NaN, -infinity, a wrong entry count and an infeasible matrix are errors")
    func errors() {
        #expect(throws: MetricsError.invalidCost(row: 1, column: 0, value: -.infinity)) {
            try LinearAssignment.minimize(costs: [0, 1, -.infinity, 2], rows: 2, columns: 2)
        }
        #expect {
            try LinearAssignment.minimize(costs: [0, .nan], rows: 1, columns: 2)
        } throws: { error in
            guard case .invalidCost(0, 1, let value) = error as? MetricsError else { return false }
            return value.isNaN
        }
        #expect(throws: MetricsError.self) { try LinearAssignment.minimize(costs: [1, 2, 3], rows: 2, columns: 2) }
        #expect(throws: MetricsError.infeasibleAssignment(rows: 2, columns: 2)) {
            try LinearAssignment.minimize(costs: [.infinity, .infinity, 1, 2], rows: 2, columns: 2)
        }
    }

    @Test("a 400x400 Euclidean matrix is solved quickly and optimally against a greedy bound")
    func large() throws {
        var random = SeededRandom(seed: 99)
        let points = (0..<400).map { _ in SIMD2(Double.random(in: 0..<1000, using: &random), Double.random(in: 0..<1000, using: &random)) }
        let shifted = points.map { $0 + SIMD2(Double.random(in: -4...4, using: &random), Double.random(in: -4...4, using: &random)) }
        var costs = [Double](repeating: 0, count: 400 * 400)
        for i in 0..<400 { for j in 0..<400 { costs[i * 400 + j] = ((points[i] - shifted[j]) * (points[i] - shifted[j])).sum().squareRoot() } }
        let pairs = try LinearAssignment.minimize(costs: costs, rows: 400, columns: 400)
        // The identity pairing is near-optimal by construction; the optimum is at most it.
        let identity = (0..<400).reduce(0.0) { $0 + costs[$1 * 400 + $1] }
        #expect(Self.total(pairs, costs, columns: 400) <= identity + 1e-9)
        #expect(pairs.filter { $0.row == $0.column }.count > 380)
    }

    @Test("random matrices give scipy's exact pairs", .enabled(if: PythonTool.shouldRun))
    func againstScipy() throws {
        let scratch = try TemporaryDirectory()
        var random = SeededRandom(seed: 2024)
        var cases: [(name: String, rows: Int, columns: Int, costs: [Double])] = []
        for (k, (rows, columns)) in [(1, 1), (4, 4), (3, 8), (8, 3), (10, 10), (17, 25), (25, 17), (40, 40), (1, 9), (9, 1)].enumerated() {
            let uniform = (0..<(rows * columns)).map { _ in Double.random(in: -10...10, using: &random) }
            let ties = (0..<(rows * columns)).map { _ in Double(Int.random(in: 0...2, using: &random)) }
            // IoU-like: mostly zeros (negated to -0.0), as AJI+ feeds the solver.
            let sparse = (0..<(rows * columns)).map { _ in
                Double.random(in: 0..<1, using: &random) < 0.7 ? -0.0 : -Double.random(in: 0..<1, using: &random)
            }
            cases += [("uniform\(k)", rows, columns, uniform), ("ties\(k)", rows, columns, ties), ("sparse\(k)", rows, columns, sparse)]
        }
        for item in cases {
            try Npy.write(Tensor(shape: [item.rows, item.columns], scalars: item.costs), to: scratch.file("\(item.name).npy"))
        }
        let script = """
            import json, sys, numpy as np
            from scipy.optimize import linear_sum_assignment
            out = {}
            for name in sys.argv[2:]:
                rows, cols = linear_sum_assignment(np.load(f"{sys.argv[1]}/{name}.npy"))
                out[name] = [rows.tolist(), cols.tolist()]
            print(json.dumps(out))
            """
        let output = try PythonTool.run(script: script, arguments: [scratch.path] + cases.map(\.name))
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: [[Int]]])
        for item in cases {
            let pairs = try LinearAssignment.minimize(costs: item.costs, rows: item.rows, columns: item.columns)
            #expect([pairs.map(\.row), pairs.map(\.column)] == expected[item.name], "\(item.name) (\(item.rows)x\(item.columns))")
        }
    }
}
