"""Make the checkpoint-import fixtures: one miniature timm ConvNeXt saved in every form
the Swift importer (Converters/Checkpoints) reads, with timm's outputs to compare against.

Why: ConvNeXt weights reach us as `torch.save` zips (a pickle plus raw storages) or as
safetensors, named either as timm names them or as the original facebookresearch/ConvNeXt
repository does, with the MLP as Linear [out, in] or (timm's conv_mlp=True) as 1x1 Conv2d
[out, in, 1, 1] weights, in float32, float16 or bfloat16. The Swift tests load each file,
build our graph with the imported weights and must reproduce timm's logits within 1e-4
relative (max abs diff / max abs value).

The model: timm.models.convnext.ConvNeXt(depths=(1, 1, 1, 1), dims=(8, 16, 32, 64),
num_classes=5), torch.manual_seed(0), then fixture_utils.perturb_for_fixtures (layer-scale
gammas U(0.1, 1), norm affine parameters and biases moved off their init values) so every
parameter visibly affects the output. Its float32 state dict is ~260 KB, so to keep the
committed folder under 1 MB each file covers several forms at once:

  mini_timm.pth                  float32, timm naming, Linear MLP, plain OrderedDict as
                                 `torch.save(model.state_dict())` writes it; also
                                 head.fc.weight saved as a non-contiguous (transposed)
                                 view and stem.1.weight/bias as two views of one storage
                                 (the second at a storage offset), so both the zero-copy
                                 path and the strided copy are exercised
  mini_timm_convmlp.safetensors  float32, timm naming, conv_mlp=True layout (mlp.fc1/fc2
                                 weights [out, in, 1, 1]), from a conv_mlp=True model
                                 carrying the same weights
  mini_fb_fp16.pth               float16, facebookresearch naming, wrapped like a training
                                 checkpoint: {"model": sd, "epoch": 1, "optimizer": AdamW
                                 state dict (no step taken, so no tensors), "args": {...}}
  mini_fb_bf16.safetensors       bfloat16, facebookresearch naming
  mini_input.npy                 1x3x64x64 float32 input, N(0, 1)
  mini_logits.npy                timm's logits (float32 weights)
  mini_feature{0..3}.npy         timm's four stage outputs (forward_intermediates)
  mini_fp16_logits.npy           timm's logits with the weights rounded to float16
  mini_bf16_logits.npy           timm's logits with the weights rounded to bfloat16
  manifest.json                  what each file holds

The rounded-weight logits let the tests keep the 1e-4 tolerance for the half-precision
files: the importer widens float16/bfloat16 to float32 exactly, so our graph and timm
compute with identical weights.

The facebookresearch renaming is written here (timm -> original) and checked by feeding it
back through timm's own checkpoint_filter_fn (original -> timm), which must give back the
timm state dict that loads strictly and reproduces the logits.

With --generated it also writes convnext_atto (timm builds it with conv_mlp=True) and
convnext_tiny (Linear MLP) (timm, random init, perturbed) as .pth and safetensors with 1x3x224x224 inputs and logits into
Tests/Fixtures/generated/checkpoints/ (git-ignored, ~130 MB); the Swift tests skip those
cases visibly when the files are absent.

Needs torch, timm, safetensors, numpy (not the CI venv). Run from anywhere:
  /work/venv-torch/bin/python Converters/python/make_checkpoint_fixtures.py [--generated]
"""

import argparse
import json
import re
from collections import OrderedDict
from pathlib import Path

import numpy as np
import timm
import torch
from safetensors.torch import save_file
from timm.models.convnext import ConvNeXt, checkpoint_filter_fn

from fixture_utils import perturb_for_fixtures, relative_diff

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "Tests" / "Fixtures" / "checkpoints"
GENERATED = REPO / "Tests" / "Fixtures" / "generated" / "checkpoints"
MINI = dict(depths=(1, 1, 1, 1), dims=(8, 16, 32, 64), num_classes=5)
TOLERANCE = 1e-4
SIZE_LIMIT = 1_000_000


def to_facebook(sd: "OrderedDict[str, torch.Tensor]") -> "OrderedDict[str, torch.Tensor]":
    """timm ConvNeXt names -> facebookresearch/ConvNeXt names (models/convnext.py there)."""
    rules = [
        (r"^stem\.([01])\.", r"downsample_layers.0.\1."),
        (r"^stages\.(\d+)\.downsample\.([01])\.", r"downsample_layers.\1.\2."),
        (r"^stages\.(\d+)\.blocks\.(\d+)\.conv_dw\.", r"stages.\1.\2.dwconv."),
        (r"^stages\.(\d+)\.blocks\.(\d+)\.mlp\.fc([12])\.", r"stages.\1.\2.pwconv\3."),
        (r"^stages\.(\d+)\.blocks\.(\d+)\.", r"stages.\1.\2."),  # norm, gamma
        (r"^head\.norm\.", "norm."),
        (r"^head\.fc\.", "head."),
    ]
    out = OrderedDict()
    for key, value in sd.items():
        for pattern, replacement in rules:
            new, count = re.subn(pattern, replacement, key)
            if count:
                key = new
                break
        else:
            raise SystemExit(f"no facebookresearch name for timm key {key}")
        out[key] = value
    if hasattr(sd, "_metadata"):
        out._metadata = sd._metadata
    return out


def round_to(sd, dtype):
    """The state dict in `dtype`, and the same values widened back to float32."""
    low = OrderedDict((k, v.to(dtype)) for k, v in sd.items())
    low._metadata = sd._metadata
    return low, OrderedDict((k, v.float()) for k, v in low.items())


def logits_with(model: torch.nn.Module, sd, x: torch.Tensor) -> np.ndarray:
    model.load_state_dict(sd, strict=True)
    with torch.no_grad():
        return model(x).numpy()


def check(name: str, actual, expected, tolerance=TOLERANCE):
    diff = relative_diff(actual, expected)
    if not diff <= tolerance:
        raise SystemExit(f"{name}: relative diff {diff:.3g} > {tolerance}")
    return diff


def check_facebook_renaming(fb_sd, timm_sd, model, x, expected):
    """timm's own FB -> timm filter must undo our renaming exactly."""
    back = checkpoint_filter_fn({"model": fb_sd}, model)
    if list(back) != list(timm_sd):
        raise SystemExit(f"facebook renaming does not round-trip: {sorted(set(back) ^ set(timm_sd))}")
    for key in back:
        if not torch.equal(back[key].float(), timm_sd[key].float()):
            raise SystemExit(f"facebook renaming changed the values of {key}")
    check("facebook naming via timm.checkpoint_filter_fn", logits_with(model, back, x), expected, 0)


def strided_views(sd):
    """Copies of `sd` whose head.fc.weight is a transposed (non-contiguous) view and whose
    stem.1.weight/bias are views of one storage; values are unchanged."""
    metadata, sd = sd._metadata, OrderedDict(sd)
    sd._metadata = metadata  # torch.save then writes the BUILD that real state dicts carry
    w = sd["head.fc.weight"]
    sd["head.fc.weight"] = w.t().contiguous().t()
    assert not sd["head.fc.weight"].is_contiguous() and torch.equal(sd["head.fc.weight"], w)
    weight, bias = sd["stem.1.weight"], sd["stem.1.bias"]
    shared = torch.cat([weight, bias])
    sd["stem.1.weight"], sd["stem.1.bias"] = shared[: weight.numel()], shared[weight.numel():]
    assert sd["stem.1.bias"].storage_offset() == weight.numel()
    return sd


def make_mini(out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    model = perturb_for_fixtures(ConvNeXt(**MINI)).eval()
    original = model.state_dict()
    sd = OrderedDict((k, v.detach().clone()) for k, v in original.items())
    sd._metadata = original._metadata
    x = torch.from_numpy(np.random.default_rng(0).standard_normal((1, 3, 64, 64), dtype=np.float32))
    with torch.no_grad():
        logits = model(x).numpy()
        features = model.forward_intermediates(x, intermediates_only=True)
        if not torch.equal(features[-1], model.forward_features(x)):
            raise SystemExit("forward_features is not the last intermediate")
    np.save(out / "mini_input.npy", x.numpy())
    np.save(out / "mini_logits.npy", logits)
    for index, feature in enumerate(features):
        np.save(out / f"mini_feature{index}.npy", feature.numpy())

    # float32, timm naming, Linear MLP, with strided and offset views.
    torch.save(strided_views(sd), out / "mini_timm.pth")
    reloaded = torch.load(out / "mini_timm.pth", weights_only=True)
    check("mini_timm.pth reloaded", logits_with(model, reloaded, x), logits, 0)

    # conv_mlp=True: same weights, MLP as 1x1 convolutions.
    torch.manual_seed(0)
    conv_model = ConvNeXt(**MINI, conv_mlp=True).eval()
    conv_sd = OrderedDict((k, v.reshape(*v.shape, 1, 1) if ".mlp.fc" in k and k.endswith("weight") else v)
                          for k, v in sd.items())
    conv_logits = logits_with(conv_model, conv_sd, x)
    conv_diff = check("conv_mlp=True model vs Linear model", conv_logits, logits)
    save_file({k: v.contiguous() for k, v in conv_model.state_dict().items()}, str(out / "mini_timm_convmlp.safetensors"))

    # facebookresearch naming, float16 .pth wrapped as a training checkpoint.
    fb_sd = to_facebook(sd)
    check_facebook_renaming(fb_sd, sd, model, x, logits)
    fp16_sd, fp16_as_f32 = round_to(sd, torch.float16)
    fp16_logits = logits_with(model, fp16_as_f32, x)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    torch.save({
        "model": to_facebook(fp16_sd), "epoch": 1, "optimizer": optimizer.state_dict(),
        "args": {"seed": 2**40, "offset": -5, "name": "mini", "drop_path": 0.1, "resume": None},
    }, out / "mini_fb_fp16.pth")
    np.save(out / "mini_fp16_logits.npy", fp16_logits)

    # facebookresearch naming, bfloat16 safetensors.
    bf16_sd, bf16_as_f32 = round_to(sd, torch.bfloat16)
    bf16_logits = logits_with(model, bf16_as_f32, x)
    save_file(dict(to_facebook(bf16_sd)), str(out / "mini_fb_bf16.safetensors"))
    np.save(out / "mini_bf16_logits.npy", bf16_logits)
    model.load_state_dict(sd)

    manifest = {
        "model": "timm.models.convnext.ConvNeXt(depths=(1, 1, 1, 1), dims=(8, 16, 32, 64), num_classes=5)",
        "timm": timm.__version__, "torch": torch.__version__.split("+")[0],
        "input": "mini_input.npy", "features": [f"mini_feature{i}.npy" for i in range(4)],
        "tolerance": TOLERANCE,
        "checkpoints": [
            {"file": "mini_timm.pth", "naming": "timm", "dtype": "float32", "mlp": "linear", "logits": "mini_logits.npy",
             "notes": "head.fc.weight non-contiguous; stem.1.weight/bias share one storage"},
            {"file": "mini_timm_convmlp.safetensors", "naming": "timm", "dtype": "float32", "mlp": "conv",
             "logits": "mini_logits.npy", "conv_vs_linear_relative_diff": conv_diff},
            {"file": "mini_fb_fp16.pth", "naming": "facebook", "dtype": "float16", "mlp": "linear",
             "logits": "mini_fp16_logits.npy", "wrapper": "model",
             "fp16_vs_fp32_relative_diff": relative_diff(fp16_logits, logits)},
            {"file": "mini_fb_bf16.safetensors", "naming": "facebook", "dtype": "bfloat16", "mlp": "linear",
             "logits": "mini_bf16_logits.npy", "bf16_vs_fp32_relative_diff": relative_diff(bf16_logits, logits)},
        ],
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    total = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    print(f"{out}: {total / 1000:.0f} KB; rounding moves logits by fp16 {manifest['checkpoints'][2]['fp16_vs_fp32_relative_diff']:.2e}, "
          f"bf16 {manifest['checkpoints'][3]['bf16_vs_fp32_relative_diff']:.2e}")
    if total > SIZE_LIMIT:
        raise SystemExit(f"committed checkpoint fixtures are {total} bytes, over {SIZE_LIMIT}")
    return manifest


def make_generated(out: Path):
    """Real timm variants (random init, perturbed): .pth and safetensors, input, logits."""
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for name in ("convnext_atto", "convnext_tiny"):
        torch.manual_seed(0)
        model = perturb_for_fixtures(timm.create_model(name, pretrained=False)).eval()
        x = torch.from_numpy(np.random.default_rng(0).standard_normal((1, 3, 224, 224), dtype=np.float32))
        with torch.no_grad():
            logits = model(x).numpy()
        sd = model.state_dict()
        torch.save(sd, out / f"{name}.pth")
        save_file({k: v.contiguous() for k, v in sd.items()}, str(out / f"{name}.safetensors"))
        np.save(out / f"{name}_input.npy", x.numpy())
        np.save(out / f"{name}_logits.npy", logits)
        entries.append({"variant": name, "pth": f"{name}.pth", "safetensors": f"{name}.safetensors",
                        "input": f"{name}_input.npy", "logits": f"{name}_logits.npy", "num_classes": logits.shape[1],
                        "mlp": "conv" if model.stages[0].blocks[0].use_conv_mlp else "linear"})
        print(f"{name}: {sum(v.numel() for v in sd.values()):,} values")
    (out / "manifest.json").write_text(json.dumps({"models": entries}, indent=2) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--generated", action="store_true", help=f"also write convnext_atto/tiny to {GENERATED}")
    args = parser.parse_args()
    torch.set_num_threads(1)
    make_mini(args.out)
    if args.generated:
        make_generated(GENERATED)


if __name__ == "__main__":
    main()
