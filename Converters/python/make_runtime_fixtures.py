"""Make full-size ONNX models with ONNX Runtime reference outputs for the Swift runtime tests.

Why: the runtime has to reproduce ONNX Runtime on real ImageNet-size networks as
`torch.onnx.export` writes them, at both opset 17 and opset 18 (18 changes operators
such as ReduceMean, whose axes become an input). These files are too big to commit
(convnext_tiny is ~110 MB per opset), so this script regenerates them on demand;
Tests/NXRuntimeTests/RealModelTests.swift reads the manifest and is skipped when it
is absent. Benchmarks/compare_ort.py can time the same files.

What it makes in <out>/ (default Tests/Fixtures/generated/runtime/, git-ignored):

  <name>_opset17.onnx, <name>_opset18.onnx   TorchScript exporter (dynamo=False),
                                             input "input" (dynamic batch),
                                             output "logits"
  <name>_input.npy                           1x3x224x224 float32, N(0, 1)
  <name>_torch.npy                           torch's output for that input
  <name>_opset<V>_ort.npy                    ONNX Runtime's output on that file
                                             (CPU, ORT_ENABLE_ALL, 1 thread)
  manifest.json                              {"models": [one entry per .onnx file]}

for <name> in convnext_atto and convnext_tiny (timm, random init) and resnet18
(torchvision, weights=None). Weights are perturbed with
fixture_utils.perturb_for_fixtures (layer-scale gammas U(0.1, 1), norm affine
parameters and batch-norm running statistics moved off their init values, biases
non-zero) so that every one of them visibly affects the output.

Seeded: torch.manual_seed(0) before each model is built, numpy default_rng(0) for
the inputs, so reruns write the same weights and inputs. Each file is checked with
onnx.checker.check_model(full_check=True) and must contain no external data; ONNX
Runtime must match torch within 1e-4 relative (max abs diff / max abs value) or the
script fails.

Needs torch, torchvision, timm, onnx, onnxruntime (not the CI venv). Run from the
repository root:
  /path/to/venv/bin/python Converters/python/make_runtime_fixtures.py [--out DIR]
      [--models convnext_atto resnet18 ...] [--opsets 17 18]
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import timm
import torch
import torchvision

from fixture_utils import parameter_count, perturb_for_fixtures, relative_diff
from make_format_fixtures import op_histogram

warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export")

REPO = Path(__file__).resolve().parents[2]
OPSETS = (17, 18)
TOLERANCE = 1e-4
INPUT_SHAPE = (1, 3, 224, 224)
INPUT_NAME = "input"
OUTPUT_NAME = "logits"

MODELS = {
    "convnext_atto": lambda: timm.create_model("convnext_atto", pretrained=False),
    "convnext_tiny": lambda: timm.create_model("convnext_tiny", pretrained=False),
    "resnet18": lambda: torchvision.models.resnet18(weights=None),
}


def ort_session(path: Path) -> ort.InferenceSession:
    """A CPU session with all graph optimizations and one thread, as the references use."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def make_model_fixtures(name: str, opsets, out_dir: Path) -> list:
    """Build, export and check one model at every opset; return its manifest entries."""
    torch.manual_seed(0)
    model = perturb_for_fixtures(MODELS[name]()).eval()
    x = np.random.default_rng(0).standard_normal(INPUT_SHAPE, dtype=np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    np.save(out_dir / f"{name}_input.npy", x)
    np.save(out_dir / f"{name}_torch.npy", expected)
    print(f"{name}: {parameter_count(model):,} parameters, torch output {list(expected.shape)}, "
          f"max |logit| {np.abs(expected).max():.3g}")

    entries = []
    for opset in opsets:
        stem = f"{name}_opset{opset}"
        onnx_path = out_dir / f"{stem}.onnx"
        for stale in out_dir.glob(f"{stem}.onnx*"):  # a previous run's file or external data
            stale.unlink()
        start = time.perf_counter()
        torch.onnx.export(
            model, torch.from_numpy(x), str(onnx_path), dynamo=False, opset_version=opset,
            input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
        )
        export_seconds = time.perf_counter() - start
        others = sorted(p.name for p in out_dir.iterdir() if p.name.startswith(stem) and p != onnx_path
                        and not p.name.endswith(".npy"))
        if others:
            raise SystemExit(f"{stem}: the exporter wrote external data {others}")
        onnx.checker.check_model(str(onnx_path), full_check=True)
        proto = onnx.load(str(onnx_path))
        declared = {o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")}
        if declared != {opset}:
            raise SystemExit(f"{stem}: asked for opset {opset}, the file declares {sorted(declared)}")
        if any(t.data_location == onnx.TensorProto.EXTERNAL for t in proto.graph.initializer):
            raise SystemExit(f"{stem}: initializers stored as external data")

        start = time.perf_counter()
        session = ort_session(onnx_path)
        load_seconds = time.perf_counter() - start
        start = time.perf_counter()
        (actual,) = session.run([OUTPUT_NAME], {INPUT_NAME: x})
        run_seconds = time.perf_counter() - start
        diff = relative_diff(actual, expected)
        if not diff <= TOLERANCE:
            raise SystemExit(f"{stem}: onnxruntime vs torch relative diff {diff:.3g} > {TOLERANCE}")
        np.save(out_dir / f"{stem}_ort.npy", actual)

        size = onnx_path.stat().st_size
        entries.append({
            "name": name,
            "opset": opset,
            "model": onnx_path.name,
            "input_name": INPUT_NAME,
            "output_name": OUTPUT_NAME,
            "input": f"{name}_input.npy",
            "input_shape": list(INPUT_SHAPE),
            "ort_output": f"{stem}_ort.npy",
            "torch_output": f"{name}_torch.npy",
            "output_shape": list(actual.shape),
            "tolerance": TOLERANCE,
            "ort_vs_torch_relative_diff": diff,
            "parameters": parameter_count(model),
            "file_bytes": size,
            "op_types": op_histogram(proto),
        })
        print(f"  opset {opset}: {size / 2**20:.1f} MiB, export {export_seconds:.1f} s, "
              f"ORT load {load_seconds:.2f} s, first run {1000 * run_seconds:.0f} ms, "
              f"ORT vs torch {diff:.2e}")
        print(f"    op types: {entries[-1]['op_types']}")
    return entries


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "Tests/Fixtures/generated/runtime")
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=list(MODELS))
    parser.add_argument("--opsets", nargs="+", type=int, default=list(OPSETS))
    args = parser.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    entries = []
    for name in args.models:
        entries += make_model_fixtures(name, args.opsets, args.out)
    manifest = {
        "about": "made by Converters/python/make_runtime_fixtures.py; paths are relative to this folder",
        "versions": {"torch": torch.__version__, "torchvision": torchvision.__version__,
                     "timm": timm.__version__, "onnx": onnx.__version__,
                     "onnxruntime": ort.__version__},
        "models": entries,
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {len(entries)} models and manifest.json to {args.out}")


if __name__ == "__main__":
    main()
