/// HoVer-Net's type of an instance from the TP argmax counts of its pixels: the most frequent
/// type, ties to the smaller id (np.unique's ascending order under a stable sort by count),
/// except that background (0) loses to any other type present ("pick the 2nd most dominant").
/// The probability is the winner's count / (pixel count + 1e-6), as `type_prob`.
enum InstanceTypeVote {
    static func vote(counts: UnsafeBufferPointer<Int>, pixelCount: Int) -> (type: Int, probability: Double) {
        var winner = 0
        for type in 1..<max(counts.count, 1) where counts[type] > 0 && (winner == 0 || counts[type] > counts[winner]) {
            winner = type
        }
        let votes = counts.isEmpty ? 0 : counts[winner]
        return (winner, Double(votes) / (Double(pixelCount) + 1.0e-6))
    }
}
