/// scikit-image's watershed priority queue (segmentation/heap_general.pxi with the
/// heap_watershed.pxi ordering), operation for operation: a binary min-heap ordered by value,
/// then by age. Copying its exact sift-up and sift-down matters: markers all enter with age 0,
/// so among equal-valued markers the pop order is whatever this heap's mechanics give, and a
/// textbook heap with different tie handling would flood plateaus differently.
/// Storage is one fixed allocation (the caller bounds the number of items), so pushes and
/// pops never allocate or check uniqueness.
struct WatershedHeap: ~Copyable {
    struct Item {
        var value: Double
        var age: Int32
        var index: Int32
    }

    private let storage: UnsafeMutablePointer<Item>
    private let capacity: Int
    private(set) var count = 0

    /// Room for `capacity` items at once.
    init(capacity: Int) {
        self.capacity = max(capacity, 1)
        storage = .allocate(capacity: self.capacity)
    }

    deinit { storage.deallocate() }

    var isEmpty: Bool { count == 0 }

    @inline(__always)
    private static func smaller(_ a: Item, _ b: Item) -> Bool {
        if a.value != b.value { return a.value < b.value }
        return a.age < b.age
    }

    /// `heappush`: append, then swap with the parent while strictly smaller.
    @inline(__always)
    mutating func push(_ item: Item) {
        precondition(count < capacity, "watershed heap overflow")
        var child = count
        count += 1
        // Moving the parent down instead of swapping gives the same layout with fewer writes.
        while child > 0 {
            let parent = (child + 1) / 2 - 1
            guard Self.smaller(item, storage[parent]) else { break }
            storage[child] = storage[parent]
            child = parent
        }
        storage[child] = item
    }

    /// `heappop`: take the root, move the last item to the root, and sift it down, preferring
    /// the left child unless the right one is strictly smaller.
    @inline(__always)
    mutating func pop() -> Item? {
        guard count > 0 else { return nil }
        let root = storage[0]
        count -= 1
        guard count > 0 else { return root }
        let last = storage[count]
        var i = 0
        while true {
            let left = 2 * i + 1, right = left + 1
            guard left < count else { break }
            var smallest = i
            var smallestItem = last
            if Self.smaller(storage[left], last) {
                smallest = left
                smallestItem = storage[left]
            }
            if right < count && Self.smaller(storage[right], smallestItem) { smallest = right }
            if smallest == i { break }
            storage[i] = storage[smallest]
            i = smallest
        }
        storage[i] = last
        return root
    }
}
