/// Every kernel the runtime ships, gathered from the op families. Adding an op means one
/// kernel file and one line in its family's `registrations`.
enum StandardKernels {
    static var all: [KernelRegistration] {
        ElementwiseKernels.registrations + ShapeKernels.registrations + LinearKernels.registrations
            + PoolingKernels.registrations + NormalizationKernels.registrations + FusedKernels.registrations
    }
}
