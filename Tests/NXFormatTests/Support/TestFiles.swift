/// Paths of the committed fixtures and converter scripts the format tests use.
enum TestFiles {
    static func fixture(_ relativePath: String) -> String {
        "\(PythonTool.repositoryRoot)/Tests/Fixtures/\(relativePath)"
    }
}
