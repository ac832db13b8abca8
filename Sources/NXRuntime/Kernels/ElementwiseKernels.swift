import NXIR

/// Registrations of the element-wise op family (one line per op and opset range). Kernels
/// live in `Kernels/Elementwise/`. Upper bounds are the newest opset (27 in onnx 1.22):
/// none of these ops changed semantics for our types after the lower bound.
enum ElementwiseKernels {
    private static let newest = 27
    private static let math: Set<DataType> = [.float32]
    private static let numeric: Set<DataType> = [.float32, .int32, .int64]

    static let registrations: [KernelRegistration] = [
        // Binary arithmetic with numpy broadcasting (opset 7 dropped the legacy `broadcast` attribute).
        KernelRegistration("Add", opsets: 7...newest, types: numeric) { _ in ArithmeticKernel(.add) },
        KernelRegistration("Sub", opsets: 7...newest, types: numeric) { _ in ArithmeticKernel(.sub) },
        KernelRegistration("Mul", opsets: 7...newest, types: numeric) { _ in ArithmeticKernel(.mul) },
        KernelRegistration("Div", opsets: 7...newest, types: numeric) { _ in ArithmeticKernel(.div) },
        KernelRegistration("Pow", opsets: 7...newest, types: numeric) { _ in PowKernel() },
        // Variadic; numpy broadcasting from 8, same-shape only in 6-7 (a special case).
        KernelRegistration("Min", opsets: 6...newest, types: numeric) { _ in ArithmeticKernel(.min) },
        KernelRegistration("Max", opsets: 6...newest, types: numeric) { _ in ArithmeticKernel(.max) },
        // Comparisons (bool output).
        KernelRegistration("Equal", opsets: 7...newest, types: numeric.union([.bool])) { _ in ComparisonKernel(.equal) },
        KernelRegistration("Less", opsets: 7...newest, types: numeric) { _ in ComparisonKernel(.less) },
        KernelRegistration("Greater", opsets: 7...newest, types: numeric) { _ in ComparisonKernel(.greater) },
        // Unary math.
        KernelRegistration("Sqrt", opsets: 6...newest, types: math) { try UnaryKernel("Sqrt", context: $0) },
        KernelRegistration("Reciprocal", opsets: 6...newest, types: math) { try UnaryKernel("Reciprocal", context: $0) },
        KernelRegistration("Neg", opsets: 6...newest, types: numeric) { try UnaryKernel("Neg", context: $0) },
        KernelRegistration("Abs", opsets: 6...newest, types: numeric) { try UnaryKernel("Abs", context: $0) },
        KernelRegistration("Exp", opsets: 6...newest, types: math) { try UnaryKernel("Exp", context: $0) },
        KernelRegistration("Log", opsets: 6...newest, types: math) { try UnaryKernel("Log", context: $0) },
        KernelRegistration("Erf", opsets: 9...newest, types: math) { try UnaryKernel("Erf", context: $0) },
        KernelRegistration("Tanh", opsets: 6...newest, types: math) { try UnaryKernel("Tanh", context: $0) },
        KernelRegistration("Sigmoid", opsets: 6...newest, types: math) { try UnaryKernel("Sigmoid", context: $0) },
        // Activations.
        KernelRegistration("Relu", opsets: 6...newest, types: math) { try UnaryKernel("Relu", context: $0) },
        KernelRegistration("LeakyRelu", opsets: 6...newest, types: math) { try UnaryKernel("LeakyRelu", context: $0) },
        KernelRegistration("HardSigmoid", opsets: 6...newest, types: math) { try UnaryKernel("HardSigmoid", context: $0) },
        KernelRegistration("HardSwish", opsets: 14...newest, types: math) { try UnaryKernel("HardSwish", context: $0) },
        KernelRegistration("Gelu", opsets: 20...newest, types: math) { try UnaryKernel("Gelu", context: $0) },
        // Clip: attributes min/max in 6-10, optional inputs from 11.
        KernelRegistration("Clip", opsets: 6...10, types: math) { try ClipKernel($0) },
        KernelRegistration("Clip", opsets: 11...newest, types: numeric) { try ClipKernel($0) },
        // Selection and conversion on any fixed-size type.
        KernelRegistration("Where", opsets: 9...newest, types: [.bool]) { _ in WhereKernel() },
        KernelRegistration("Cast", opsets: 6...newest) { try CastKernel($0) },
    ]
}
