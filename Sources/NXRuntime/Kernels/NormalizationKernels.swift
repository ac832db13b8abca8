/// Registrations of this op family (one line per op).
enum NormalizationKernels {
    static let registrations: [KernelRegistration] = [
        KernelRegistration("LayerNormalization", opsets: 17...27, types: [.float32]) { try LayerNormalizationKernel($0) },
        KernelRegistration("LayerNormalizationChannels", domain: "ai.nx", opsets: 1...1, types: [.float32]) {
            try LayerNormalizationChannelsKernel($0)
        },
        KernelRegistration("BatchNormalization", opsets: 7...27, types: [.float32]) { try BatchNormalizationKernel($0) },
        KernelRegistration("InstanceNormalization", opsets: 6...27, types: [.float32]) { try InstanceNormalizationKernel($0) },
        // Before 13 both coerce the input to 2-D at `axis`; from 13 they work along one axis.
        KernelRegistration("Softmax", opsets: 1...12, types: [.float32]) { try SoftmaxKernel($0, logarithmic: false) },
        KernelRegistration("Softmax", opsets: 13...27, types: [.float32]) { try SoftmaxKernel($0, logarithmic: false) },
        KernelRegistration("LogSoftmax", opsets: 1...12, types: [.float32]) { try SoftmaxKernel($0, logarithmic: true) },
        KernelRegistration("LogSoftmax", opsets: 13...27, types: [.float32]) { try SoftmaxKernel($0, logarithmic: true) },
        // Axes: attribute before 13 (ReduceSum) / 18 (ReduceMean, ReduceMax), optional input after.
        KernelRegistration("ReduceSum", opsets: 1...12, types: [.float32, .int32, .int64]) {
            try ReduceKernel($0, operation: .sum, axesInputFrom: 13)
        },
        KernelRegistration("ReduceSum", opsets: 13...27, types: [.float32, .int32, .int64]) {
            try ReduceKernel($0, operation: .sum, axesInputFrom: 13)
        },
        KernelRegistration("ReduceMean", opsets: 1...17, types: [.float32, .int32, .int64]) {
            try ReduceKernel($0, operation: .mean, axesInputFrom: 18)
        },
        KernelRegistration("ReduceMean", opsets: 18...27, types: [.float32, .int32, .int64]) {
            try ReduceKernel($0, operation: .mean, axesInputFrom: 18)
        },
        KernelRegistration("ReduceMax", opsets: 1...17, types: [.float32, .int32, .int64]) {
            try ReduceKernel($0, operation: .max, axesInputFrom: 18)
        },
        KernelRegistration("ReduceMax", opsets: 18...27, types: [.float32, .int32, .int64, .bool]) {
            try ReduceKernel($0, operation: .max, axesInputFrom: 18)
        },
    ]
}
