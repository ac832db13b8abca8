import Foundation
import Testing

/// The bundled default model (Models/Pretrained, model card in Models/README.md) through the
/// `nx` binary, as the README's main job and scripts/evaluate-heldout.sh use it: it finds a
/// plausible number of nuclei in the bundled H&E sample, and `nx evaluate` on the committed
/// held-out bands reproduces the scores recorded in the model card
/// (Tests/Fixtures/heldout/nx_evaluate.json), up to float rounding.
extension CLITests {
    static let bundledModel = "\(repositoryRoot)/Models/Pretrained/histonext_atto_cellseg.onnx"
    static let heldout = "\(repositoryRoot)/Tests/Fixtures/heldout"

    private func nucleusCount(_ folder: String) throws -> Int {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/nuclei.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try #require(json["nuc"] as? [String: Any], "\(folder)/nuclei.json has no nuc").count
    }

    @Test func bundledModelFindsNucleiInTheSample() throws {
        let out = try scratch()
        let run = try nx(["segment", "\(Self.repositoryRoot)/Tests/Fixtures/he/sample.png", "--model", Self.bundledModel,
                          "--out", "\(out)/sample", "--quiet"])
        #expect(run.status == 0, "\(run.errors)")
        // The trained model finds 22 here, the small dark nuclei (the large pale tumour
        // nuclei are unlike its training data: Models/README.md). Seeded weights find none,
        // and a broken post-processing would split the image into hundreds of fragments.
        let count = try nucleusCount("\(out)/sample")
        #expect((10...150).contains(count), "\(count) nuclei")
    }

    @Test func bundledModelReproducesTheRecordedHeldOutScores() throws {
        let out = try scratch()
        let names = try FileManager.default.contentsOfDirectory(atPath: "\(Self.heldout)/images").filter { $0.hasSuffix(".png") }.sorted()
        #expect(names.count == 3)
        for sub in ["instances", "types"] {
            try FileManager.default.createDirectory(atPath: "\(out)/pred/\(sub)", withIntermediateDirectories: true)
        }
        for name in names {
            let folder = "\(out)/\((name as NSString).deletingPathExtension)"
            let run = try nx(["segment", "\(Self.heldout)/images/\(name)", "--model", Self.bundledModel, "--out", folder, "--quiet"])
            #expect(run.status == 0, "\(name): \(run.errors)")
            for sub in ["instances", "types"] {
                try FileManager.default.copyItem(atPath: "\(folder)/\(sub).png", toPath: "\(out)/pred/\(sub)/\(name)")
            }
        }
        let evaluation = try nx([
            "evaluate", "--true", "\(Self.heldout)/instances", "--pred", "\(out)/pred/instances",
            "--true-types", "\(Self.heldout)/types", "--pred-types", "\(out)/pred/types", "--json",
        ])
        #expect(evaluation.status == 0, "\(evaluation.errors)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(evaluation.output.utf8)) as? [String: Any])
        let recordedData = try Data(contentsOf: URL(fileURLWithPath: "\(Self.heldout)/nx_evaluate.json"))
        let recorded = try #require(try JSONSerialization.jsonObject(with: recordedData) as? [String: Any])
        compare(report, recorded, path: "")
    }

    /// Numbers within 1e-9 (float rounding of the same computation), everything else equal.
    private func compare(_ a: Any, _ b: Any, path: String) {
        switch (a, b) {
        case let (x as [String: Any], y as [String: Any]):
            #expect(Set(x.keys) == Set(y.keys), "\(path): keys differ")
            for (key, value) in x { if let other = y[key] { compare(value, other, path: "\(path).\(key)") } }
        case let (x as [Any], y as [Any]):
            #expect(x.count == y.count, "\(path): \(x.count) vs \(y.count) entries")
            for (index, (u, v)) in zip(x, y).enumerated() { compare(u, v, path: "\(path)[\(index)]") }
        case let (x as NSNumber, y as NSNumber):
            #expect(abs(x.doubleValue - y.doubleValue) <= 1e-9, "\(path): \(x) vs recorded \(y)")
        case (is NSNull, is NSNull):
            break
        case let (x as String, y as String):
            #expect(x == y, "\(path): \(x) vs recorded \(y)")
        default:
            Issue.record("\(path): \(a) vs recorded \(b)")
        }
    }
}
