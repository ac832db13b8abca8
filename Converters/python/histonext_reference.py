"""PyTorch reference of HistoNeXt (ConvNeXt encoder + dense NP/HV decoder + ConvCAM TP decoder).

Why: the Swift builder (Models/HistoNeXt, later) must produce exactly this graph with exactly
these parameter names, and the export pipeline must know the output geometry. This file is
the executable form of Spec/HISTONEXT.md; when one changes, the other has to change with it.

Architecture (Base widths; every other variant is Base x s, s = dims[3] / 1024, see CONFIGS):

  input  1x3x270x270, RGB in [0, 1] (pixel * 1/255; no ImageNet mean/std, as in the paper)
  encoder  timm ConvNeXt, stem + 4 stages, features F0..F3 = 128@67, 256@33, 512@16, 1024@8
  decoder  (NP and HV share it; they split only at the two 1x1 heads), stages u3, u2, u1, u0:
      u3: up3 ConvT3x3/2 1024->512 (8->17, crop 16), cat[F2, up] 1024 -> dense3 2x512 -> 2048@16
      u2: up2 ConvT3x3/2 2048->256 (16->33),          cat[F1, up]  512 -> dense2 4x256 -> 1536@33
      u1: up1 ConvT3x3/2 1536->128 (33->67),          cat[F0, up]  256 -> dense1 6x128 -> 1024@67
      u0: up0 ConvT3x3/2 1024->64  (67->135, crop 80)               64 -> dense0 4x64  ->  320@80
      np_head 1x1 320->2, hv_head 1x1 320->2 (bias)
  tp  (type branch), same four stages with 5x5 transposed convs and ConvCAM blocks:
      u3: up3 ConvT5x5/2 1024->1536 (8->19, crop 16) -> cam3 1 layer  @1536 -> cat[F2] 2048@16
      u2: up2 ConvT5x5/2 2048->240  (16->35, crop 33) -> cam2 2 layers @240  -> cat[F1]  496@33
      u1: up1 ConvT5x5/2 496->144   (33->69, crop 67) -> cam1 3 layers @144  -> cat[F0]  272@67
      u0: up0 ConvT5x5/2 272->48    (67->137, crop 80) -> cam0 4 layers @48            48@80
      head 1x1 48->num_types (bias)
  outputs  np [N,2,80,80], hv [N,2,80,80], tp [N,num_types,80,80]: raw logits / raw HV values.

Blocks:
  dense layer   BatchNorm -> ReLU -> Conv3x3 (pad 1, no bias) producing the growth rate k;
                layer i sees cat[x0, x1, ..., x_{i-1}]; the block returns ReLU(BN(cat[x0..xn])).
  ConvCAM       n x (Conv5x5 groups=12 pad 2 no bias -> BatchNorm -> ReLU), then channel attention
                x * sigmoid(fc2(ReLU(fc1(avgpool(x) + maxpool(x))))), fc1/fc2 1x1 convs with bias,
                hidden = max(1, C // 16).
  crops         center crop to the target size; when the excess d is odd the extra pixel goes on
                the TOP/LEFT: top = d - d // 2 (= ceil(d/2)), bottom = d // 2. Same for columns.
  geometry      output pixel (y, x) covers input pixels rows 55+2y..56+2y, cols 55+2x..56+2x:
                output stride 2, the 80x80 output covers the central 160x160 input pixels
                [55, 215) of the 270x270 input (both branches land on exactly this grid).

Parameter names: encoder.* are timm's ConvNeXt names (encoder.stem.0.weight,
encoder.stages.0.blocks.0.conv_dw.weight, ...): a timm classification checkpoint maps onto them
by dropping head.* and prefixing "encoder.". Decoder names: see decoder_key_patterns().

Counting (count()): parameters = trainable tensors (BatchNorm running stats are buffers, not
counted); MACs from torch.utils.flop_counter.FlopCounterMode / 2: Conv per output pixel,
ConvTranspose per INPUT pixel (in_pixels x Cin x Cout/groups x k x k), mm/addmm (the ConvNeXt
MLP Linears); norms, activations, pooling, elementwise ops and biases are not counted. The
paper's "GFLOPS" are these MACs.

Run (from the repository root, with torch + timm):
  /work/venv-torch/bin/python Converters/python/histonext_reference.py            # the table
  ... histonext_reference.py --layers base       # layer list with shapes, params, MACs
  ... histonext_reference.py --keys              # decoder state-dict key patterns
  ... histonext_reference.py --ablations         # the design facts the widths were checked against
  ... histonext_reference.py --forward mini      # real eval forward on a 1x3x270x270 input
"""

from __future__ import annotations

import argparse
import dataclasses
import re
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

import timm
from timm.models.convnext import ConvNeXt

INPUT_SIZE = 270
OUTPUT_SIZE = 80
OUTPUT_STRIDE = 2
OUTPUT_OFFSET = 55  # input pixel (row and column) where the output window starts
STAGES = (3, 2, 1, 0)  # decoder stage names in execution order (HoVer-Net's u3, u2, u1, u0)

# Paper, section "Computational efficiency": (GMACs, M params) at 270x270.
PAPER = {"tiny": (33.7, 82.6), "base": (69.5, 184.8), "large": (155.7, 414.0), "xlarge": (276.0, 734.4)}

# Base decoder widths, in STAGES order. Every variant uses Base x s (s = dims[3] / 1024), which
# is why the ConvCAM widths are multiples of 48: 0.75 x 48 = 36 keeps Tiny a multiple of 12.
BASE_DENSE_GROWTH = (512, 256, 128, 64)  # paper
BASE_DENSE_LAYERS = (2, 4, 6, 4)  # paper
BASE_UP_WIDTHS = (512, 256, 128, 64)  # guess: = growth rate (= C_{l} of the skip it joins)
BASE_TP_WIDTHS = (1536, 240, 144, 48)  # 1.5 x C3, then growth rate rounded to a multiple of 48
CAM_LAYERS = (1, 2, 3, 4)  # paper
CAM_GROUPS = 12  # paper
CAM_REDUCTION = 16  # paper


@dataclass(frozen=True)
class HistoNeXtConfig:
    variant: str
    depths: tuple[int, int, int, int]  # encoder blocks per stage
    dims: tuple[int, int, int, int]  # encoder widths C0..C3
    timm_name: str | None  # timm registry name of the encoder, None for a custom ConvNeXt
    dense_growth: tuple[int, ...]  # per decoder stage, STAGES order
    up_widths: tuple[int, ...]  # decoder.up{s} output channels
    tp_widths: tuple[int, ...]  # tp.up{s} output channels = ConvCAM width
    dense_layers: tuple[int, ...] = BASE_DENSE_LAYERS
    cam_layers: tuple[int, ...] = CAM_LAYERS
    cam_groups: int = CAM_GROUPS
    cam_reduction: int = CAM_REDUCTION
    input_size: int = INPUT_SIZE
    output_size: int = OUTPUT_SIZE


def _scaled(variant: str, depths, dims, timm_name) -> HistoNeXtConfig:
    s = dims[3] / 1024

    def scale(widths):
        out = tuple(int(round(w * s)) for w in widths)
        assert all(abs(o - w * s) < 1e-9 for o, w in zip(out, widths)), (variant, widths)
        return out

    return HistoNeXtConfig(
        variant=variant, depths=tuple(depths), dims=tuple(dims), timm_name=timm_name,
        dense_growth=scale(BASE_DENSE_GROWTH), up_widths=scale(BASE_UP_WIDTHS),
        tp_widths=scale(BASE_TP_WIDTHS),
    )


CONFIGS: dict[str, HistoNeXtConfig] = {
    "tiny": _scaled("tiny", (3, 3, 9, 3), (96, 192, 384, 768), "convnext_tiny"),
    "base": _scaled("base", (3, 3, 27, 3), (128, 256, 512, 1024), "convnext_base"),
    "large": _scaled("large", (3, 3, 27, 3), (192, 384, 768, 1536), "convnext_large"),
    "xlarge": _scaled("xlarge", (3, 3, 27, 3), (256, 512, 1024, 2048), "convnext_xlarge"),
    # CPU deployment variant: timm's convnext_atto encoder (3.37 M params). Base x s (s = 0.3125)
    # would give a 3.6 M-param decoder and a 28 MB .onnx; these widths keep the graph and names
    # and the whole model under 16 MB (3.86 M params). TP widths are ConvCAM's minimum, 12.
    "atto": HistoNeXtConfig(
        variant="atto", depths=(2, 2, 6, 2), dims=(40, 80, 160, 320), timm_name="convnext_atto",
        dense_growth=(16, 16, 12, 8), up_widths=(16, 16, 12, 8), tp_widths=(12, 12, 12, 12),
    ),
    # Test miniature: Base / 8 everywhere; ConvCAM widths rounded up to a multiple of 12
    # (240/8 = 30 -> 36, 144/8 = 18 -> 24, 48/8 = 6 -> 12). Same graph, same names.
    "mini": HistoNeXtConfig(
        variant="mini", depths=(1, 1, 1, 1), dims=(16, 32, 64, 128), timm_name=None,
        dense_growth=(64, 32, 16, 8), up_widths=(64, 32, 16, 8), tp_widths=(192, 36, 24, 12),
    ),
    # Committed-fixture miniature (~181K params, < 1 MB of float32; mini's 7 MB is too big to
    # commit): encoder Base / 16, decoder narrower still, not an exact scale of Base. Same graph,
    # same names; the TP keeps a wide first stage (24 = 2 channels per group) like Base's 1536.
    "micro": HistoNeXtConfig(
        variant="micro", depths=(1, 1, 1, 1), dims=(8, 16, 32, 64), timm_name=None,
        dense_growth=(12, 6, 6, 4), up_widths=(12, 6, 6, 4), tp_widths=(24, 12, 12, 12),
    ),
}


def center_crop(x: torch.Tensor, size: int) -> torch.Tensor:
    """Center crop the last two dims to size x size; an odd excess loses its extra pixel at the
    top/left: top = d - d // 2, bottom = d // 2 (e.g. 17 -> 16 drops row 0; 135 -> 80 keeps
    rows 28..107; 137 -> 80 keeps rows 29..108)."""
    h, w = x.shape[-2], x.shape[-1]
    assert h >= size and w >= size, (h, w, size)
    top = (h - size) - (h - size) // 2
    left = (w - size) - (w - size) // 2
    return x[..., top:top + size, left:left + size]


# ---------------------------------------------------------------------------------------------
# Blocks


class DenseLayer(nn.Module):
    """BatchNorm -> ReLU -> Conv3x3 (padding 1, no bias) producing `growth` channels."""

    def __init__(self, in_ch: int, growth: int):
        super().__init__()
        self.norm = nn.BatchNorm2d(in_ch)
        self.conv = nn.Conv2d(in_ch, growth, 3, padding=1, bias=False)

    def forward(self, x):
        return self.conv(F.relu(self.norm(x)))


class DenseBlock(nn.Module):
    """x_i = H_i(cat[x0..x_{i-1}]); returns ReLU(BN(cat[x0..xn])), in_ch + n * growth channels."""

    def __init__(self, in_ch: int, growth: int, n: int):
        super().__init__()
        self.layers = nn.ModuleList(DenseLayer(in_ch + i * growth, growth) for i in range(n))
        self.out_ch = in_ch + n * growth
        self.norm = nn.BatchNorm2d(self.out_ch)

    def forward(self, x):
        feats = [x]
        for layer in self.layers:
            feats.append(layer(torch.cat(feats, 1)))
        return F.relu(self.norm(torch.cat(feats, 1)))


class CamLayer(nn.Module):
    """Conv5x5 (groups 12, padding 2, no bias) -> BatchNorm -> ReLU, width preserving."""

    def __init__(self, ch: int, groups: int):
        super().__init__()
        assert ch % groups == 0, f"ConvCAM width {ch} is not a multiple of {groups}"
        self.conv = nn.Conv2d(ch, ch, 5, padding=2, groups=groups, bias=False)
        self.norm = nn.BatchNorm2d(ch)

    def forward(self, x):
        return F.relu(self.norm(self.conv(x)))


class ChannelAttention(nn.Module):
    """alpha = sigmoid(fc2(ReLU(fc1(AvgPool(x) + MaxPool(x))))) (paper eq. 4); returns x * alpha.

    The pools are global (GlobalAveragePool + GlobalMaxPool, added BEFORE fc1, as the paper
    writes it, not CBAM's shared-MLP-then-add); fc1/fc2 are 1x1 convs with bias."""

    def __init__(self, ch: int, reduction: int):
        super().__init__()
        hidden = max(1, ch // reduction)
        self.fc1 = nn.Conv2d(ch, hidden, 1)
        self.fc2 = nn.Conv2d(hidden, ch, 1)

    def forward(self, x):
        pooled = F.adaptive_avg_pool2d(x, 1) + F.adaptive_max_pool2d(x, 1)
        return x * torch.sigmoid(self.fc2(F.relu(self.fc1(pooled))))


class ConvCAM(nn.Module):
    def __init__(self, ch: int, n: int, groups: int, reduction: int):
        super().__init__()
        self.layers = nn.ModuleList(CamLayer(ch, groups) for _ in range(n))
        self.attention = ChannelAttention(ch, reduction)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.attention(x)


# ---------------------------------------------------------------------------------------------
# Branches


class DenseDecoder(nn.Module):
    """Shared NP/HV decoder: per stage s in (3, 2, 1, 0): up{s} (ConvTranspose 3x3, stride 2,
    no padding, no bias: n -> 2n+1), center crop to F_{s-1} (stage 0: to 80x80),
    cat[F_{s-1}, up] (stage 0: no skip), dense{s}. Heads: 1x1 convs with bias."""

    def __init__(self, cfg: HistoNeXtConfig):
        super().__init__()
        C = cfg.dims
        prev = C[3]
        for i, s in enumerate(STAGES):
            up = cfg.up_widths[i]
            skip = C[s - 1] if s > 0 else 0
            setattr(self, f"up{s}", nn.ConvTranspose2d(prev, up, 3, stride=2, bias=False))
            block = DenseBlock(skip + up, cfg.dense_growth[i], cfg.dense_layers[i])
            setattr(self, f"dense{s}", block)
            prev = block.out_ch
        self.np_head = nn.Conv2d(prev, 2, 1)
        self.hv_head = nn.Conv2d(prev, 2, 1)
        self.output_size = cfg.output_size

    def forward(self, feats):
        x = feats[3]
        for s in STAGES:
            x = getattr(self, f"up{s}")(x)
            if s > 0:
                skip = feats[s - 1]
                x = torch.cat([skip, center_crop(x, skip.shape[-1])], 1)
            else:
                x = center_crop(x, self.output_size)
            x = getattr(self, f"dense{s}")(x)
        return self.np_head(x), self.hv_head(x)


class TypeDecoder(nn.Module):
    """TP branch: per stage s in (3, 2, 1, 0): up{s} (ConvTranspose 5x5, stride 2, no padding,
    no bias: n -> 2n+3), center crop to F_{s-1} (stage 0: to 80x80), cam{s}, then cat[F_{s-1}, x]
    (stage 0: none). Head: 1x1 conv with bias to num_types."""

    def __init__(self, cfg: HistoNeXtConfig, num_types: int):
        super().__init__()
        C = cfg.dims
        prev = C[3]
        for i, s in enumerate(STAGES):
            width = cfg.tp_widths[i]
            setattr(self, f"up{s}", nn.ConvTranspose2d(prev, width, 5, stride=2, bias=False))
            setattr(self, f"cam{s}", ConvCAM(width, cfg.cam_layers[i], cfg.cam_groups, cfg.cam_reduction))
            prev = width + (C[s - 1] if s > 0 else 0)
        self.head = nn.Conv2d(prev, num_types, 1)
        self.output_size = cfg.output_size

    def forward(self, feats):
        x = feats[3]
        for s in STAGES:
            x = getattr(self, f"up{s}")(x)
            size = feats[s - 1].shape[-1] if s > 0 else self.output_size
            x = getattr(self, f"cam{s}")(center_crop(x, size))
            if s > 0:
                x = torch.cat([feats[s - 1], x], 1)
        return self.head(x)


def make_encoder(cfg: HistoNeXtConfig) -> ConvNeXt:
    """timm ConvNeXt with its classifier head removed; keys stem.*, stages.* as in timm."""
    if cfg.timm_name is not None:
        enc = timm.create_model(cfg.timm_name, pretrained=False)
        assert tuple(enc.feature_info[i]["num_chs"] for i in range(4)) == cfg.dims
    else:
        enc = ConvNeXt(depths=cfg.depths, dims=cfg.dims)
    enc.head = nn.Identity()  # head.norm / head.fc are not part of HistoNeXt
    assert isinstance(enc.norm_pre, nn.Identity)
    return enc


class HistoNeXt(nn.Module):
    def __init__(self, variant: str | HistoNeXtConfig = "base", num_types: int = 6):
        super().__init__()
        cfg = CONFIGS[variant] if isinstance(variant, str) else variant
        self.cfg = cfg
        self.num_types = num_types
        self.encoder = make_encoder(cfg)
        self.decoder = DenseDecoder(cfg)
        self.tp = TypeDecoder(cfg, num_types)

    def encode(self, x):
        x = self.encoder.stem(x)
        feats = []
        for stage in self.encoder.stages:
            x = stage(x)
            feats.append(x)
        return feats  # F0..F3 at strides 4, 8, 16, 32 (67, 33, 16, 8 for 270)

    def forward(self, x):
        feats = self.encode(x)
        np_logits, hv = self.decoder(feats)
        return {"np": np_logits, "hv": hv, "tp": self.tp(feats)}


# ---------------------------------------------------------------------------------------------
# Counting


def _macs(fn, *args):
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        out = fn(*args)
    return counter.get_total_flops() // 2, out


def count(model: HistoNeXt, size: int = INPUT_SIZE) -> dict:
    """Parameters and MACs (see the module docstring for the rule), total and per part."""
    device = next(model.parameters()).device
    x = torch.zeros(1, 3, size, size, device=device)
    enc_macs, feats = _macs(model.encode, x)
    dec_macs, _ = _macs(model.decoder, feats)
    tp_macs, _ = _macs(model.tp, feats)

    def n(m):
        return sum(p.numel() for p in m.parameters())

    return {
        "params": n(model), "macs": enc_macs + dec_macs + tp_macs,
        "encoder": (n(model.encoder), enc_macs), "decoder": (n(model.decoder), dec_macs),
        "tp": (n(model.tp), tp_macs),
    }


def build(variant, num_types=6, meta=True) -> HistoNeXt:
    """Weights on the meta device unless meta=False (counting needs shapes only)."""
    if meta:
        with torch.device("meta"):
            return HistoNeXt(variant, num_types).eval()
    return HistoNeXt(variant, num_types).eval()


def layer_table(model: HistoNeXt, size: int = INPUT_SIZE):
    """Rows (name, kind, in shape, out shape, params, MACs) for every decoder leaf module,
    MACs by the same rule as count() (checked against it)."""
    rows = []

    def hook(name):
        def f(mod, inp, out):
            i, o = inp[0].shape, out.shape
            p = sum(t.numel() for t in mod.parameters(recurse=False))
            if isinstance(mod, nn.ConvTranspose2d):
                k = mod.kernel_size[0] * mod.kernel_size[1]
                macs = i[2] * i[3] * mod.in_channels * mod.out_channels // mod.groups * k
            elif isinstance(mod, nn.Conv2d):
                k = mod.kernel_size[0] * mod.kernel_size[1]
                macs = o[2] * o[3] * mod.out_channels * mod.in_channels // mod.groups * k
            else:
                macs = 0
            rows.append((name, type(mod).__name__, tuple(i[1:]), tuple(o[1:]), p, macs))
        return f

    handles = [
        m.register_forward_hook(hook(n)) for n, m in model.named_modules()
        if not n.startswith("encoder") and len(list(m.children())) == 0
    ]
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size, device=next(model.parameters()).device))
    for h in handles:
        h.remove()
    return rows


def decoder_key_patterns(model: HistoNeXt) -> list[str]:
    """State-dict keys outside encoder.*, with layer indices folded to {i}."""
    seen = []
    for key in model.state_dict():
        if key.startswith("encoder."):
            continue
        pattern = re.sub(r"\.layers\.\d+\.", ".layers.{i}.", key)
        if pattern not in seen:
            seen.append(pattern)
    return seen


# ---------------------------------------------------------------------------------------------
# Command line


def _table():
    print(f"{'variant':8} {'params (M)':>11} {'paper':>7} {'diff':>7}   {'MACs (G)':>9} {'paper':>7} {'diff':>7}"
          f"   {'enc/dec/tp params (M)':>22}   {'enc/dec/tp MACs (G)':>20}")
    ok = True
    for variant in ("tiny", "base", "large", "xlarge", "atto", "mini", "micro"):
        c = count(build(variant))
        p, m = c["params"] / 1e6, c["macs"] / 1e9
        parts_p = "/".join(f"{c[k][0] / 1e6:.2f}" for k in ("encoder", "decoder", "tp"))
        parts_m = "/".join(f"{c[k][1] / 1e9:.2f}" for k in ("encoder", "decoder", "tp"))
        if variant in PAPER:
            pm, pp = PAPER[variant]
            dp, dm = (p / pp - 1) * 100, (m / pm - 1) * 100
            ok &= abs(dp) <= 3 and abs(dm) <= 3
            print(f"{variant:8} {p:11.2f} {pp:7.1f} {dp:+6.2f}%   {m:9.2f} {pm:7.1f} {dm:+6.2f}%"
                  f"   {parts_p:>22}   {parts_m:>20}")
        else:
            print(f"{variant:8} {p:11.3f} {'-':>7} {'-':>7}   {m:9.3f} {'-':>7} {'-':>7}"
                  f"   {parts_p:>22}   {parts_m:>20}")
    print("all four variants within 3% on params and MACs:", "yes" if ok else "NO")
    return ok


def _layers(variant):
    model = build(variant)
    rows = layer_table(model)
    total_p = total_m = 0
    print(f"{'module':32} {'op':16} {'in (C,H,W)':>18} {'out (C,H,W)':>18} {'params':>11} {'MACs (M)':>10}")
    for name, kind, i, o, p, m in rows:
        total_p += p
        total_m += m
        print(f"{name:32} {kind:16} {str(i):>18} {str(o):>18} {p:11,d} {m / 1e6:10.1f}")
    c = count(model)
    dec_p = c["decoder"][0] + c["tp"][0]
    dec_m = c["decoder"][1] + c["tp"][1]
    print(f"decoder+tp leaf sum: {total_p:,d} params, {total_m / 1e9:.3f} GMACs "
          f"(count(): {dec_p:,d}, {dec_m / 1e9:.3f})")
    assert total_p == dec_p and total_m == dec_m


def _ablations():
    """The design facts the widths were checked against (percent of the variant's own total)."""
    for variant in ("tiny", "base"):
        model = build(variant)
        c = count(model)
        total = c["macs"]
        rows = {n: m for n, _, _, _, _, m in layer_table(model)}
        print(f"[{variant}] total {c['params'] / 1e6:.2f} M params, {total / 1e9:.2f} GMACs")
        print(f"  separate NP and HV decoders: +{c['decoder'][1] / total * 100:.1f}% MACs, "
              f"+{c['decoder'][0] / c['params'] * 100:.1f}% params")
        # stage 0 at full 135x135 (dense) / 137x137 (tp) and cropping after: per-pixel ops scale.
        dense0 = sum(m for n, m in rows.items() if n.startswith(("decoder.dense0.", "decoder.np_head", "decoder.hv_head")))
        cam0 = sum(m for n, m in rows.items() if n.startswith(("tp.cam0.layers", "tp.head")))
        late = dense0 * (135 ** 2 / 80 ** 2 - 1) + cam0 * (137 ** 2 / 80 ** 2 - 1)
        print(f"  stage 0 at 135x135, crop after: +{late / total * 100:.1f}% MACs")
        print(f"  block at the 8x8 level tp.up3: {model.tp.up3.weight.numel() / 1e6:.1f} M params, "
              f"{rows['tp.up3'] / 1e9:.2f} GMACs")
    # The paper's prose says Tiny halves the decoder (growth 256); the table says 0.75 (Base x s).
    half = dataclasses.replace(
        CONFIGS["tiny"], variant="tiny-half", dense_growth=tuple(w // 2 for w in BASE_DENSE_GROWTH),
        up_widths=tuple(w // 2 for w in BASE_UP_WIDTHS), tp_widths=tuple(w // 2 for w in BASE_TP_WIDTHS))
    a, b = count(build("tiny")), count(build(half))
    print(f"[tiny] decoder halved from Base (growth {half.dense_growth}, tp {half.tp_widths}): "
          f"{(b['params'] / a['params'] - 1) * 100:+.1f}% params, {(b['macs'] / a['macs'] - 1) * 100:+.1f}% MACs")


def _forward(variant, num_types):
    torch.manual_seed(0)
    model = build(variant, num_types, meta=False)
    x = torch.rand(1, 3, INPUT_SIZE, INPUT_SIZE)
    with torch.no_grad():
        out = model(x)
    for k, v in out.items():
        print(f"{k}: {tuple(v.shape)} mean {v.mean().item():+.4f} std {v.std().item():.4f}")
    assert tuple(out["np"].shape) == (1, 2, OUTPUT_SIZE, OUTPUT_SIZE)
    assert tuple(out["hv"].shape) == (1, 2, OUTPUT_SIZE, OUTPUT_SIZE)
    assert tuple(out["tp"].shape) == (1, num_types, OUTPUT_SIZE, OUTPUT_SIZE)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--layers", metavar="VARIANT", help="print the decoder layer list of VARIANT")
    ap.add_argument("--keys", action="store_true", help="print the decoder state-dict key patterns")
    ap.add_argument("--ablations", action="store_true", help="print the design checks")
    ap.add_argument("--forward", metavar="VARIANT", help="run a real eval forward of VARIANT")
    ap.add_argument("--num-types", type=int, default=6)
    args = ap.parse_args()
    if args.layers:
        _layers(args.layers)
    elif args.keys:
        for k in decoder_key_patterns(build("base", args.num_types)):
            print(k)
    elif args.ablations:
        _ablations()
    elif args.forward:
        _forward(args.forward, args.num_types)
    else:
        raise SystemExit(0 if _table() else 1)


if __name__ == "__main__":
    main()
