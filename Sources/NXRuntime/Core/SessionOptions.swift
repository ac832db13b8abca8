import Foundation

/// How a session loads and runs a model.
public struct SessionOptions: Sendable {
    /// Threads for our kernels and for OpenBLAS (default: every core).
    public var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    /// Run the optimizer passes at load.
    public var optimize = true
    /// Pass names to skip (see `Optimizer.defaultPasses`), to compare outputs pass by pass.
    public var disabledPasses: Set<String> = []
    /// Time every node; read the table from `Session.profile`.
    public var profile = false
    /// Plan each input shape's buffers into one arena after its first run (see
    /// `MemoryPlanner`); off, every buffer comes from the pool.
    public var planMemory = true

    public init(
        threads: Int? = nil, optimize: Bool = true, disabledPasses: Set<String> = [], profile: Bool = false,
        planMemory: Bool = true
    ) {
        if let threads { self.threads = max(1, threads) }
        self.optimize = optimize
        self.disabledPasses = disabledPasses
        self.profile = profile
        self.planMemory = planMemory
    }
}
