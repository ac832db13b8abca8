import Foundation
import NXTestSupport
import Testing

/// The Swift metrics against metrics_reference.py: the committed fixtures always, and a fresh,
/// larger set made by make_metrics_fixtures.py when Python is available (always under CI).
@Suite("Metrics fixtures")
struct MetricsFixtureTests {
    static let committed = "\(PythonTool.repositoryRoot)/Tests/Fixtures/metrics"

    @Test("committed fixtures match the reference within 1e-6")
    func committedFixtures() throws {
        var check = try MetricsFixtureCheck(directory: Self.committed)
        try check.checkAll()
        print("metrics fixtures: \(check.comparisons) values, largest deviation \(check.largestDeviation)")
        #expect(check.comparisons > 400, "only \(check.comparisons) values compared")
        #expect(check.mismatches.isEmpty, "\(check.mismatches.count) mismatches:\n\(check.mismatches.joined(separator: "\n"))")
    }

    @Test("freshly generated extended fixtures match the reference", .enabled(if: PythonTool.shouldRun))
    func generatedFixtures() throws {
        let scratch = try TemporaryDirectory()
        _ = try PythonTool.run([PythonTool.converterScript("make_metrics_fixtures.py"), "--out", scratch.path, "--extended"])
        var check = try MetricsFixtureCheck(directory: scratch.path)
        try check.checkAll()
        print("metrics fixtures: \(check.comparisons) values, largest deviation \(check.largestDeviation)")
        #expect(check.comparisons > 600, "only \(check.comparisons) values compared")
        #expect(check.mismatches.isEmpty, "\(check.mismatches.count) mismatches:\n\(check.mismatches.joined(separator: "\n"))")
    }
}
