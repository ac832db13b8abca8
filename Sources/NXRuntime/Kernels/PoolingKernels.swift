/// Registrations of this op family (one line per op).
enum PoolingKernels {
    static let registrations: [KernelRegistration] = []
}
