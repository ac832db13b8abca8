"""Make HoVer-Net post-processing fixtures for the Swift NXPathology tests.

Why: Swift's PostProcessor must give what HoVer-Net's post-processing gives. This script
draws synthetic network outputs (NP probability, HV maps, TP probabilities) around known
nuclei, runs the reference (hovernet_postproc_reference.py: scipy, scikit-image, OpenCV), and
saves the inputs with the reference's outputs.

Cases (all seeded, so reruns are byte-identical on the pinned library versions):
  synthetic       96x112: a touching pair, a large nucleus, specks under 10 px, a nucleus cut
                  by the image border, a nucleus with a hole, one with mixed type pixels, and
                  a small one that keeps no marker
  crowded         256x256: ~60 random, often touching ellipses, noisier maps
  empty           48x40: no pixel reaches NP 0.5
  all_foreground  64x64: four nuclei tiling the whole image (no background pixel)

Each case directory holds:
  np.npy          float32 (H, W)       NP probability (softmax channel 1)
  hv.npy          float32 (2, H, W)    HV maps, horizontal then vertical
  tp.npy          uint8 (H, W)         TP argmax
  tp_prob.npy     float32 (T, H, W)    TP softmax (not with --compact)
  labels.npy      int32 (H, W)         reference instance labels (HoVer-Net's ids, not renumbered)
  records.json    per-instance records (id, bbox, centroid, centroid_hex, pixel_count,
                  contour, contour_simple, type, type_prob) and the library versions
  and with --stages: foreground.npy (uint8), sobel_h.npy, sobel_v.npy (float32),
  energy.npy, dist.npy (float64), markers.npy (int32): the intermediate maps.

Run from the repository root:
  .venv/bin/python Converters/python/make_postprocessing_fixtures.py --out DIR
      [--cases synthetic crowded ...] [--stages] [--compact]
The committed set is Tests/Fixtures/postprocessing/synthetic (--cases synthetic --compact);
the Swift tests regenerate every case with --stages into a temporary directory.
"""

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
import scipy
import skimage

import hovernet_postproc_reference as reference

TYPE_COUNT = 4  # background + 3 nucleus types, as a small PanNuke-like head


def disc(shape, cy, cx, ry, rx, angle=0.0):
    """Boolean ellipse centred at (cy, cx) with radii (ry, rx), rotated by angle (radians)."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    dy, dx = yy - cy, xx - cx
    c, s = np.cos(angle), np.sin(angle)
    u, v = c * dx + s * dy, -s * dx + c * dy
    return (u / rx) ** 2 + (v / ry) ** 2 <= 1.0


def paint(instances, mask, inst_id, centre=None, owner=None):
    """Add `mask` as instance `inst_id`; where it overlaps an earlier instance, the pixel
    goes to the nearer centre (owner maps id -> centre), so touching nuclei share a border."""
    if owner is not None and centre is not None:
        overlap = mask & (instances > 0)
        ys, xs = np.nonzero(overlap)
        for y, x in zip(ys, xs):
            other = owner[int(instances[y, x])]
            if (y - centre[0]) ** 2 + (x - centre[1]) ** 2 < (y - other[0]) ** 2 + (x - other[1]) ** 2:
                instances[y, x] = inst_id
        mask = mask & (instances == 0)
    instances[mask] = inst_id
    if owner is not None and centre is not None:
        owner[inst_id] = centre


def hv_targets(instances):
    """HoVer-Net's HV training targets: per instance, x and y offsets from the instance's
    centre of mass, negatives scaled to [-1, 0] and positives to [0, 1]; background 0."""
    h = np.zeros(instances.shape, np.float32)
    v = np.zeros(instances.shape, np.float32)
    for inst_id in np.unique(instances):
        if inst_id == 0:
            continue
        ys, xs = np.nonzero(instances == inst_id)
        for coords, out in ((xs - xs.mean(), h), (ys - ys.mean(), v)):
            values = coords.astype(np.float64)
            neg, pos = values < 0, values > 0
            if neg.any():
                values[neg] /= -values[neg].min()
            if pos.any():
                values[pos] /= values[pos].max()
            out[ys, xs] = values
    return h, v


def network_outputs(instances, types, rng, noise, mixed=()):
    """Synthetic NP/HV/TP maps for a ground-truth instance map.

    NP: 0.93 inside nuclei, 0.07 outside, plus uniform noise of +-noise (never near 0.5).
    HV: the HoVer-Net targets plus Gaussian noise (sd noise/2).
    TP: logits 4 for the instance's type, 0 elsewhere, plus Gaussian noise (sd noise*4); in
    the instances listed in `mixed`, a third of the pixels vote for another type and a sixth
    for background, to exercise the majority vote."""
    fg = instances > 0
    np_prob = np.where(fg, 0.93, 0.07) + rng.uniform(-noise, noise, instances.shape)
    np_prob = np.clip(np_prob, 0.0, 1.0).astype(np.float32)
    h, v = hv_targets(instances)
    hv = np.stack([h, v]) + rng.normal(0.0, noise / 2, (2,) + instances.shape)
    hv = hv.astype(np.float32)

    pixel_type = np.zeros(instances.shape, np.int64)
    for inst_id, inst_type in types.items():
        pixel_type[instances == inst_id] = inst_type
    for inst_id in mixed:
        ys, xs = np.nonzero(instances == inst_id)
        pick = rng.permutation(len(ys))
        third, sixth = len(ys) // 3, len(ys) // 6
        pixel_type[ys[pick[:third]], xs[pick[:third]]] = 1 + types[inst_id] % (TYPE_COUNT - 1)
        pixel_type[ys[pick[third : third + sixth]], xs[pick[third : third + sixth]]] = 0
    logits = rng.normal(0.0, noise * 4, (TYPE_COUNT,) + instances.shape)
    np.put_along_axis(logits, pixel_type[None], np.take_along_axis(logits, pixel_type[None], 0) + 4.0, 0)
    tp_prob = np.exp(logits - logits.max(axis=0, keepdims=True))
    tp_prob = (tp_prob / tp_prob.sum(axis=0, keepdims=True)).astype(np.float32)
    return np_prob, hv, tp_prob


def case_synthetic(rng):
    shape = (96, 112)
    inst = np.zeros(shape, np.int32)
    owner = {}
    types = {}
    # a touching pair: two discs whose overlap is split by distance to the centres
    paint(inst, disc(shape, 22, 24, 10, 10), 1, (22, 24), owner)
    paint(inst, disc(shape, 24, 41, 10, 10), 2, (24, 41), owner)
    types.update({1: 1, 2: 2})
    # a large nucleus
    paint(inst, disc(shape, 64, 36, 21, 17, 0.4), 3)
    types[3] = 3
    # a nucleus cut by the right image border
    paint(inst, disc(shape, 20, 108, 9, 11), 4)
    types[4] = 1
    # a nucleus with a hole (the hole is background in NP)
    ring = disc(shape, 68, 86, 12, 12) & ~disc(shape, 68, 86, 4, 4)
    paint(inst, ring, 5)
    types[5] = 2
    # one with mixed type pixels
    paint(inst, disc(shape, 44, 82, 8, 9), 6)
    types[6] = 3
    # a small nucleus (13 px): kept as foreground, but too small to keep a marker after
    # the opening, so the watershed leaves it unlabelled
    paint(inst, disc(shape, 86, 60, 2.1, 2.1), 7)
    types[7] = 2
    # specks under 10 px: never nuclei
    for cy, cx, ry, rx in ((6, 70, 1.2, 1.2), (90, 100, 1, 2), (88, 6, 1.5, 1.0)):
        speck = 1 + max(types)
        paint(inst, disc(shape, cy, cx, ry, rx), speck)
        types[speck] = 1
    return inst, types, 0.05, (6,)


def case_crowded(rng):
    shape = (256, 256)
    inst = np.zeros(shape, np.int32)
    owner = {}
    types = {}
    for k in range(1, 61):
        cy, cx = rng.uniform(-4, shape[0] + 4), rng.uniform(-4, shape[1] + 4)
        ry, rx = rng.uniform(4, 13), rng.uniform(4, 13)
        paint(inst, disc(shape, cy, cx, ry, rx, rng.uniform(0, np.pi)), k, (cy, cx), owner)
        types[k] = int(rng.integers(1, TYPE_COUNT))
    present = set(np.unique(inst).tolist())
    types = {k: t for k, t in types.items() if k in present}
    return inst, types, 0.12, tuple(list(types)[:5])


def case_empty(rng):
    return np.zeros((48, 40), np.int32), {}, 0.05, ()


def case_all_foreground(rng):
    inst = np.zeros((64, 64), np.int32)
    inst[:32, :32], inst[:32, 32:], inst[32:, :32], inst[32:, 32:] = 1, 2, 3, 4
    return inst, {1: 1, 2: 2, 3: 3, 4: 1}, 0.05, ()


CASES = {
    "synthetic": case_synthetic,
    "crowded": case_crowded,
    "empty": case_empty,
    "all_foreground": case_all_foreground,
}


def write_case(name, out_dir: Path, stages: bool, compact: bool):
    rng = np.random.default_rng(sum(map(ord, name)))
    inst, types, noise, mixed = CASES[name](rng)
    np_prob, hv, tp_prob = network_outputs(inst, types, rng, noise, mixed)
    if name == "empty":
        np_prob = np.minimum(np_prob, np.float32(0.45))
    tp = np.argmax(tp_prob, axis=0).astype(np.uint8)

    labels, maps = reference.proc_np_hv(np_prob, hv, stages=True)
    records = reference.instance_records(labels, tp)

    case_dir = out_dir / name
    case_dir.mkdir(parents=True, exist_ok=True)
    np.save(case_dir / "np.npy", np_prob)
    np.save(case_dir / "hv.npy", hv)
    np.save(case_dir / "tp.npy", tp)
    if not compact:
        np.save(case_dir / "tp_prob.npy", tp_prob)
    np.save(case_dir / "labels.npy", labels)
    if stages:
        for key, value in maps.items():
            np.save(case_dir / f"{key}.npy", value)
    info = {
        "case": name,
        "height": int(inst.shape[0]),
        "width": int(inst.shape[1]),
        "type_count": TYPE_COUNT,
        "versions": {
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "scikit-image": skimage.__version__,
            "opencv": cv2.__version__,
        },
        "records": records,
    }
    with open(case_dir / "records.json", "w") as f:
        json.dump(info, f, indent=None, separators=(",", ":"))
        f.write("\n")
    return len(records)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("Tests/Fixtures/postprocessing"))
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=sorted(CASES))
    parser.add_argument("--stages", action="store_true", help="also save the intermediate maps")
    parser.add_argument("--compact", action="store_true", help="leave out tp_prob.npy")
    args = parser.parse_args()
    summary = {name: write_case(name, args.out, args.stages, args.compact) for name in args.cases}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
