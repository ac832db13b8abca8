#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NXIR
import Synchronization

/// The buffers of a recording run (a signature's first run), carved first-fit from one
/// reserved address range, so that a freed buffer's pages serve the next requests.
///
/// Why: the pool maps a buffer per size it has not seen and trims its idle ones on a miss,
/// so a first run mapped nearly every tensor afresh: HistoNeXt-T at batch 2 mapped 680 MB
/// (about 170k page faults, each page cleared) for a run whose buffers peak near 80 MB,
/// and its first run took 0.25-0.35 s longer than the next ones. Here the pages touched
/// are about the peak of the live buffers. Only touched pages cost memory: the range is
/// reserved without backing, and unmapped when the last buffer carved from it is freed.
final class RecordingHeap: Sendable {
    /// Address space reserved per recording; requests past it fall back to the pool.
    static let reservation = 1 << 36

    private struct Region: @unchecked Sendable { let base: UnsafeMutableRawPointer }
    private struct State {
        /// Free byte ranges, sorted, disjoint and not adjacent.
        var free: [Range<Int>]
        var highWater = 0
    }
    private let region: Region
    private let size: Int
    private let state: Mutex<State>

    /// Nil when the address space cannot be reserved (a strict overcommit policy or an
    /// address-space limit): the caller uses the pool.
    init?(reserving size: Int = RecordingHeap.reservation) {
        let address = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let address, address != MAP_FAILED else { return nil }
        region = Region(base: address)
        self.size = size
        state = Mutex(State(free: [0..<size]))
    }

    deinit { munmap(region.base, size) }

    /// Storage of `count` bytes carved from the range (in 64-byte slots, as the arena's), or
    /// nil when no free range is large enough. The storage keeps the heap alive until it is
    /// freed, after `released` has seen it.
    func storage(byteCount count: Int, released: @escaping @Sendable (UnsafeMutableRawBufferPointer) -> Void) -> TensorStorage? {
        let slot = MemoryPlan.slotSize(count)
        let offset: Int? = state.withLock { state in
            guard let index = state.free.firstIndex(where: { $0.count >= slot }) else { return nil }
            let range = state.free[index]
            if range.count == slot { state.free.remove(at: index) } else { state.free[index] = (range.lowerBound + slot)..<range.upperBound }
            state.highWater = max(state.highWater, range.lowerBound + slot)
            return range.lowerBound
        }
        guard let offset else { return nil }
        let memory = UnsafeMutableRawBufferPointer(start: region.base + offset, count: slot)
        return TensorStorage(lending: memory, count: count) { [self] memory in
            released(memory)
            release(offset..<(offset + slot))
        }
    }

    /// Bytes from the start of the range to the end of the furthest buffer carved so far:
    /// the pages a run touched.
    var highWater: Int { state.withLock { $0.highWater } }

    /// Gives back to the OS the touched pages that no live buffer uses (they read as zeros
    /// if touched again): once the recording is over only its outputs are alive, and a
    /// caller keeping them would otherwise keep every page the run touched.
    func releaseUnusedPages() {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        state.withLock { state in
            for range in state.free where range.lowerBound < state.highWater {
                let start = (range.lowerBound + page - 1) / page * page
                let end = min(range.upperBound, state.highWater) / page * page
                if end > start { _ = madvise(region.base + start, end - start, MADV_DONTNEED) }
            }
        }
    }

    private func release(_ range: Range<Int>) {
        state.withLock { state in
            // Insert in order, then merge with the neighbours it touches.
            var index = state.free.firstIndex { $0.lowerBound > range.lowerBound } ?? state.free.count
            var merged = range
            if index < state.free.count, state.free[index].lowerBound == merged.upperBound {
                merged = merged.lowerBound..<state.free[index].upperBound
                state.free.remove(at: index)
            }
            if index > 0, state.free[index - 1].upperBound == merged.lowerBound {
                merged = state.free[index - 1].lowerBound..<merged.upperBound
                state.free.remove(at: index - 1)
                index -= 1
            }
            state.free.insert(merged, at: index)
        }
    }
}
