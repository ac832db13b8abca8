import Testing

@testable import NXRuntime

/// ZeroPaddedCopy into a buffer left dirty by earlier use: every float of every plane and of
/// the slack is either the input (inside) or zero (border), since only the border is written
/// with zeros now.
@Suite struct ZeroPaddedCopyTests {
    /// Pads on every side or none, the input cut off by the padded extent (right, bottom),
    /// one-row and one-column images, and an input no row of which lands inside.
    @Test(arguments: [
        (5, 7, 1, 1, 7, 9), (5, 7, 0, 0, 5, 7), (4, 6, 2, 3, 9, 12), (6, 8, 1, 1, 5, 6), (1, 1, 1, 1, 3, 3),
        (1, 9, 0, 2, 2, 12), (3, 3, 4, 0, 4, 5),
    ])
    func bordersAreZeroAndInsideIsTheInput(
        _ height: Int, _ width: Int, _ top: Int, _ left: Int, _ paddedHeight: Int, _ paddedWidth: Int
    ) {
        let channels = 3, slack = 5, plane = paddedHeight * paddedWidth
        let input = (0..<(channels * height * width)).map { Float($0 + 1) }
        var padded = [Float](repeating: .nan, count: channels * plane + slack)
        for threads in [1, 2] {
            for index in padded.indices { padded[index] = .nan }
            input.withUnsafeBufferPointer { x in
                padded.withUnsafeMutableBufferPointer { out in
                    ZeroPaddedCopy.copy(
                        x.baseAddress!, channels: channels, height: height, width: width, top: top, left: left,
                        paddedHeight: paddedHeight, paddedWidth: paddedWidth, slack: slack, into: out.baseAddress!,
                        inputActivation: nil, firstChannel: 0, context: ExecutionContext(threads: threads, pool: BufferPool()))
                }
            }
            for c in 0..<channels {
                for row in 0..<paddedHeight {
                    for column in 0..<paddedWidth {
                        let (y, x) = (row - top, column - left)
                        let expected = y >= 0 && y < height && x >= 0 && x < width ? input[(c * height + y) * width + x] : 0
                        #expect(padded[c * plane + row * paddedWidth + column] == expected, "channel \(c) (\(row), \(column))")
                    }
                }
            }
            #expect(padded[(channels * plane)...].allSatisfy { $0 == 0 }, "slack")
        }
    }
}
