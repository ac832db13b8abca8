/// Registrations of this op family (one line per op). Ranges end at 27, the newest opset
/// ONNX 1.22 defines: each op's newest version still holds there.
enum LinearKernels {
    static let registrations: [KernelRegistration] = [
        KernelRegistration("Conv", opsets: 1...27, types: [.float32]) { try ConvKernel($0) },
        KernelRegistration("ConvTranspose", opsets: 1...27, types: [.float32]) { try ConvTransposeKernel($0) },
        KernelRegistration("MatMul", opsets: 1...27, types: [.float32]) { try MatMulKernel($0) },
        KernelRegistration("Gemm", opsets: 6...27, types: [.float32]) { try GemmKernel($0) },
    ]
}
