/// Assembles tile outputs into full-resolution maps one horizontal strip (row of tiles) at a
/// time, so only the strips still being filled are held at output resolution.
///
/// Each strip is `outputSize` rows of the global output grid (`TileLayout.gridWidth` wide)
/// per channel. When a strip is complete, every image row whose bilinear taps
/// (`BilinearTaps`) now lie in finished strips is written; a row near the strip's bottom
/// edge waits for the first grid row of the next strip, so one grid row of the previous strip
/// is kept for the rows that straddle a boundary.
final class StripStitcher {
    let layout: TileLayout
    let channels: Int
    private let columnTaps: BilinearTaps
    private let rowTaps: BilinearTaps
    private let outputSize: Int
    private let gridWidth: Int
    /// Grid values of strips being filled: channel-major, `channels * outputSize * gridWidth`.
    private var strips: [Int: [Float]] = [:]
    private var missingTiles: [Int: Int] = [:]
    /// The last grid row of the most recently finished strip, channel-major.
    private var carriedRow: [Float] = []
    private var nextStrip = 0
    private var nextImageRow = 0
    /// Full-resolution planes, one per channel.
    private(set) var planes: [[Float]]
    private(set) var peakStripsHeld = 0

    init(layout: TileLayout, channels: Int) {
        self.layout = layout
        self.channels = channels
        outputSize = layout.geometry.outputSize
        gridWidth = layout.gridWidth
        columnTaps = BilinearTaps(count: layout.width, gridCount: layout.gridWidth, stride: layout.geometry.outputStride)
        rowTaps = BilinearTaps(count: layout.height, gridCount: layout.gridHeight, stride: layout.geometry.outputStride)
        planes = Array(repeating: [Float](repeating: 0, count: layout.width * layout.height), count: channels)
    }

    var isComplete: Bool { nextImageRow == layout.height }

    /// Lets `write` put tile `tile`'s values into its strip: `write(buffer, rowStride,
    /// channelStride)` gets the address of the tile's (channel 0, output row 0, output
    /// column 0) and the strides to move by one output row and one channel. Finishes every
    /// image row that became computable.
    func place(_ tile: Tile, _ write: (UnsafeMutablePointer<Float>, Int, Int) -> Void) {
        let strip = tile.row
        if strips[strip] == nil {
            strips[strip] = [Float](repeating: 0, count: channels * outputSize * gridWidth)
            missingTiles[strip] = layout.columns
            peakStripsHeld = max(peakStripsHeld, strips.count)
        }
        strips[strip]!.withUnsafeMutableBufferPointer { buffer in
            write(buffer.baseAddress! + tile.column * outputSize, gridWidth, outputSize * gridWidth)
        }
        missingTiles[strip]! -= 1
        while let missing = missingTiles[nextStrip], missing == 0 { finishStrip() }
    }

    private func finishStrip() {
        let strip = nextStrip
        let firstGridRow = strip * outputSize
        let lastGridRow = firstGridRow + outputSize - 1
        let isLast = strip == layout.rows - 1
        let values = strips[strip]!
        let width = layout.width
        values.withUnsafeBufferPointer { values in
            carriedRow.withUnsafeBufferPointer { carried in
                // Grid row g of channel c, from this strip or the carried row above it.
                func gridRow(_ c: Int, _ g: Int) -> UnsafePointer<Float> {
                    if g >= firstGridRow { return values.baseAddress! + (c * outputSize + (g - firstGridRow)) * gridWidth }
                    precondition(g == firstGridRow - 1 && !carried.isEmpty, "grid row \(g) was dropped too early")
                    return carried.baseAddress! + c * gridWidth
                }
                while nextImageRow < layout.height && (isLast || rowTaps.upper[nextImageRow] <= lastGridRow) {
                    let y = nextImageRow
                    let wy = rowTaps.weight[y]
                    for c in 0..<channels {
                        let top = gridRow(c, rowTaps.lower[y]), bottom = gridRow(c, rowTaps.upper[y])
                        planes[c].withUnsafeMutableBufferPointer { plane in
                            let row = plane.baseAddress! + y * width
                            columnTaps.lower.withUnsafeBufferPointer { lower in
                                columnTaps.upper.withUnsafeBufferPointer { upper in
                                    columnTaps.weight.withUnsafeBufferPointer { weight in
                                        for x in 0..<width {
                                            let wx = weight[x]
                                            let upperValue = top[lower[x]] + wx * (top[upper[x]] - top[lower[x]])
                                            let lowerValue = bottom[lower[x]] + wx * (bottom[upper[x]] - bottom[lower[x]])
                                            row[x] = wy == 0 ? upperValue : upperValue + wy * (lowerValue - upperValue)
                                        }
                                    }
                                }
                            }
                        }
                    }
                    nextImageRow += 1
                }
            }
        }
        carriedRow = (0..<channels).flatMap { c in
            let start = (c * outputSize + outputSize - 1) * gridWidth
            return values[start..<(start + gridWidth)]
        }
        strips[strip] = nil
        missingTiles[strip] = nil
        nextStrip += 1
    }
}
