import NXIR
import NXTestSupport
import Testing

@testable import NXConverters

/// Seeded random damage to the mini checkpoint: every mutant ends in a state dict or a thrown
/// error (never a crash or a hang). Two levels: the file's bytes (mostly caught by the zip
/// structure and data.pkl's CRC), and the pickle program itself re-zipped with a valid CRC,
/// so the unpickler and the tensor rebuilding see the damage.
@Suite struct CheckpointFuzzTests {
    private let original: [UInt8]

    init() throws { original = try Fixtures.bytes(Fixtures.checkpoint("mini_timm.pth")) }

    @Test func mutatedFilesEndInAValueOrAnError() throws {
        var generator = SeededRandom(seed: 0x5EED)
        var (read, failed) = (0, 0)
        for iteration in 0..<1000 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...3, using: &generator) { Mutation.apply(to: &bytes, using: &generator) }
            do {
                let state = try TorchCheckpoint.read(bytes: bytes, source: "mutant-\(iteration)")
                // Whatever was read must be self-consistent.
                for (name, tensor) in state { #expect(tensor.sizeProblem == nil, "mutant \(iteration) '\(name)'") }
                read += 1
            } catch let error as CheckpointError {
                #expect(error.path == "mutant-\(iteration)")
                failed += 1
            }
        }
        #expect(read + failed == 1000)
        #expect(failed > 0 && read > 0, "read \(read), failed \(failed): the mutations should do both")
    }

    @Test func mutatedPicklesEndInAValueOrAnError() throws {
        let entries = try ZipBuilder.entries(of: original)
        let pickleIndex = try #require(entries.firstIndex { $0.name.hasSuffix("data.pkl") })
        var generator = SeededRandom(seed: 0xF022)
        var (read, failed) = (0, 0)
        for iteration in 0..<1000 {
            var mutated = entries
            for _ in 0..<Int.random(in: 1...3, using: &generator) { Mutation.apply(to: &mutated[pickleIndex].data, using: &generator) }
            do {
                let state = try TorchCheckpoint.read(bytes: ZipBuilder.build(mutated), source: "pickle-\(iteration)")
                for (name, tensor) in state { #expect(tensor.sizeProblem == nil, "mutant \(iteration) '\(name)'") }
                read += 1
            } catch let error as CheckpointError {
                #expect(error.path == "pickle-\(iteration)")
                failed += 1
            }
        }
        #expect(read + failed == 1000)
        #expect(failed > 0 && read > 0, "read \(read), failed \(failed): the mutations should do both")
    }
}
