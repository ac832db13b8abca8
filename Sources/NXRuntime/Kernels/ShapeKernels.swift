/// Registrations of this op family (one line per op).
enum ShapeKernels {
    static let registrations: [KernelRegistration] = []
}
