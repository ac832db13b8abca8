import NXIR

/// PyTorch `nn` layers as graph fragments, with torch's parameter names and torch's default
/// initialisation (what a module gets when its model does not re-initialise it).
///
/// torch initialises Conv2d and ConvTranspose2d weights with kaiming_uniform(a = sqrt 5),
/// which is U(+-1/sqrt(fan_in)), and biases with the same bound. `fan_in` is
/// `weight.size(1) * kh * kw` for both: in/groups for Conv2d, but out/groups for
/// ConvTranspose2d, whose weight is [in, out/groups, kh, kw].

/// The uniform bound of torch's default init for a weight of `shape`.
func torchDefaultBound(_ shape: [Int]) -> Float {
    let fanIn = shape.dropFirst().reduce(1, *)
    return 1 / Float(fanIn).squareRoot()
}

/// nn.Conv2d: "<name>.weight" [out, in/group, k, k], "<name>.bias" [out] when `bias`.
func torchConv2d(
    _ b: GraphBuilder, _ x: Value, _ name: String, out: Int, in channels: Int, kernel: Int, padding: Int = 0,
    group: Int = 1, bias: Bool, parameters: inout some ParameterSource
) throws -> Value {
    try b.scoped(name) {
        let shape = [out, channels / group, kernel, kernel]
        let bound = torchDefaultBound(shape)
        let weight = b.initializer("weight", try parameters.parameter(b.qualified("weight"), shape: shape, initializer: .uniform(bound: bound)))
        let biasValue = bias
            ? b.initializer("bias", try parameters.parameter(b.qualified("bias"), shape: [out], initializer: .uniform(bound: bound)))
            : nil
        return b.conv(x, weight, bias: biasValue, strides: [1, 1], pads: [padding, padding, padding, padding], group: group)
    }
}

/// nn.ConvTranspose2d without bias, padding 0: "<name>.weight" [in, out, k, k]; size n -> (n-1)·stride + k.
func torchConvTranspose2d(
    _ b: GraphBuilder, _ x: Value, _ name: String, out: Int, in channels: Int, kernel: Int, stride: Int,
    parameters: inout some ParameterSource
) throws -> Value {
    try b.scoped(name) {
        let shape = [channels, out, kernel, kernel]
        let weight = b.initializer("weight", try parameters.parameter(
            b.qualified("weight"), shape: shape, initializer: .uniform(bound: torchDefaultBound(shape))))
        return b.convTranspose(x, weight, strides: [stride, stride], pads: [0, 0, 0, 0])
    }
}

/// nn.BatchNorm2d in eval mode (running statistics): "<name>.weight", ".bias", ".running_mean",
/// ".running_var", all [C], initialised 1, 0, 0, 1 as torch does. `num_batches_tracked` only
/// matters for training and is not part of the graph.
func batchNorm2d(
    _ b: GraphBuilder, _ x: Value, _ name: String, channels: Int, epsilon: Float = 1e-5, parameters: inout some ParameterSource
) throws -> Value {
    try b.scoped(name) {
        func tensor(_ leaf: String, _ initializer: ParameterInit) throws -> Value {
            b.initializer(leaf, try parameters.parameter(b.qualified(leaf), shape: [channels], initializer: initializer))
        }
        let scale = try tensor("weight", .ones)
        let bias = try tensor("bias", .zeros)
        let mean = try tensor("running_mean", .zeros)
        let variance = try tensor("running_var", .ones)
        return b.batchNormalization(x, scale: scale, bias: bias, mean: mean, variance: variance, epsilon: epsilon)
    }
}
