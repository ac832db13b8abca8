/// Registrations of this op family (one line per op).
enum NormalizationKernels {
    static let registrations: [KernelRegistration] = []
}
