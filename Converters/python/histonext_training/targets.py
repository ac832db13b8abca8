"""Training targets from an instance map and a type map (HoVer-Net's targets, at the model's
output stride).

HV: for each nucleus, the horizontal and vertical offsets of its pixels from its centre of mass
(rounded to a pixel as HoVer-Net does), each sign normalised separately by its largest
magnitude, so every nucleus spans [-1, 1] on both axes (HoVer-Net gen_instance_hv_map). Maps are
computed on the whole input patch, so a nucleus cut by the output window keeps the offsets of
the whole nucleus, then cropped to the output window and reduced to the output stride:
  NP  1 where more than half of the stride x stride block is nucleus
  TP  the most frequent nucleus type in the block where NP is 1, else 0
  HV  the block mean (the pipeline resamples the stride-2 output bilinearly, half-pixel centres)
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .geometry import Geometry

MIN_HV_AREA = 30  # HoVer-Net: instances smaller than this inside the crop get no HV target


def split_disconnected(instances: np.ndarray) -> np.ndarray:
    """Give every 8-connected piece of an instance its own label (HoVer-Net
    fix_mirror_padding): reflect padding and cropping can split one label into pieces."""
    out = np.zeros_like(instances, dtype=np.int32)
    next_id = 1
    for inst_id in np.unique(instances):
        if inst_id == 0:
            continue
        pieces, n = ndimage.label(instances == inst_id, structure=np.ones((3, 3)))
        for k in range(1, n + 1):
            out[pieces == k] = next_id
            next_id += 1
    return out


def hv_map(instances: np.ndarray, keep=None) -> np.ndarray:
    """[2, H, W] float32: channel 0 horizontal (x), channel 1 vertical (y), in [-1, 1].
    `keep`: the instance ids that get a map (default all)."""
    h, w = instances.shape
    out = np.zeros((2, h, w), dtype=np.float32)
    ids = np.unique(instances)
    for inst_id in ids[ids > 0]:
        if keep is not None and inst_id not in keep:
            continue
        rows, cols = np.nonzero(instances == inst_id)
        r0, r1 = max(rows.min() - 2, 0), min(rows.max() + 3, h)
        c0, c1 = max(cols.min() - 2, 0), min(cols.max() + 3, w)
        mask = instances[r0:r1, c0:c1] == inst_id
        if mask.shape[0] < 2 or mask.shape[1] < 2:
            continue
        cy, cx = ndimage.center_of_mass(mask)
        # HoVer-Net's rule exactly: the ranges start at 1 while the centre is the 0-based
        # int(com + 0.5), so the zero lies one pixel left of / above the centre of mass.
        xs = np.arange(1, mask.shape[1] + 1) - int(cx + 0.5)
        ys = np.arange(1, mask.shape[0] + 1) - int(cy + 0.5)
        gx, gy = np.meshgrid(xs.astype(np.float32), ys.astype(np.float32))
        for channel, g in ((0, gx), (1, gy)):
            g = np.where(mask, g, 0.0)
            if (g < 0).any():
                g[g < 0] /= -g[g < 0].min()
            if (g > 0).any():
                g[g > 0] /= g[g > 0].max()
            out[channel, r0:r1, c0:c1][mask] = g[mask]
    return out


def reduce_to_stride(full: dict, stride: int) -> dict:
    """NP/TP/HV at full resolution (window x window) -> output resolution (see module doc)."""
    np_full, tp_full, hv_full = full["np"], full["tp"], full["hv"]
    n = np_full.shape[0] // stride

    def blocks(a):
        return a.reshape(a.shape[:-2] + (n, stride, n, stride))

    fraction = blocks(np_full.astype(np.float32)).mean(axis=(-3, -1))
    np_out = (fraction > 0.5).astype(np.float32)
    types = blocks(tp_full)
    num = int(tp_full.max()) + 1
    counts = np.stack([(types == t).sum(axis=(-3, -1)) for t in range(1, max(num, 2))], 0)
    tp_out = np.where(np_out > 0, counts.argmax(0) + 1, 0).astype(np.int64)
    hv_out = blocks(hv_full).mean(axis=(-3, -1)).astype(np.float32)
    return {"np": np_out, "tp": tp_out, "hv": hv_out}


def make_targets(instances: np.ndarray, types: np.ndarray, geometry: Geometry) -> dict:
    """instances, types: [input_size, input_size] maps of the (augmented) input patch.
    Returns np [S, S] float32 {0,1}, hv [2, S, S] float32, tp [S, S] int64, S = output_size."""
    g = geometry
    assert instances.shape == (g.input_size, g.input_size), instances.shape
    instances = split_disconnected(instances)
    crop = (slice(g.offset, g.offset + g.window),) * 2
    inner = instances[crop]
    ids, areas = np.unique(inner[inner > 0], return_counts=True)
    keep = set(ids[areas >= MIN_HV_AREA].tolist())
    full = {
        "np": (inner > 0),
        "tp": np.where(inner > 0, types[crop], 0).astype(np.int64),
        "hv": hv_map(instances, keep)[(slice(None),) + crop],
    }
    return reduce_to_stride(full, g.stride)
