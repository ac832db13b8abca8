"""Make the HistoNeXt parity fixture: reference weights, an input and the reference's outputs.

Why: the Swift builder (Models/HistoNeXt) must compute exactly what the PyTorch reference
(histonext_reference.py) computes, with identical parameter names. The Swift test
(Tests/NXModelsTests/HistoNeXtParityTests.swift) loads this state dict by name, builds the
graph, runs it in our runtime and compares np/hv/tp within 1e-4 relative. The same state dict
saved by torch.save (weights.pth) is what a user who trained in PyTorch hands to
`nx export histonext --weights`; Tests/NXConvertersTests/HistoNeXtImportTests.swift imports it
through HistoNeXtImport (torch zip + pickle reader) and checks the same outputs.

What it writes into <out>/ (default: Tests/Fixtures/histonext_<variant>/ for micro, which is
committed, and Tests/Fixtures/generated/histonext_<variant>/ for anything bigger, git-ignored):

  weights.safetensors   the reference's state dict, float32, without num_batches_tracked,
                        keys exactly as in torch (encoder.* = timm ConvNeXt names, decoder.*,
                        tp.*); timm's Linear weights stay [out, in] and gammas [C]
  weights.pth           the same model's state dict exactly as `torch.save(model.state_dict())`
                        writes it (zip + pickle, BatchNorm num_batches_tracked included as int64)
  input_pixels.npy      uint8 [1, 3, 270, 270], seeded; the network input is pixels / 255 in
                        float32 (stored as bytes: a quarter of the float32 size)
  np.npy, hv.npy, tp.npy  float32 reference outputs in eval mode
  manifest.json         variant, num_types, seed, counts (params / MACs from count()) and keys

Seeded: torch.manual_seed(0) before the model is built, then fixture_utils.perturb_for_fixtures
(layer-scale gammas U(0.1, 1), norm weights/biases, BatchNorm running mean/var, and the biases of
the heads and attention convs made non-zero) so that every parameter visibly affects the output;
numpy default_rng(0) for the pixels. Reruns write the same bytes (torch.save's zip included:
it has no timestamps and its serialization id is derived from the content), except that
safetensors may write its two metadata entries in either order.

Needs torch and timm (/work/venv-torch). Run from the repository root:
  /work/venv-torch/bin/python Converters/python/make_histonext_fixtures.py                  # micro
  /work/venv-torch/bin/python Converters/python/make_histonext_fixtures.py --variant mini   # generated/
  /work/venv-torch/bin/python Converters/python/make_histonext_fixtures.py --variant tiny   # generated/, ~650 MB, ~20 s
  /work/venv-torch/bin/python Converters/python/make_histonext_fixtures.py --variant atto   # generated/, 30 MB (CPU deployment variant)
"""

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

import histonext_reference as ref
from fixture_utils import perturb_for_fixtures

REPO = Path(__file__).resolve().parents[2]
SEED = 0
NUM_TYPES = 6
COMMITTED = {"micro"}  # variants small enough to commit (weights < 1 MB)


def make(variant: str, out: Path) -> dict:
    torch.manual_seed(SEED)
    model = ref.build(variant, NUM_TYPES, meta=False)
    perturb_for_fixtures(model)
    model.eval()

    state = {k: v.detach().to(torch.float32).contiguous().clone()
             for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    pixels = np.random.default_rng(SEED).integers(0, 256, size=(1, 3, ref.INPUT_SIZE, ref.INPUT_SIZE), dtype=np.uint8)
    x = torch.from_numpy(pixels).to(torch.float32) / 255  # float32 division, as the Swift test does
    with torch.no_grad():
        outputs = model(x)

    out.mkdir(parents=True, exist_ok=True)
    save_file(state, str(out / "weights.safetensors"), metadata={"variant": variant, "num_types": str(NUM_TYPES)})
    # The user's path: the module's own state dict, buffers and all, as torch writes it.
    torch.save(model.state_dict(), out / "weights.pth")
    np.save(out / "input_pixels.npy", pixels)
    for name in ("np", "hv", "tp"):
        np.save(out / f"{name}.npy", outputs[name].numpy().astype(np.float32))

    counts = ref.count(ref.build(variant, NUM_TYPES))
    manifest = {
        "variant": variant, "num_types": NUM_TYPES, "seed": SEED,
        "params": counts["params"], "macs": counts["macs"],
        "parts": {k: {"params": counts[k][0], "macs": counts[k][1]} for k in ("encoder", "decoder", "tp")},
        "tensors": len(state), "keys": list(state),
        "outputs": {name: list(outputs[name].shape) for name in ("np", "hv", "tp")},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variant", default="micro", choices=sorted(ref.CONFIGS))
    ap.add_argument("--out", type=Path, help="output folder (default: see the module docstring)")
    args = ap.parse_args()
    folder = "" if args.variant in COMMITTED else "generated/"
    out = args.out or REPO / "Tests" / "Fixtures" / f"{folder}histonext_{args.variant}"
    manifest = make(args.variant, out)
    size = sum(f.stat().st_size for f in out.iterdir())
    print(f"{out}: {manifest['variant']}, {manifest['params']:,} params, {manifest['macs']:,} MACs, "
          f"{manifest['tensors']} tensors, {size / 1024:.0f} KiB in all")


if __name__ == "__main__":
    main()
