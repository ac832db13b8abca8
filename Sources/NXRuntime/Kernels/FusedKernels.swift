/// Registrations of this op family (one line per op).
enum FusedKernels {
    static let registrations: [KernelRegistration] = []
}
