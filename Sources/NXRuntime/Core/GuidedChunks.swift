/// Work units cut into consecutive chunks for threads to claim one at a time
/// (`ExecutionContext.parallelForEach`), guided: each chunk is a share of what is left
/// (remaining / (2 x threads)) within `minimum...maximum` units, so chunks shrink towards
/// the end and the thread that finishes first waits at most about one small chunk for the
/// other. Fixed halves waited for the slower core whenever this VM's host slowed one of the
/// two (measured: one core 25% slower than the other for seconds at a time).
struct GuidedChunks {
    /// Where each chunk starts, then the unit count.
    let bounds: [Int]
    var count: Int { bounds.count - 1 }
    func range(_ chunk: Int) -> Range<Int> { bounds[chunk]..<bounds[chunk + 1] }

    init(units: Int, threads: Int, minimum: Int = 1, maximum: Int = .max) {
        var bounds = [0]
        var start = 0
        while start < units {
            let remaining = units - start
            let share = threads > 1 ? (remaining + 2 * threads - 1) / (2 * threads) : remaining
            start += min(remaining, max(1, minimum, min(maximum, share)))
            bounds.append(start)
        }
        self.bounds = bounds
    }
}
