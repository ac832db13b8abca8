import Synchronization

/// Scratch memory for work inside parallel loops (a GEMM's packed panels, a conv's tile
/// buffers), kept for the life of the process and reused.
///
/// Why not `ExecutionContext.allocate`: buffers requested from worker threads arrive in a
/// different order each run, so the memory plan cannot place them and they went to the pool,
/// which maps and unmaps large buffers: every run paid a page fault per 4 KiB of scratch.
/// Here a buffer is taken and given back around one piece of work; the pool holds at most
/// what the threads used at once, and nothing is returned to the OS.
final class ScratchPool: Sendable {
    static let shared = ScratchPool()

    private struct Buffer: @unchecked Sendable { let memory: UnsafeMutableRawBufferPointer }
    private let free = Mutex<[Buffer]>([])

    /// Runs `body` with at least `count` floats of uninitialized, 64-byte aligned memory.
    func withFloats<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let taken: Buffer? = free.withLock { buffers in
            // The smallest buffer that fits, so large ones stay for large requests.
            guard let index = buffers.indices.filter({ buffers[$0].memory.count >= bytes })
                .min(by: { buffers[$0].memory.count < buffers[$1].memory.count })
            else { return nil }
            return buffers.remove(at: index)
        }
        let buffer = taken ?? Buffer(memory: .allocate(byteCount: bytes, alignment: 64))
        defer { free.withLock { $0.append(buffer) } }
        return try body(buffer.memory.baseAddress!.assumingMemoryBound(to: Float.self))
    }
}
