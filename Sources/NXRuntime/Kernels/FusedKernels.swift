/// Kernels for the ops the optimizer writes in the internal `ai.nx` domain: standard ops
/// made available at any opset (Gelu before 20, LayerNormalization before 17) and fusions.
/// (`ai.nx` LayerNormalizationChannels is registered with its family, Normalization.)
enum FusedKernels {
    static let registrations: [KernelRegistration] = [
        KernelRegistration("Gelu", domain: nxDomain, opsets: 1...1, types: [.float32]) { try UnaryKernel("Gelu", context: $0) },
        KernelRegistration("LayerNormalization", domain: nxDomain, opsets: 1...1, types: [.float32]) { try LayerNormalizationKernel($0) },
        KernelRegistration("FusedConv", domain: nxDomain, opsets: 1...1, types: [.float32]) {
            try EpilogueFusion.conv($0)
        },
        KernelRegistration("FusedGemm", domain: nxDomain, opsets: 1...1, types: [.float32]) {
            try EpilogueFusion.kernel($0, innerOp: "Gemm") { try GemmKernel($0) }
        },
        KernelRegistration("FusedMatMul", domain: nxDomain, opsets: 1...1, types: [.float32]) {
            try EpilogueFusion.matMul($0)
        },
    ]
}
