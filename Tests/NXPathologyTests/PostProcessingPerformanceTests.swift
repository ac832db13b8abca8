import Foundation
import Testing

@testable import NXPathology

/// Post-processing of a 1000x1000 tile with about a thousand nuclei: correct, and (in a
/// release build) well under a second. Opt-in with NX_POSTPROCESSING_BENCH=1, because a
/// timing on a shared machine or in a debug build says little:
///   NX_POSTPROCESSING_BENCH=1 swift test -c release --filter PostProcessingPerformance
@Suite struct PostProcessingPerformanceTests {
    static let enabled = ProcessInfo.processInfo.environment["NX_POSTPROCESSING_BENCH"] != nil

    /// NP and HV maps of discs of radius 11 on a 30-pixel grid, offset every other row so
    /// neighbours touch diagonally, with HoVer-Net-style HV targets (offset / radius).
    static func tile(size: Int) -> (np: [Float], hv: [Float], nuclei: Int) {
        var np = [Float](repeating: 0.05, count: size * size)
        var hv = [Float](repeating: 0, count: 2 * size * size)
        var nuclei = 0
        let radius = 11, spacing = 30
        for (row, cy) in stride(from: 15, to: size - 15, by: spacing).enumerated() {
            for cx in stride(from: 15 + (row % 2) * spacing / 2, to: size - 15, by: spacing) {
                nuclei += 1
                for dy in -radius...radius {
                    for dx in -radius...radius where dx * dx + dy * dy <= radius * radius {
                        let index = (cy + dy) * size + cx + dx
                        np[index] = 0.95
                        hv[index] = Float(dx) / Float(radius)
                        hv[size * size + index] = Float(dy) / Float(radius)
                    }
                }
            }
        }
        return (np, hv, nuclei)
    }

    @Test("a 1000x1000 tile post-processes correctly and fast", .enabled(if: enabled, "set NX_POSTPROCESSING_BENCH=1"))
    func largeTile() throws {
        let size = 1000
        let (np, hv, nuclei) = Self.tile(size: size)
        let processor = PostProcessor()
        let clock = ContinuousClock()
        var map: InstanceMap? = nil
        var best = Duration.seconds(1000)
        for _ in 0..<3 {
            let elapsed = try clock.measure { map = try processor.instances(np: np, hv: hv, width: size, height: size) }
            best = min(best, elapsed)
        }
        let recordsTime = try clock.measure { _ = try processor.instanceRecords(labels: map!) }
        print("post-processing \(size)x\(size), \(nuclei) nuclei: instances \(best), records \(recordsTime)")
        #expect(map!.instanceCount == nuclei)
        #if !DEBUG
            #expect(best < .seconds(1))
        #endif
    }
}
