/// Kernels for the ops the optimizer writes in the internal `ai.nx` domain: standard ops
/// made available at any opset (Gelu before 20, LayerNormalization before 17) and fusions.
/// (`ai.nx` LayerNormalizationChannels is registered with its family, Normalization.)
enum FusedKernels {
    static let registrations: [KernelRegistration] = [
        KernelRegistration("Gelu", domain: nxDomain, opsets: 1...1, types: [.float32]) { try UnaryKernel("Gelu", context: $0) },
        KernelRegistration("LayerNormalization", domain: nxDomain, opsets: 1...1, types: [.float32]) { try LayerNormalizationKernel($0) },
    ]
}
