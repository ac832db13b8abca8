"""Make ONNX reference fixtures from timm ConvNeXt models for the Swift runtime tests.

Why: the Swift runtime must load what `torch.onnx.export` produces from a real timm
architecture and reproduce its numbers. This script builds the models, exports them,
and records torch's and onnxruntime's outputs as references.

What it makes (everything seeded with torch.manual_seed(0), so reruns are reproducible):

  <out>/ (default Tests/Fixtures/mini_convnext/, committed)
    mini_convnext.onnx            timm ConvNeXt(depths=(1,1,2,1), dims=(16,32,64,128),
                                  num_classes=10), opset 17, dynamic batch, 1x3x64x64
    mini_convnext_input.npy       float32 input
    mini_convnext_logits.npy      torch output
    mini_convnext_ort_logits.npy  onnxruntime output of the .onnx file
    mini_convnext.safetensors     state_dict (contiguous float32)
    mini_convnext.json            parameter count and tool versions

  with --large, <large-out>/ (default Tests/Fixtures/generated/, git-ignored)
    convnext_atto.*               the same set for timm convnext_atto at 1x3x224x224

Random weights are perturbed (see fixture_utils.perturb_for_fixtures) so that
layer scale, norms and biases visibly matter. Each export is checked with
onnx.checker.check_model(full_check=True) and onnxruntime must match torch within
1e-4 relative (max abs diff / max abs value); otherwise the script fails.

Run from the repository root:
  /path/to/venv/bin/python Converters/python/make_format_fixtures.py [--out DIR] [--large]
      [--large-out DIR]
"""

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import safetensors.torch
import timm
import torch
from timm.models.convnext import ConvNeXt

from fixture_utils import parameter_count, perturb_for_fixtures, relative_diff

warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export")

REPO = Path(__file__).resolve().parents[2]
OPSET = 17
TOLERANCE = 1e-4


def export_fixture(model: torch.nn.Module, name: str, input_shape, out_dir: Path) -> dict:
    """Export `model` to <out_dir>/<name>.onnx with reference inputs/outputs; return its info."""
    out_dir.mkdir(parents=True, exist_ok=True)
    model.eval()
    x = torch.from_numpy(np.random.default_rng(0).standard_normal(input_shape, dtype=np.float32))
    with torch.no_grad():
        logits = model(x).numpy()

    onnx_path = out_dir / f"{name}.onnx"
    torch.onnx.export(
        model, x, str(onnx_path), dynamo=False, opset_version=OPSET,
        input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
    )
    onnx.checker.check_model(str(onnx_path), full_check=True)

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    (ort_logits,) = session.run(["logits"], {"input": x.numpy()})
    diff = relative_diff(ort_logits, logits)
    if not diff <= TOLERANCE:
        raise SystemExit(f"{name}: onnxruntime vs torch relative diff {diff:.3g} > {TOLERANCE}")

    np.save(out_dir / f"{name}_input.npy", x.numpy())
    np.save(out_dir / f"{name}_logits.npy", logits)
    np.save(out_dir / f"{name}_ort_logits.npy", ort_logits)
    state = {k: v.detach().to(torch.float32).contiguous() for k, v in model.state_dict().items()}
    safetensors.torch.save_file(state, str(out_dir / f"{name}.safetensors"))

    info = {
        "parameters": parameter_count(model),
        "timm_version": timm.__version__,
        "torch_version": torch.__version__,
        "onnx_version": onnx.__version__,
        "onnxruntime_version": ort.__version__,
        "opset": OPSET,
        "input_shape": list(input_shape),
        "ort_relative_diff": diff,
        "op_types": op_histogram(onnx.load(str(onnx_path))),
    }
    (out_dir / f"{name}.json").write_text(json.dumps(info, indent=2) + "\n")
    print(f"{name}: {info['parameters']:,} parameters, ORT rel diff {diff:.2e} -> {out_dir}")
    print(f"  op types: {info['op_types']}")
    return info


def op_histogram(model: onnx.ModelProto) -> dict:
    """Count node op types (``domain::op`` outside the default domain), sorted by name."""
    counts = {}
    for node in model.graph.node:
        key = f"{node.domain}::{node.op_type}" if node.domain not in ("", "ai.onnx") else node.op_type
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "Tests/Fixtures/mini_convnext")
    parser.add_argument("--large", action="store_true", help="also export timm convnext_atto")
    parser.add_argument("--large-out", type=Path, default=REPO / "Tests/Fixtures/generated")
    args = parser.parse_args()

    torch.manual_seed(0)
    mini = ConvNeXt(depths=(1, 1, 2, 1), dims=(16, 32, 64, 128), num_classes=10)
    export_fixture(perturb_for_fixtures(mini), "mini_convnext", (1, 3, 64, 64), args.out)

    if args.large:
        torch.manual_seed(0)
        atto = timm.create_model("convnext_atto", pretrained=False)
        export_fixture(perturb_for_fixtures(atto), "convnext_atto", (1, 3, 224, 224), args.large_out)


if __name__ == "__main__":
    main()
