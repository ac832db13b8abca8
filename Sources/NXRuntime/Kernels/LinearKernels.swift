/// Registrations of this op family (one line per op).
enum LinearKernels {
    static let registrations: [KernelRegistration] = []
}
