"""The paper's losses (eq. 5-10), on the raw model outputs.

Each of the paper's per-pixel sums is divided by its pixel count, so the three terms of eq. 5
are per-pixel means of comparable size (HoVer-Net's losses are means too); without it the NP
sum over 80x80 pixels would swamp the HV and TP terms by four orders of magnitude.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

NP_CLIP = (0.05, 0.95)  # eq. 6: "predictions are reduced to [0.05, 0.95]"
GAMMA_POS = 0.5  # eq. 6; why 0.5 and not 1.0: Spec/TRAINING.md §4
GAMMA_NEG = 4.0
FOCAL_ALPHA = 0.25  # eq. 10
FOCAL_GAMMA = 2.0
TP_EPS = 1e-7  # eq. 10: "normalized across classes and clipped"


def np_loss(logits, target, gamma_pos=GAMMA_POS, gamma_neg=GAMMA_NEG):
    """Eq. 6, asymmetric loss. logits [N, 2, H, W]; target [N, H, W] in {0, 1}."""
    p = torch.softmax(logits, 1)[:, 1].clamp(*NP_CLIP)
    pos = -((1 - p) ** gamma_pos) * torch.log(p)
    neg = -(p ** gamma_neg) * torch.log(1 - p)
    return torch.where(target > 0.5, pos, neg).mean()


def sobel_kernels(size: int = 5, dtype=torch.float32):
    """HoVer-Net's get_sobel_kernel: k_x = x / (x^2 + y^2), k_y = y / (x^2 + y^2) on a
    size x size grid centred on 0, with x along columns and y along rows."""
    r = torch.arange(-(size // 2), size // 2 + 1, dtype=dtype)
    y, x = torch.meshgrid(r, r, indexing="ij")
    denom = x * x + y * y + 1.0e-15
    return x / denom, y / denom


def hv_gradients(hv):
    """d(horizontal)/dx and d(vertical)/dy, [N, 2, H, W], zero padding as HoVer-Net. The
    horizontal map is differentiated along x and the vertical one along y, which is what the
    post-processing's Sobel step measures (HoVer-Net's code pairs them the other way round)."""
    kx, ky = sobel_kernels(5, hv.dtype)
    weight = torch.stack([kx, ky])[:, None].to(hv.device)  # [2, 1, 5, 5], one per channel
    return F.conv2d(hv, weight, padding=2, groups=2)


def hv_loss(pred, target, focus):
    """Eq. 7-9: MSE over every pixel and channel + MSGE over nuclei.
    pred, target [N, 2, H, W]; focus [N, H, W] (the NP target)."""
    mse = ((pred - target) ** 2).mean()
    focus2 = torch.stack([focus, focus], 1).to(pred.dtype)
    diff = (hv_gradients(pred) - hv_gradients(target)) ** 2
    msge = (focus2 * diff).sum() / (focus2.sum() + 1.0e-8)
    return mse + msge


def tp_loss(logits, target, alpha=FOCAL_ALPHA, gamma=FOCAL_GAMMA):
    """Eq. 10, focal loss. logits [N, C, H, W]; target [N, H, W] class indices (0 background).
    With one-hot truth the sum over classes is -log p_t."""
    p = torch.softmax(logits, 1).clamp(TP_EPS, 1 - TP_EPS)
    p_t = p.gather(1, target[:, None].long())[:, 0]
    return (-alpha * (1 - p_t) ** gamma * torch.log(p_t)).mean()


def total_loss(out, targets, gamma_pos=GAMMA_POS):
    """Eq. 5. Returns (total, {"np", "hv", "tp"} as floats)."""
    parts = {
        "np": np_loss(out["np"], targets["np"], gamma_pos=gamma_pos),
        "hv": hv_loss(out["hv"], targets["hv"], targets["np"]),
        "tp": tp_loss(out["tp"], targets["tp"]),
    }
    return parts["np"] + parts["hv"] + parts["tp"], {k: float(v.detach()) for k, v in parts.items()}
