/// Registrations of this op family (one line per op).
enum ElementwiseKernels {
    static let registrations: [KernelRegistration] = []
}
