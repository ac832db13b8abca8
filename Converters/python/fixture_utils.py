"""Shared helpers for the PyTorch/timm fixture scripts.

Randomly initialised timm models make poor test fixtures: ConvNeXt's layer-scale
gammas start at 1e-6 (so every block is almost an identity) and norm layers start
at weight=1, bias=0 (so a runtime that ignores them still passes). `perturb_for_fixtures`
moves those parameters to values where mistakes show up in the output (and, by
default, gives conv/linear biases non-zero values too: timm zero-inits them, which
leaves bias handling untested and makes the TorchScript exporter fold the identical
zero tensors into shared initializers plus Identity nodes), and
`relative_diff` is the agreement metric every fixture check uses.
"""

import numpy as np
import torch
from torch import nn

# Module types whose affine weight/bias (and running statistics) are perturbed.
# timm's LayerNorm2d and friends subclass nn.LayerNorm, so isinstance catches them.
NORM_TYPES = (nn.LayerNorm, nn.GroupNorm, nn.modules.batchnorm._NormBase)


@torch.no_grad()
def perturb_for_fixtures(model: nn.Module, biases: bool = True) -> nn.Module:
    """Perturb parameters that random init leaves degenerate, using torch's global RNG.

    - layer-scale gammas (parameters named ``*.gamma`` or ``gamma``) -> U(0.1, 1)
    - every norm weight -> U(0.5, 1.5), every norm bias -> N(0, 0.1)
    - batch-norm running mean -> N(0, 0.1), running var -> U(0.5, 1.5)
    - if ``biases``: every other parameter named ``*.bias`` -> N(0, 0.1)

    Call ``torch.manual_seed`` first for reproducible results. Returns ``model``.
    """
    for name, p in model.named_parameters():
        leaf = name.rsplit(".", 1)[-1]
        if leaf == "gamma":
            p.uniform_(0.1, 1.0)
        elif leaf == "bias" and biases:
            p.normal_(0.0, 0.1)  # norm biases are redrawn below, with the same law
    for m in model.modules():
        if not isinstance(m, NORM_TYPES):
            continue
        if getattr(m, "weight", None) is not None:
            m.weight.uniform_(0.5, 1.5)
        if getattr(m, "bias", None) is not None:
            m.bias.normal_(0.0, 0.1)
        if getattr(m, "running_mean", None) is not None:
            m.running_mean.normal_(0.0, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return model


def relative_diff(actual, expected) -> float:
    """max |actual - expected| / max |expected| (0 when both are all zeros)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise ValueError(f"shape mismatch: {actual.shape} vs {expected.shape}")
    scale = np.abs(expected).max(initial=0.0)
    diff = np.abs(actual - expected).max(initial=0.0)
    return float(diff / scale) if scale > 0 else float(diff)


def parameter_count(model: nn.Module) -> int:
    """timm's convention: sum of numel over model.parameters()."""
    return sum(p.numel() for p in model.parameters())
