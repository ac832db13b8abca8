import NXIR

/// Registrations of the shape and data-movement family (one line per op and opset range).
/// These ops move bytes, so they take every fixed-size element type (Resize: float32).
enum ShapeKernels {
    private static let any = ShapeSupport.fixedSizeTypes

    static let registrations: [KernelRegistration] = [
        KernelRegistration("Concat", opsets: 1...27, types: any) { try ConcatKernel($0) },
        KernelRegistration("Slice", opsets: 1...27, types: any) { try SliceKernel($0) },
        KernelRegistration("Split", opsets: 1...27, types: any) { try SplitKernel($0) },
        KernelRegistration("Transpose", opsets: 1...27, types: any) { try TransposeKernel($0) },
        KernelRegistration("Reshape", opsets: 1...27, types: any) { try ReshapeKernel($0) },
        KernelRegistration("Flatten", opsets: 1...27, types: any) { try FlattenKernel($0) },
        KernelRegistration("Squeeze", opsets: 1...27, types: any) { try SqueezeKernel($0) },
        KernelRegistration("Unsqueeze", opsets: 1...27, types: any) { try UnsqueezeKernel($0) },
        KernelRegistration("Expand", opsets: 8...27, types: any) { try ExpandKernel($0) },
        KernelRegistration("Identity", opsets: 1...27, types: any) { try IdentityKernel($0) },
        KernelRegistration("Constant", opsets: 1...27) { try ConstantKernel($0) },
        KernelRegistration("ConstantOfShape", opsets: 9...27, types: [.int64]) { try ConstantOfShapeKernel($0) },
        KernelRegistration("Shape", opsets: 1...27, types: any) { try ShapeKernel($0) },
        KernelRegistration("Gather", opsets: 1...27, types: any) { try GatherKernel($0) },
        KernelRegistration("Pad", opsets: 1...27, types: any) { try PadKernel($0) },
        KernelRegistration("Resize", opsets: 10...27, types: [.float32]) { try ResizeKernel($0) },
        KernelRegistration("Dropout", opsets: 1...27, types: any) { try DropoutKernel($0) },
        KernelRegistration("ChannelBlockReorder", domain: nxDomain, opsets: 1...1, types: [.float32]) {
            try ChannelBlockReorderKernel($0)
        },
    ]
}
