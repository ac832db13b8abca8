import NXTestSupport
import Testing

/// The PyTorch training recipe's own unit tests (Converters/python/tests/test_training.py:
/// each loss on hand-computed cases, targets on synthetic instance maps, the sampler, and a
/// `--quick` training run), run with the Python that `NX_TORCH_PYTHON` names. CI has no torch,
/// so there this is skipped, visibly, unless the variable is set.
@Suite struct TrainingRecipeTests {
    /// Discovers the tests and reports the counts on stdout (unittest writes to stderr).
    static let runner = """
        import sys, unittest
        suite = unittest.defaultTestLoader.discover(sys.argv[1])
        result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
        print(f"ran {result.testsRun} failures {len(result.failures)} errors {len(result.errors)} skipped {len(result.skipped)}")
        sys.exit(0 if result.wasSuccessful() else 1)
        """

    @Test(.enabled(
        if: PythonTool.torchExecutable != nil,
        "no Python with torch: set NX_TORCH_PYTHON (e.g. a venv with torch, timm, albumentations, scipy, scikit-image, opencv)"))
    func pythonUnitTestsPass() throws {
        let python = try #require(PythonTool.torchExecutable)
        let output = try PythonTool.run(
            ["-c", Self.runner, PythonTool.converterScript("tests")], using: python)
        let summary = try #require(output.split(separator: "\n").last { $0.hasPrefix("ran ") }, "no summary in:\n\(output)")
        let numbers = summary.split(separator: " ").compactMap { Int($0) }
        #expect(numbers.count == 4, "\(summary)")
        // 21 tests at the time of writing: fewer means discovery lost some.
        #expect(numbers[0] >= 21, "\(summary)")
        #expect(numbers[1] == 0 && numbers[2] == 0 && numbers[3] == 0, "\(output)")
        #expect(output.contains("QuickRunTests.test_quick_run_trains_checkpoints_and_exports_a_loadable_state_dict) ... ok"))
    }
}
