"""Whole-image inference exactly as `nx segment` does it (Sources/NXPathology: TileGeometry,
ReflectPadding, SegmentationMaps, PostProcessor), so PyTorch and `nx` can be compared map for map:

  tiles     tile (r, c) reads the input square whose top-left image pixel is
            (c*window - offset, r*window - offset), reflected past the image; its output
            covers image pixels [c*window, (c+1)*window) x [r*window, (r+1)*window)
  maps      softmax(np)[1], hv, softmax(tp) on the stitched output grid, then bilinear
            (half-pixel centres, clamped at the ends) to full resolution, cropped to the image
  nuclei    HoVer-Net post-processing (hovernet_postproc_reference.proc_np_hv) and per-nucleus
            type by majority vote of argmax(tp) (instance_records)
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

import hovernet_postproc_reference as post

from .data import reflect_index
from .geometry import Geometry


@torch.no_grad()
def predict_maps(model, image: np.ndarray, geometry: Geometry, batch_size: int = 4):
    """image uint8 [H, W, 3] -> (np_prob [H, W], hv [2, H, W], tp_prob [T, H, W]) float32."""
    g = geometry
    h, w = image.shape[:2]
    rows, cols = -(-h // g.window), -(-w // g.window)
    tiles = []
    for r in range(rows):
        for c in range(cols):
            ys = reflect_index(np.arange(r * g.window - g.offset, r * g.window - g.offset + g.input_size), h)
            xs = reflect_index(np.arange(c * g.window - g.offset, c * g.window - g.offset + g.input_size), w)
            tiles.append(image[ys][:, xs])
    x = torch.from_numpy(np.stack(tiles)).permute(0, 3, 1, 2).float() / 255.0
    outs = {"np": [], "hv": [], "tp": []}
    for i in range(0, len(x), batch_size):
        out = model(x[i:i + batch_size])
        outs["np"].append(torch.softmax(out["np"], 1)[:, 1:2])
        outs["hv"].append(out["hv"])
        outs["tp"].append(torch.softmax(out["tp"], 1))
    s = g.output_size
    planes = torch.cat([torch.cat(outs[k]) for k in ("np", "hv", "tp")], 1)  # [tiles, 3+T, s, s]
    grid = planes.reshape(rows, cols, -1, s, s).permute(2, 0, 3, 1, 4).reshape(1, -1, rows * s, cols * s)
    full = F.interpolate(grid, scale_factor=g.stride, mode="bilinear", align_corners=False)[0, :, :h, :w]
    full = full.numpy().astype(np.float32)
    return full[0], full[1:3], full[3:]


def segment(model, image: np.ndarray, geometry: Geometry):
    """-> (instances int32 [H, W], type_map int32 [H, W] (argmax of tp), records)."""
    np_prob, hv, tp_prob = predict_maps(model, image, geometry)
    instances = post.proc_np_hv(np_prob, hv).astype(np.int32)
    type_map = tp_prob.argmax(0).astype(np.int32)
    records = post.instance_records(instances, type_map)
    return instances, type_map, records
