/// A structuring element as horizontal runs, one per kernel row: row `dy` (relative to the
/// anchor) covers column offsets `lower...upper`. Binary erosion and dilation by such an
/// element need only run sums, whatever its size.
struct MorphologyStructuringElement: Equatable {
    struct Run: Equatable {
        let dy: Int
        let lower: Int
        let upper: Int
    }

    let width: Int
    let height: Int
    let runs: [Run]

    /// `cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, height))` with its default centre
    /// anchor, by OpenCV's formula: row `i` spans `c +- round(c * sqrt((r^2 - dy^2) / r^2))`
    /// with `r = height / 2`, `c = width / 2`, `dy = i - r`, rounding half to even as cvRound.
    static func ellipse(width: Int, height: Int) -> MorphologyStructuringElement {
        let r = height / 2, c = width / 2
        let inverseSquare = r != 0 ? 1.0 / Double(r * r) : 0
        var runs: [Run] = []
        for i in 0..<height {
            let dy = i - r
            guard abs(dy) <= r else { continue }
            let dx = Int((Double(c) * (Double(r * r - dy * dy) * inverseSquare).squareRoot()).rounded(.toNearestOrEven))
            let j1 = max(c - dx, 0), j2 = min(c + dx + 1, width)
            if j1 < j2 { runs.append(Run(dy: dy, lower: j1 - c, upper: j2 - 1 - c)) }
        }
        return MorphologyStructuringElement(width: width, height: height, runs: runs)
    }

    /// The element as 0/1 rows (height x width), for tests and messages.
    var matrix: [[UInt8]] {
        var rows = [[UInt8]](repeating: [UInt8](repeating: 0, count: width), count: height)
        for run in runs {
            for dx in run.lower...run.upper { rows[run.dy + height / 2][dx + width / 2] = 1 }
        }
        return rows
    }
}
