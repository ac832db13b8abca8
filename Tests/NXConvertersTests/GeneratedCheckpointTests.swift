import Foundation
import NXFormat
import NXIR
import NXModels
import NXRuntime
import NXTestSupport
import Testing

@testable import NXConverters

/// Real timm variants (convnext_atto, convnext_tiny; random init, perturbed) as .pth and
/// safetensors, made by `make_checkpoint_fixtures.py --generated` (not committed: ~260 MB).
@Suite(.enabled(if: Fixtures.fileExists(Fixtures.generated("manifest.json")),
                "generated checkpoints absent: run Converters/python/make_checkpoint_fixtures.py --generated"))
struct GeneratedCheckpointTests {
    struct Entry: Decodable {
        let variant: String
        let pth: String
        let safetensors: String
        let input: String
        let logits: String
        let num_classes: Int
        /// "conv" (timm's conv_mlp=True, as for atto) or "linear".
        let mlp: String
    }

    private func entries() throws -> [Entry] {
        struct Manifest: Decodable { let models: [Entry] }
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.generated("manifest.json")))
        return try JSONDecoder().decode(Manifest.self, from: data).models
    }

    @Test func realVariantsReproduceTimmLogits() throws {
        let entries = try entries()
        #expect(entries.map(\.variant) == ["convnext_atto", "convnext_tiny"])
        for entry in entries {
            let input = try Npy.read(path: Fixtures.generated(entry.input))
            let expected = try Npy.read(path: Fixtures.generated(entry.logits)).floatValues()
            // Linear MLP weights are served through a reshape to 1x1 conv weights; conv ones as they are.
            let reshapes = entry.mlp == "linear" ? 2 * (try ConvNeXtConfig.named(entry.variant).depths.reduce(0, +)) : 0
            for file in [entry.pth, entry.safetensors] {
                let (model, report) = try ConvNeXtImport.model(
                    variant: entry.variant, head: .classifier(numClasses: entry.num_classes), weights: Fixtures.generated(file))
                #expect(report.isExact && report.reshaped.count == reshapes, "\(report)")
                let session = try Session(model: model, options: SessionOptions(threads: 2))
                let logits = try #require(try session.run(["input": input])["logits"])
                let difference = relativeDifference(try logits.floatValues(), expected)
                #expect(difference < 1e-4, "\(file): relative difference \(difference)")
            }
        }
    }
}
