"""Training patches from the split folders written by extract_training_data.py.

A patch is an `input_size` square around a centre in one training image. Pixels past the
image are reflected from the image itself (numpy's "reflect", as `nx segment` pads), so a
patch never reads outside its own band. For shape augmentation a larger square is cut first
and the centre `input_size` square is kept afterwards, so rotations do not bring in corners.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from .geometry import Geometry
from .targets import make_targets


@dataclass
class LabelledImage:
    name: str
    image: np.ndarray  # uint8 [H, W, 3] RGB
    instances: np.ndarray  # int32 [H, W]
    types: np.ndarray  # int32 [H, W]


def _read(path: Path, flags):
    a = cv2.imread(str(path), flags)
    if a is None:
        raise FileNotFoundError(f"{path}: missing or not an image")
    return a


def load_split(folder: Path) -> list[LabelledImage]:
    """folder/{images,instances,types}/NAME.png, as extract_training_data.py writes them."""
    images = sorted((folder / "images").glob("*.png"))
    if not images:
        raise FileNotFoundError(f"{folder}/images: no .png files (run extract_training_data.py)")
    out = []
    for path in images:
        rgb = cv2.cvtColor(_read(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        inst = _read(folder / "instances" / path.name, cv2.IMREAD_UNCHANGED).astype(np.int32)
        typ = _read(folder / "types" / path.name, cv2.IMREAD_UNCHANGED).astype(np.int32)
        if inst.shape != rgb.shape[:2] or typ.shape != inst.shape:
            raise ValueError(f"{path}: image, instance and type maps differ in size")
        out.append(LabelledImage(path.stem, rgb, inst, typ))
    return out


def reflect_index(i: np.ndarray, n: int) -> np.ndarray:
    """numpy's mode="reflect" for any coordinate (periodic triangle wave of period 2(n-1))."""
    if n == 1:
        return np.zeros_like(i)
    period = 2 * (n - 1)
    m = np.mod(i, period)
    return np.where(m < n, m, period - m)


def cut(a: np.ndarray, cy: int, cx: int, size: int) -> np.ndarray:
    """The size x size square centred at (cy, cx) (top-left = centre - size // 2), reflected."""
    ys = reflect_index(np.arange(cy - size // 2, cy - size // 2 + size), a.shape[0])
    xs = reflect_index(np.arange(cx - size // 2, cx - size // 2 + size), a.shape[1])
    return a[ys][:, xs]


class PatchDataset(torch.utils.data.Dataset):
    """Candidate patches: centres on a `step` grid over every image; the sampler chooses among
    them and each draw jitters the centre by up to step/2 (uniform random cropping)."""

    def __init__(self, images: list[LabelledImage], geometry: Geometry, augment=None, step=16, seed=0):
        self.images, self.geometry, self.augment, self.step = images, geometry, augment, step
        self.rng = np.random.default_rng(seed)
        self.centres = [(k, y, x) for k, im in enumerate(images)
                        for y in range(step // 2, im.image.shape[0], step)
                        for x in range(step // 2, im.image.shape[1], step)]

    def __len__(self):
        return len(self.centres)

    def nucleus_types(self, index: int) -> list[int]:
        """Types of the nuclei whose centre of mass lies in the patch's output window (eq. 11)."""
        k, cy, cx = self.centres[index]
        im, half = self.images[k], self.geometry.window // 2
        out = []
        for inst_id in np.unique(im.instances):
            if inst_id == 0:
                continue
            ys, xs = np.nonzero(im.instances == inst_id)
            if abs(ys.mean() - cy) < half and abs(xs.mean() - cx) < half:
                out.append(int(np.bincount(im.types[ys, xs]).argmax()))
        return out

    def __getitem__(self, index: int):
        k, cy, cx = self.centres[index]
        im, size = self.images[k], self.geometry.input_size
        if self.augment is not None:
            j = self.step // 2
            cy += int(self.rng.integers(-j, j + 1))
            cx += int(self.rng.integers(-j, j + 1))
            big = int(math.ceil(size * math.sqrt(2) * 1.1)) | 1  # room for rotation and scale
            image, inst, typ = (cut(a, cy, cx, big) for a in (im.image, im.instances, im.types))
            image, inst, typ = self.augment(image, inst, typ)
            o = (big - size) // 2
            image, inst, typ = (a[o:o + size, o:o + size] for a in (image, inst, typ))
        else:
            image, inst, typ = (cut(a, cy, cx, size) for a in (im.image, im.instances, im.types))
        t = make_targets(np.ascontiguousarray(inst), np.ascontiguousarray(typ), self.geometry)
        x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float() / 255.0
        return x, {"np": torch.from_numpy(t["np"]), "hv": torch.from_numpy(t["hv"]),
                   "tp": torch.from_numpy(t["tp"])}
