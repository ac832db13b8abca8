import Foundation
import NXTestSupport
import Testing
import NXIR
@testable import NXFormat

/// Bounded fuzzing with a fixed seed: each mutation of a valid model must end in a model
/// (which validation then inspects) or a thrown error. A crash fails the whole run.
@Suite struct ONNXFuzzTests {
    @Test func mutatedModelsNeverCrash() throws {
        let valid = try ONNXWriter.serialize(everyFeatureModel())
        var generator = SeededRandom(seed: 2026)
        var decoded = 0
        var rejected = 0
        for _ in 0..<3000 {
            var bytes = [UInt8](valid)
            Mutation.apply(to: &bytes, using: &generator)
            do {
                let model = try ONNXReader.read(data: Data(bytes), source: "fuzz")
                _ = model.validate()
                decoded += 1
            } catch is FormatError {
                rejected += 1
            }
        }
        // Both outcomes must occur, or the mutations are not exercising the reader.
        #expect(decoded > 100 && rejected > 100, "decoded \(decoded), rejected \(rejected)")
    }
}
