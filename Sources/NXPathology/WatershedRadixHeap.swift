/// A monotone priority queue (a radix heap) over the watershed's (value, age) keys: pops in
/// ascending order, as long as no item pushed is smaller than the last one popped. That holds
/// for the flood with costs raised to the source's: a pixel queued by the one just popped
/// costs at least as much and is younger than everything queued.
///
/// An item goes to the bucket of the highest bit in which its key differs from the last key
/// popped; a pop takes bucket 0 (keys equal to the last) or else empties the lowest
/// non-empty bucket, whose minimum becomes the last key and whose other items all move to
/// lower buckets. Each item moves only downwards, so a push and a pop cost O(1) amortised
/// plus a few moves, against the binary heap's log n sift with a hard-to-predict branch per
/// level.
struct WatershedRadixHeap: ~Copyable {
    /// The key as one 96-bit number: the value's order-preserving bits, then the age.
    private struct Entry {
        var value: UInt64
        var age: UInt32
        var index: Int32
    }

    /// 64 value bits, 32 age bits, plus bucket 0 for a key equal to the last.
    private static let bucketCount = 97
    private let buckets: UnsafeMutablePointer<UnsafeMutablePointer<Entry>?>
    private let counts: UnsafeMutablePointer<Int>
    private let capacities: UnsafeMutablePointer<Int>
    /// Bit b set when bucket b holds an item (buckets 0-63, then 64-96).
    private var occupiedLow: UInt64 = 0
    private var occupiedHigh: UInt64 = 0
    private var lastValue: UInt64
    private var lastAge: UInt32
    private(set) var count = 0

    /// A queue whose items will all be at least `floor` (the last item popped before it).
    init(floor: WatershedHeap.Item) {
        buckets = .allocate(capacity: Self.bucketCount)
        buckets.initialize(repeating: nil, count: Self.bucketCount)
        counts = .allocate(capacity: Self.bucketCount)
        counts.initialize(repeating: 0, count: Self.bucketCount)
        capacities = .allocate(capacity: Self.bucketCount)
        capacities.initialize(repeating: 0, count: Self.bucketCount)
        lastValue = Self.orderedBits(floor.value)
        lastAge = UInt32(bitPattern: floor.age)
    }

    deinit {
        for bucket in 0..<Self.bucketCount { buckets[bucket]?.deallocate() }
        buckets.deallocate()
        counts.deallocate()
        capacities.deallocate()
    }

    /// `item` must not be smaller than the last item popped (or the floor).
    @inline(__always)
    mutating func push(_ item: WatershedHeap.Item) {
        let entry = Entry(value: Self.orderedBits(item.value), age: UInt32(bitPattern: item.age), index: item.index)
        precondition(
            entry.value > lastValue || (entry.value == lastValue && entry.age >= lastAge),
            "watershed radix heap: a push below the last key popped")
        append(entry, to: bucket(of: entry))
        count += 1
    }

    @inline(__always)
    mutating func pop() -> WatershedHeap.Item? {
        guard count > 0 else { return nil }
        if counts[0] == 0 { refillBucketZero() }
        counts[0] -= 1
        if counts[0] == 0 { occupiedLow &= ~1 }
        count -= 1
        let entry = buckets[0]![counts[0]]
        return WatershedHeap.Item(value: Self.value(entry.value), age: Int32(bitPattern: entry.age), index: entry.index)
    }

    /// Empties the lowest non-empty bucket: its minimum becomes the last key, and every item
    /// in it moves to the bucket its difference from that key now gives (all lower).
    private mutating func refillBucketZero() {
        let source = occupiedLow != 0 ? occupiedLow.trailingZeroBitCount : 64 + occupiedHigh.trailingZeroBitCount
        let entries = buckets[source]!
        let n = counts[source]
        var smallest = entries[0]
        for i in 1..<max(n, 1) {
            let entry = entries[i]
            if entry.value < smallest.value || (entry.value == smallest.value && entry.age < smallest.age) { smallest = entry }
        }
        lastValue = smallest.value
        lastAge = smallest.age
        counts[source] = 0
        if source < 64 { occupiedLow &= ~(1 << UInt64(source)) } else { occupiedHigh &= ~(1 << UInt64(source - 64)) }
        for i in 0..<n { append(entries[i], to: bucket(of: entries[i])) }
    }

    @inline(__always)
    private func bucket(of entry: Entry) -> Int {
        let high = entry.value ^ lastValue
        if high != 0 { return 96 - high.leadingZeroBitCount }
        return 32 - (entry.age ^ lastAge).leadingZeroBitCount
    }

    @inline(__always)
    private mutating func append(_ entry: Entry, to bucket: Int) {
        if counts[bucket] == capacities[bucket] { grow(bucket) }
        buckets[bucket]![counts[bucket]] = entry
        counts[bucket] += 1
        if bucket < 64 { occupiedLow |= 1 << UInt64(bucket) } else { occupiedHigh |= 1 << UInt64(bucket - 64) }
    }

    private func grow(_ bucket: Int) {
        let capacity = max(64, 2 * capacities[bucket])
        let grown = UnsafeMutablePointer<Entry>.allocate(capacity: capacity)
        if let old = buckets[bucket] {
            grown.update(from: old, count: counts[bucket])
            old.deallocate()
        }
        buckets[bucket] = grown
        capacities[bucket] = capacity
    }

    /// Bits that order as the doubles do (-0 and +0 alike, as `<` sees them).
    @inline(__always)
    private static func orderedBits(_ value: Double) -> UInt64 {
        let bits = (value == 0 ? 0 : value).bitPattern
        return bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
    }

    @inline(__always)
    private static func value(_ ordered: UInt64) -> Double {
        Double(bitPattern: ordered & (1 << 63) != 0 ? ordered & ~(1 << 63) : ~ordered)
    }
}
