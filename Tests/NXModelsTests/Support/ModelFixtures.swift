import Foundation
import NXFormat
import NXIR
import NXTestSupport

/// The model tests' fixture helpers beyond the shared paths, and the comparison they use.
extension Fixtures {
    /// The network input of a HistoNeXt fixture: its uint8 pixels / 255 in float32, exactly as
    /// make_histonext_fixtures.py computes it for the reference.
    static func histoNeXtInput(_ folder: String) throws -> Tensor {
        let pixels = try Npy.read(path: path("\(folder)/input_pixels.npy"))
        let values = try pixels.scalars(as: UInt8.self).map { Float($0) / 255 }
        return Tensor(shape: pixels.shape, scalars: values)
    }
}

/// max |actual - expected| / max |expected|, the metric of Converters/python/fixture_utils.py.
func relativeDifference(_ actual: [Float], _ expected: [Float]) -> Float {
    guard actual.count == expected.count else { return .infinity }
    let scale = expected.reduce(0) { max($0, abs($1)) }
    let difference = zip(actual, expected).reduce(0) { max($0, abs($1.0 - $1.1)) }
    return scale > 0 ? difference / scale : difference
}
