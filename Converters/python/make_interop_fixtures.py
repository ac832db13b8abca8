"""Write ONNX and safetensors files with the reference Python libraries, plus JSON truth.

Why: the Swift readers must understand files produced by the official `onnx` and
`safetensors` packages, including every tensor storage field and attribute kind.
Needs only onnx (and its ml_dtypes dependency), numpy and safetensors, not torch,
so it runs in the CI venv. Deterministic: reruns write identical bytes.

Writes into OUT_DIR:
  helper_model.onnx                 graph built with onnx.helper (standard ops only)
  helper_model_external.onnx/.data  the same model, initializers external (raw layout)
                                    except the inline int64 Reshape shape `seq_shape`
  helper_model_input.npy            an input for the model (e.g. for run_onnxruntime.py)
  helper_model_output.npy           its output, computed by onnx.reference
  helper_model.json                 every initializer (with its storage field) and node
  python_written.safetensors        one tensor per dtype, __metadata__ {"source": "python"}
  python_written.json               per tensor: dtype, shape, sha256 of the raw LE bytes

Usage: python Converters/python/make_interop_fixtures.py OUT_DIR
"""

import hashlib
import json
import sys
from pathlib import Path

import ml_dtypes  # a dependency of onnx; gives numpy a bfloat16 dtype
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator
from safetensors.numpy import save_file

OPSET = 17
IR_VERSION = 8  # the IR version that goes with opset 17; accepted by older runtimes too
SAFETENSORS_DTYPES = {"float64": "F64", "float32": "F32", "float16": "F16", "bfloat16": "BF16",
                      "int64": "I64", "int32": "I32", "int16": "I16", "int8": "I8",
                      "uint8": "U8", "bool": "BOOL"}


def build_helper_model(rng: np.random.Generator) -> onnx.ModelProto:
    """Conv -> Cast/Add -> LeakyRelu -> Reshape -> RNN -> Gather -> Where.

    Initializers cover each storage field: raw_data (float32), float_data,
    int64_data, int32_data, double_data, float16 (in int32_data) and bool.
    Attributes cover float, int, string, tensor, floats, ints and strings.
    """
    def small(shape, dtype=np.float32):
        return (rng.integers(-8, 9, size=shape) / 8).astype(dtype)  # exact in every float type

    initializers = [
        numpy_helper.from_array(small((3, 2, 3, 3)), "conv_w"),                      # raw_data
        helper.make_tensor("conv_b", TensorProto.FLOAT, [3], small(3).tolist()),     # float_data
        helper.make_tensor("shift", TensorProto.DOUBLE, [3, 1, 1],
                           small((3, 1, 1), np.float64).tolist()),                    # double_data
        helper.make_tensor("seq_shape", TensorProto.INT64, [3], [3, 1, 16]),         # int64_data
        helper.make_tensor("rnn_w16", TensorProto.FLOAT16, [1, 4, 16],
                           small((1, 4, 16), np.float16).tolist()),                  # int32_data (bits)
        numpy_helper.from_array(small((1, 4, 4)), "rnn_r"),                          # raw_data
        helper.make_tensor("steps", TensorProto.INT32, [2], [2, 0]),                 # int32_data
        helper.make_tensor("mask", TensorProto.BOOL, [4], [True, False, True, True]),  # int32_data
    ]
    nodes = [
        helper.make_node("Conv", ["input", "conv_w", "conv_b"], ["conv"], name="conv",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1],
                         dilations=[1, 1], group=1, auto_pad="NOTSET"),
        helper.make_node("Cast", ["shift"], ["shift_f"], name="cast_shift", to=TensorProto.FLOAT),
        helper.make_node("Add", ["conv", "shift_f"], ["added"], name="add"),
        helper.make_node("LeakyRelu", ["added"], ["act"], name="leaky_relu", alpha=0.1),
        helper.make_node("Reshape", ["act", "seq_shape"], ["seq"], name="reshape"),
        helper.make_node("Cast", ["rnn_w16"], ["rnn_w"], name="cast_w", to=TensorProto.FLOAT),
        helper.make_node("RNN", ["seq", "rnn_w", "rnn_r"], ["rnn_y"], name="rnn",
                         hidden_size=4, direction="forward", activations=["Affine"],
                         activation_alpha=[0.5], activation_beta=[0.25]),
        helper.make_node("Gather", ["rnn_y", "steps"], ["picked"], name="gather", axis=0),
        helper.make_node("Constant", [], ["fill"], name="fill",
                         value=helper.make_tensor("fill_value", TensorProto.FLOAT, [1], [-0.5])),
        helper.make_node("Where", ["mask", "picked", "fill"], ["output"], name="where"),
    ]
    graph = helper.make_graph(
        nodes, "helper_model",
        inputs=[helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 2, 4, 4])],
        outputs=[helper.make_tensor_value_info("output", TensorProto.FLOAT, [2, 1, 1, 4])],
        initializer=initializers,
    )
    model = helper.make_model(graph, producer_name="make_interop_fixtures",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    helper.set_model_props(model, {"source": "python"})
    onnx.checker.check_model(model, full_check=True)
    return model


def storage_field(t: TensorProto) -> str:
    if t.HasField("raw_data"):
        return "raw_data"
    for field in ("float_data", "int32_data", "int64_data", "double_data", "uint64_data"):
        if len(getattr(t, field)):
            return field
    return "none"


def tensor_json(t: TensorProto) -> dict:
    values = numpy_helper.to_array(t).reshape(-1)
    return {
        "name": t.name,
        "data_type": t.data_type,
        "dims": list(t.dims),
        "storage": storage_field(t),
        "values": [v.item() if values.dtype != bool else int(v) for v in values],
    }


def attribute_json(a: onnx.AttributeProto) -> dict:
    kind = onnx.AttributeProto.AttributeType.Name(a.type)
    value = helper.get_attribute_value(a)
    if kind == "STRING":
        value = value.decode()
    elif kind == "STRINGS":
        value = [s.decode() for s in value]
    elif kind == "TENSOR":
        value = tensor_json(value)
    elif kind in ("FLOATS", "INTS"):
        value = list(value)
    return {"name": a.name, "kind": kind, "value": value}


def describe_model(model: onnx.ModelProto) -> dict:
    return {
        "ir_version": model.ir_version,
        "opset_import": {o.domain: o.version for o in model.opset_import},
        "producer_name": model.producer_name,
        "metadata_props": {p.key: p.value for p in model.metadata_props},
        "initializers": [tensor_json(t) for t in model.graph.initializer],
        "nodes": [
            {"name": n.name, "op_type": n.op_type, "domain": n.domain,
             "inputs": list(n.input), "outputs": list(n.output),
             "attributes": [attribute_json(a) for a in n.attribute]}
            for n in model.graph.node
        ],
    }


def write_safetensors(out_dir: Path, rng: np.random.Generator):
    """One tensor per dtype (plus a scalar and an empty tensor) via safetensors.numpy."""
    arrays = {
        "f64": rng.standard_normal((3,)).astype("<f8"),
        "f32": rng.standard_normal((2, 3)).astype("<f4"),
        "f16": rng.standard_normal((2, 2)).astype("<f2"),
        "bf16": rng.standard_normal((2, 3)).astype(ml_dtypes.bfloat16),  # round to nearest even
        "i64": rng.integers(-2**62, 2**62, (4,)).astype("<i8"),
        "i32": rng.integers(-2**31, 2**31, (2, 2)).astype("<i4"),
        "i16": rng.integers(-2**15, 2**15, (3,)).astype("<i2"),
        "i8": rng.integers(-128, 128, (5,)).astype(np.int8),
        "u8": rng.integers(0, 256, (2, 3)).astype(np.uint8),
        "bool": np.array([True, False, False, True]),
        "scalar_f32": np.array(3.5, dtype="<f4"),
        "empty_i32": np.zeros((0, 3), dtype="<i4"),
    }
    save_file(arrays, str(out_dir / "python_written.safetensors"), metadata={"source": "python"})
    truth = {name: {"dtype": SAFETENSORS_DTYPES[a.dtype.name], "shape": list(a.shape),
                    "sha256": hashlib.sha256(a.tobytes()).hexdigest()}
             for name, a in arrays.items()}
    (out_dir / "python_written.json").write_text(json.dumps(truth, indent=2) + "\n")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out_dir = Path(sys.argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)

    model = build_helper_model(rng)
    onnx.save_model(model, str(out_dir / "helper_model.onnx"))
    (out_dir / "helper_model.json").write_text(json.dumps(describe_model(model), indent=2) + "\n")
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    np.save(out_dir / "helper_model_input.npy", x)
    np.save(out_dir / "helper_model_output.npy", ReferenceEvaluator(model).run(None, {"input": x})[0])

    external = onnx.ModelProto()
    external.CopyFrom(model)  # save_model(save_as_external_data=True) rewrites the proto in place
    # onnx only externalizes tensors stored in raw_data, so move all but seq_shape there.
    # seq_shape stays inline: full_check's shape inference cannot read an external
    # Reshape shape and fails ("Cannot parse data from external tensors").
    for t in external.graph.initializer:
        if t.name != "seq_shape":
            t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t), t.name))
    onnx.save_model(external, str(out_dir / "helper_model_external.onnx"),
                    save_as_external_data=True, all_tensors_to_one_file=True,
                    location="helper_model_external.data", size_threshold=0)
    onnx.checker.check_model(str(out_dir / "helper_model_external.onnx"), full_check=True)

    write_safetensors(out_dir, rng)
    print(f"wrote interop fixtures to {out_dir}")


if __name__ == "__main__":
    main()
