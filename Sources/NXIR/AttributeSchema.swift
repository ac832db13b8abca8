/// The kinds ONNX declares for the attributes of the standard operators this project builds
/// and runs, so validation can catch an attribute of the wrong kind before a kernel does.
/// Attributes not listed are not checked (unknown ops and domains are left to the runtime).
public enum AttributeSchema {
    public static func expectedKind(opType: String, domain: String, attribute: String) -> AttributeKind? {
        guard domain.isEmpty || domain == "ai.onnx" else { return nil }
        return table[opType]?[attribute]
    }

    private static let convLike: [String: AttributeKind] = [
        "auto_pad": .string, "dilations": .ints, "group": .int, "kernel_shape": .ints, "pads": .ints,
        "strides": .ints, "output_padding": .ints, "output_shape": .ints,
    ]
    private static let pool: [String: AttributeKind] = [
        "auto_pad": .string, "ceil_mode": .int, "count_include_pad": .int, "dilations": .ints,
        "kernel_shape": .ints, "pads": .ints, "storage_order": .int, "strides": .ints,
    ]
    private static let reduce: [String: AttributeKind] = [
        "axes": .ints, "keepdims": .int, "noop_with_empty_axes": .int,
    ]

    private static let table: [String: [String: AttributeKind]] = [
        "Conv": convLike, "ConvTranspose": convLike,
        "MaxPool": pool, "AveragePool": pool,
        "ReduceMean": reduce, "ReduceSum": reduce, "ReduceMax": reduce, "ReduceMin": reduce,
        "Gemm": ["alpha": .float, "beta": .float, "transA": .int, "transB": .int],
        "LayerNormalization": ["axis": .int, "epsilon": .float, "stash_type": .int],
        "BatchNormalization": ["epsilon": .float, "momentum": .float, "training_mode": .int],
        "InstanceNormalization": ["epsilon": .float],
        "Gelu": ["approximate": .string],
        "LeakyRelu": ["alpha": .float],
        "HardSigmoid": ["alpha": .float, "beta": .float],
        "Softmax": ["axis": .int], "LogSoftmax": ["axis": .int],
        "Concat": ["axis": .int], "Flatten": ["axis": .int], "Gather": ["axis": .int],
        "Split": ["axis": .int, "split": .ints, "num_outputs": .int],
        "Transpose": ["perm": .ints],
        "Squeeze": ["axes": .ints], "Unsqueeze": ["axes": .ints],
        "Reshape": ["allowzero": .int],
        "Cast": ["to": .int, "saturate": .int],
        "Constant": [
            "value": .tensor, "value_float": .float, "value_floats": .floats, "value_int": .int,
            "value_ints": .ints, "value_string": .string, "value_strings": .strings,
        ],
        "ConstantOfShape": ["value": .tensor],
        "Pad": ["mode": .string],
        "Resize": [
            "coordinate_transformation_mode": .string, "cubic_coeff_a": .float, "exclude_outside": .int,
            "extrapolation_value": .float, "mode": .string, "nearest_mode": .string, "antialias": .int,
            "axes": .ints, "keep_aspect_ratio_policy": .string,
        ],
        "Shape": ["start": .int, "end": .int],
        "Dropout": ["seed": .int],
    ]
}
