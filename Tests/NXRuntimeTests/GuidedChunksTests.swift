import Testing

@testable import NXRuntime

@Suite struct GuidedChunksTests {
    /// Chunks cover every unit once, in order; sizes never grow and stay within the bounds
    /// (the last may be what is left); one thread gets one chunk unless capped; several
    /// threads get chunks that shrink to the minimum at the end.
    @Test(arguments: [
        (1, 1, 1, Int.max), (98, 1, 4, Int.max), (98, 2, 4, Int.max), (98, 2, 1, Int.max), (25, 2, 4, Int.max),
        (3, 4, 1, Int.max), (64, 2, 1, 5), (200, 3, 1, 7), (0, 2, 1, Int.max),
    ])
    func chunksCoverEveryUnit(_ units: Int, _ threads: Int, _ minimum: Int, _ maximum: Int) {
        let chunks = GuidedChunks(units: units, threads: threads, minimum: minimum, maximum: maximum)
        let ranges = (0..<chunks.count).map(chunks.range)
        #expect(ranges.flatMap(Array.init) == Array(0..<units))
        let sizes = ranges.map(\.count)
        #expect(zip(sizes, sizes.dropFirst()).allSatisfy { $0 >= $1 }, "\(sizes)")
        #expect(sizes.dropLast().allSatisfy { $0 >= minimum && $0 <= max(minimum, maximum) }, "\(sizes)")
        if threads == 1 && maximum >= units && units > 0 { #expect(sizes == [units]) }
        if threads > 1 && units >= 4 * threads * minimum {
            #expect(chunks.count >= 2 * threads && sizes.last! <= minimum, "\(sizes)")
        }
    }
}
