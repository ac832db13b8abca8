/// Registrations of this op family (one line per op). Ranges end at 27, the newest opset
/// ONNX 1.22 defines: each op's newest version still holds there.
enum PoolingKernels {
    static let registrations: [KernelRegistration] = [
        KernelRegistration("MaxPool", opsets: 1...27, types: [.float32]) { try MaxPoolKernel($0) },
        KernelRegistration("AveragePool", opsets: 1...27, types: [.float32]) { try AveragePoolKernel($0) },
        KernelRegistration("GlobalAveragePool", opsets: 1...27, types: [.float32]) { _ in GlobalPoolKernel(.average) },
        KernelRegistration("GlobalMaxPool", opsets: 1...27, types: [.float32]) { _ in GlobalPoolKernel(.maximum) },
    ]
}
