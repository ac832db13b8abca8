import Foundation
import NXFormat
import NXIR
import NXModels
import NXTestSupport

/// The committed checkpoint fixtures (Converters/python/make_checkpoint_fixtures.py) and the
/// miniature ConvNeXt they hold.
extension Fixtures {
    static func checkpoint(_ name: String) -> String { "\(repositoryRoot)/Tests/Fixtures/checkpoints/\(name)" }
    static func generated(_ name: String) -> String { "\(repositoryRoot)/Tests/Fixtures/generated/checkpoints/\(name)" }
    static func fileExists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// timm.models.convnext.ConvNeXt(depths=(1, 1, 1, 1), dims=(8, 16, 32, 64), num_classes=5).
    static let miniConfig = ConvNeXtConfig(variant: "mini", depths: [1, 1, 1, 1], dims: [8, 16, 32, 64])
    static let miniClasses = 5
    static let miniInputSize = 64

    static func bytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }
}

/// max |actual - expected| / max |expected|: the agreement metric of every fixture check.
func relativeDifference(_ actual: [Float], _ expected: [Float]) -> Float {
    guard actual.count == expected.count else { return .infinity }
    let scale = expected.map(abs).max() ?? 0
    let difference = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
    return scale > 0 ? difference / scale : difference
}
