import NXTestSupport

/// Paths of the committed PNG fixtures the Image, Tiling and Writers suites read.
extension Fixtures {
    static func png(_ name: String) -> String { path("png/\(name)") }
}
