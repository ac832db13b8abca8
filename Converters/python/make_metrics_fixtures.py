"""Make the fixtures that check the Swift evaluation metrics against metrics_reference.py.

Why: the Swift metrics (Sources/NXPathology/Metrics*.swift) must give the numbers that
HoVer-Net's and PanNuke's evaluation scripts give, so that results are comparable with the
paper's tables. This script builds synthetic cases that hit every rule those scripts have
(touching, split, merged, missing and spurious nuclei, IoU exactly 0.5, ties, labels that are
not contiguous, empty maps), computes every metric with metrics_reference.py and saves the
inputs as .npy plus one JSON of expected values.

What it makes (everything from fixed seeds, so reruns give identical files):

  <out>/ (default Tests/Fixtures/metrics/, committed, < 300 KB)
    seg_<case>_truth.npy, seg_<case>_pred.npy   instance maps (uint8, uint16 or int32)
    cls_<image>_{true,pred}_{centroids,types}.npy   centroids float32 N x 2 (x, y), types int32
    pan_<image>_{truth,pred}.npy                class-wise instance maps, C x H x W
    lsa_<case>.npy                              cost matrices (float64)
    expected.json                               every expected value; NaN is written as null

  with --extended, larger random cases as well (what the Swift tests add at test time when
  Python is available; not committed).

Run from the repository root with the CI venv (numpy, scipy):
  .venv/bin/python Converters/python/make_metrics_fixtures.py [--out DIR] [--extended]
"""

import argparse
import json
import math
from pathlib import Path

import numpy as np
import scipy
from scipy import ndimage
from scipy.optimize import linear_sum_assignment

import metrics_reference as ref

REPO = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- drawing


def ellipse(shape, cy, cx, ry, rx, angle=0.0):
    """Boolean mask of a filled, rotated ellipse."""
    y, x = np.mgrid[0 : shape[0], 0 : shape[1]]
    c, s = math.cos(angle), math.sin(angle)
    u = (x - cx) * c + (y - cy) * s
    v = -(x - cx) * s + (y - cy) * c
    return (u / rx) ** 2 + (v / ry) ** 2 <= 1.0


def paint(shape, masks, labels, dtype=np.uint8):
    """An instance map with masks[i] labelled labels[i]; later masks overwrite earlier ones."""
    out = np.zeros(shape, dtype=dtype)
    for mask, label in zip(masks, labels):
        out[mask] = label
    return out


def random_truth(rng, shape, count, r_range=(3.0, 7.0)):
    """Random ellipses; overlaps make touching nuclei (the later one wins)."""
    masks = []
    for _ in range(count):
        ry, rx = rng.uniform(*r_range), rng.uniform(*r_range)
        cy, cx = rng.uniform(0, shape[0]), rng.uniform(0, shape[1])
        masks.append(ellipse(shape, cy, cx, ry, rx, rng.uniform(0, math.pi)))
    flat = paint(shape, masks, range(1, count + 1), np.int64)
    # Keep only what is still visible after overwriting.
    return [flat == k for k in range(1, count + 1) if (flat == k).any()]


def perturb(rng, shape, masks, spurious):
    """Prediction masks from truth masks: kept, shifted, dilated, eroded, dropped, split in
    two, merged with the next nucleus; plus `spurious` extra ellipses."""
    out = []
    skip_next = False
    for i, mask in enumerate(masks):
        if skip_next:
            skip_next = False
            continue
        op = rng.choice(["keep", "shift", "dilate", "erode", "drop", "split", "merge"],
                        p=[0.25, 0.2, 0.15, 0.1, 0.1, 0.1, 0.1])
        if op == "keep":
            out.append(mask)
        elif op == "shift":
            dy, dx = rng.integers(-3, 4, size=2)
            out.append(np.roll(np.roll(mask, dy, axis=0), dx, axis=1))
        elif op == "dilate":
            out.append(ndimage.binary_dilation(mask, iterations=int(rng.integers(1, 3))))
        elif op == "erode":
            eroded = ndimage.binary_erosion(mask)
            out.append(eroded if eroded.any() else mask)
        elif op == "split":
            ys, xs = np.nonzero(mask)
            y, x = np.mgrid[0 : shape[0], 0 : shape[1]]
            angle = rng.uniform(0, math.pi)
            side = (x - xs.mean()) * math.cos(angle) + (y - ys.mean()) * math.sin(angle) > 0
            for part in (mask & side, mask & ~side):
                if part.any():
                    out.append(part)
        elif op == "merge" and i + 1 < len(masks):
            out.append(mask | masks[i + 1])
            skip_next = True
        elif op == "merge":
            out.append(mask)
        # "drop": nothing
    for _ in range(spurious):
        r = rng.uniform(2.0, 5.0)
        out.append(ellipse(shape, rng.uniform(0, shape[0]), rng.uniform(0, shape[1]), r, r))
    return out


def scattered_labels(rng, count, high):
    """`count` distinct labels in 1...high in random order (labels need not be contiguous)."""
    return rng.choice(np.arange(1, high + 1), size=count, replace=False)


# ---------------------------------------------------------------- cases


def segmentation_cases(extended):
    """name -> (truth, prediction)."""
    cases = {}
    shape = (48, 48)
    centres = [(8, 8, 5), (8, 30, 4), (24, 14, 6), (26, 36, 5), (40, 10, 3), (40, 30, 4)]
    discs = [ellipse(shape, cy, cx, r, r) for cy, cx, r in centres]
    base = paint(shape, discs, range(1, 7))

    cases["identical"] = (base, base.copy())
    cases["relabelled"] = (
        paint(shape, discs, [3, 250, 17, 99, 4, 5]),
        paint(shape, discs, [200, 7, 150, 1, 2, 60]),
    )
    shifted = [np.roll(np.roll(d, dy, 0), dx, 1) for d, (dy, dx) in
               zip(discs, [(0, 1), (2, 0), (1, 3), (-4, 0), (0, -2), (3, 3)])]
    cases["shifted"] = (base, paint(shape, shifted, [6, 5, 4, 3, 2, 1]))

    # Touching: an ellipse cut in two by a vertical line; the prediction's cut is 2 px off.
    blob = ellipse(shape, 24, 24, 9, 16)
    x = np.mgrid[0:48, 0:48][1]
    cases["touching"] = (
        paint(shape, [blob & (x < 24), blob & (x >= 24)], [1, 2]),
        paint(shape, [blob & (x < 26), blob & (x >= 26)], [1, 2]),
    )
    # Split: one nucleus predicted as three pieces; merged: two touching nuclei as one.
    big = ellipse(shape, 24, 24, 12, 12)
    y = np.mgrid[0:48, 0:48][0]
    cases["split"] = (
        paint(shape, [big], [1]),
        paint(shape, [big & (y < 20), big & (y >= 20) & (x < 24), big & (y >= 20) & (x >= 24)], [1, 2, 3]),
    )
    cases["merged"] = (
        paint(shape, [blob & (x < 24), blob & (x >= 24), discs[0]], [1, 2, 3]),
        paint(shape, [blob, discs[0]], [1, 2]),
    )
    cases["missing"] = (base, paint(shape, [discs[0], discs[2], discs[3]], [1, 2, 3]))
    extra = [ellipse(shape, 16, 44, 3, 3), ellipse(shape, 44, 44, 2, 4), ellipse(shape, 32, 24, 2, 2)]
    cases["spurious"] = (base, paint(shape, discs + extra, range(1, 10)))

    # IoU exactly 0.5 is not a match (the rule is IoU > 0.5); 5/9 just above is.
    half_t = np.zeros(shape, np.uint8)
    half_p = np.zeros(shape, np.uint8)
    half_t[4:8, 4:6] = 1  # 8 px
    half_p[4:8, 4:5] = 1  # 4 px inside: IoU 4/8
    half_t[20:23, 20:23] = 2  # 9 px
    half_p[20:23, 20:23] = 2
    half_p[20:22, 22] = 0  # 7 px inside... IoU 7/9
    half_t[30:32, 30:35] = 3  # 10 px
    half_p[30:32, 31:36] = 3  # overlap 8, union 12: IoU 2/3
    cases["iou_half"] = (half_t, half_p)

    # Ties: one prediction overlapping two identical truths equally (AJI takes the first,
    # AJI+ one of them), and two predictions overlapping one truth equally.
    tie_t = np.zeros(shape, np.uint8)
    tie_p = np.zeros(shape, np.uint8)
    tie_t[5:10, 5:10] = 1
    tie_t[5:10, 10:15] = 2
    tie_p[6:9, 7:13] = 1
    tie_t[25:35, 20:30] = 3
    tie_p[25:35, 18:25] = 2
    tie_p[25:35, 25:32] = 3
    cases["ties"] = (tie_t, tie_p)

    single_t = np.zeros(shape, np.uint8)
    single_p = np.zeros(shape, np.uint8)
    for k, (yy, xx) in enumerate([(1, 1), (10, 20), (30, 40), (47, 47)], start=1):
        single_t[yy, xx] = k
    single_p[1, 1] = 9
    single_p[10, 21] = 8
    single_p[47, 47] = 7
    cases["single_pixels"] = (single_t, single_p)

    # Every pixel labelled: no background at all.
    quad_t = np.ones(shape, np.uint8)
    quad_t[:24, 24:] = 2
    quad_t[24:, :24] = 3
    quad_t[24:, 24:] = 4
    quad_p = np.ones(shape, np.uint8)
    quad_p[:, 20:] = 2
    quad_p[30:, :] = 3
    cases["no_background"] = (quad_t, quad_p)

    empty = np.zeros(shape, np.uint8)
    cases["empty_truth"] = (empty, base.copy())
    cases["empty_prediction"] = (base.copy(), empty.copy())
    cases["empty_both"] = (empty, empty.copy())

    rng = np.random.default_rng(7)
    for k, (size, count, dtype) in enumerate([((64, 64), 28, np.uint8), ((64, 80), 40, np.uint16)]):
        truth_masks = random_truth(rng, size, count)
        pred_masks = perturb(rng, size, truth_masks, spurious=4)
        high = 255 if dtype == np.uint8 else 60000
        cases[f"random_{k}"] = (
            paint(size, truth_masks, scattered_labels(rng, len(truth_masks), high), dtype),
            paint(size, pred_masks, scattered_labels(rng, len(pred_masks), high), dtype),
        )
    if extended:
        for k in range(4):
            size = (256, 256)
            truth_masks = random_truth(rng, size, 150, r_range=(3.0, 9.0))
            pred_masks = perturb(rng, size, truth_masks, spurious=15)
            cases[f"large_{k}"] = (
                paint(size, truth_masks, scattered_labels(rng, len(truth_masks), 100000), np.int32),
                paint(size, pred_masks, scattered_labels(rng, len(pred_masks), 100000), np.int32),
            )
    return cases


def classification_images(extended):
    """name -> dict(true_centroids, true_types, pred_centroids, pred_types)."""
    rng = np.random.default_rng(11)

    def jittered(count, extent, sigma, drop, spurious, confusion, types=(1, 2, 3, 4)):
        true_c = rng.uniform(0, extent, size=(count, 2))
        true_t = rng.choice(types, size=count)
        keep = rng.uniform(size=count) >= drop
        pred_c = true_c[keep] + rng.normal(0, sigma, size=(keep.sum(), 2))
        pred_t = true_t[keep].copy()
        flip = rng.uniform(size=len(pred_t)) < confusion
        pred_t[flip] = rng.choice(types, size=flip.sum())
        pred_c = np.concatenate([pred_c, rng.uniform(0, extent, size=(spurious, 2))])
        pred_t = np.concatenate([pred_t, rng.choice(types, size=spurious)])
        order = rng.permutation(len(pred_t))
        return dict(true_centroids=true_c, true_types=true_t,
                    pred_centroids=pred_c[order], pred_types=pred_t[order])

    images = {
        "dense": jittered(40, 200.0, 4.0, 0.15, 6, 0.2),
        # Crowded: jitter comparable to spacing, where the assignment of the whole distance
        # matrix (not only the pairs within 12 px) decides which pairs survive.
        "crowded": jittered(60, 60.0, 7.0, 0.1, 8, 0.3),
        "boundary": dict(
            true_centroids=np.array([[0, 0], [50, 50], [100, 100], [150, 20]]),
            true_types=np.array([1, 2, 3, 1]),
            # 12 exactly (kept), 12.5 (dropped), 5 (kept), sqrt(12^2 + 1) (dropped).
            pred_centroids=np.array([[12, 0], [50, 62.5], [103, 104], [162, 21]]),
            pred_types=np.array([1, 2, 2, 1]),
        ),
        "no_truth": dict(true_centroids=np.zeros((0, 2)), true_types=np.zeros(0),
                         # (5, 5) is within 12 px of HoVer-Net's dummy nucleus at (0, 0).
                         pred_centroids=np.array([[5, 5], [40, 40]]), pred_types=np.array([2, 3])),
        "no_prediction": dict(true_centroids=np.array([[30, 30], [60, 10], [4, 3]]),
                              true_types=np.array([1, 4, 2]),
                              pred_centroids=np.zeros((0, 2)), pred_types=np.zeros(0)),
        "nothing": dict(true_centroids=np.zeros((0, 2)), true_types=np.zeros(0),
                        pred_centroids=np.zeros((0, 2)), pred_types=np.zeros(0)),
    }
    if extended:
        images["large"] = jittered(400, 1000.0, 5.0, 0.1, 40, 0.25)
    for image in images.values():
        # HoVer-Net reads centroids as float32; store them so and compute from those values.
        for key in ("true_centroids", "pred_centroids"):
            image[key] = np.asarray(image[key], dtype=np.float32).reshape(-1, 2)
        for key in ("true_types", "pred_types"):
            image[key] = np.asarray(image[key], dtype=np.int32)
    return images


def pannuke_images(extended):
    """name -> (tissue, truth C x H x W, prediction C x H x W) with C = 5."""
    rng = np.random.default_rng(5)
    shape, classes = (32, 32), 5

    def random_classes(count, allowed=range(classes)):
        masks = random_truth(rng, shape, count, r_range=(2.0, 5.0))
        cls = rng.choice(list(allowed), size=len(masks))
        return masks, cls

    def stack(masks, cls, labels):
        out = np.zeros((classes,) + shape, np.uint8)
        for mask, c, label in zip(masks, cls, labels):
            out[c][mask] = label
        return out

    images = {}
    # PanNuke ids are unique within an image across channels; keep that here.
    masks, cls = random_classes(12)
    pred_masks = perturb(rng, shape, masks, spurious=2)
    pred_cls = rng.choice(classes, size=len(pred_masks))
    images["mixed"] = ("Breast", stack(masks, cls, range(1, 100)), stack(pred_masks, pred_cls, range(1, 100)))

    masks, cls = random_classes(8, allowed=[0, 2])
    pred_cls = np.where(rng.uniform(size=len(masks)) < 0.3, 1, cls)  # some called class 1
    images["two_classes"] = ("Breast", stack(masks, cls, range(1, 100)), stack(masks, pred_cls, range(40, 140)))

    masks, _ = random_classes(5)
    images["empty_truth"] = ("Colon", np.zeros((classes,) + shape, np.uint8),
                             stack(masks, rng.choice(classes, size=len(masks)), range(1, 100)))
    masks, cls = random_classes(6)
    images["empty_prediction"] = ("Colon", stack(masks, cls, range(1, 100)), np.zeros((classes,) + shape, np.uint8))

    # Channels that overlap: binarize lets the later channel win, and an instance entirely
    # covered by a later channel disappears from the merged map.
    truth = np.zeros((classes,) + shape, np.uint8)
    truth[1][4:12, 4:12] = 1
    truth[3][8:16, 8:16] = 2
    truth[0][20:24, 20:24] = 3
    truth[4][19:25, 19:25] = 4
    pred = np.zeros_like(truth)
    pred[1][4:12, 4:11] = 7
    pred[3][9:16, 8:16] = 8
    pred[4][19:25, 19:25] = 9
    images["overlapping_channels"] = ("Skin", truth, pred)

    masks, cls = random_classes(10)
    same = stack(masks, cls, range(1, 100))
    images["identical"] = ("Skin", same, same.copy())
    if extended:
        for k in range(3):
            masks, cls = random_classes(25)
            pred_masks = perturb(rng, shape, masks, spurious=3)
            images[f"random_{k}"] = (["Breast", "Colon", "Liver"][k], stack(masks, cls, range(1, 200)),
                                     stack(pred_masks, rng.choice(classes, size=len(pred_masks)), range(1, 200)))
    return images


def assignment_cases():
    """name -> cost matrix: random real (unique optimum), small integers (many ties),
    constant, with +inf entries, rectangular both ways, and empty."""
    rng = np.random.default_rng(3)
    cases = {}
    for shape in [(1, 1), (5, 5), (4, 7), (7, 4), (1, 6), (6, 1), (30, 30), (20, 35), (35, 20)]:
        cases[f"uniform_{shape[0]}x{shape[1]}"] = rng.uniform(-1.0, 1.0, size=shape)
    for shape in [(6, 6), (5, 8), (8, 5), (12, 12)]:
        cases[f"ties_{shape[0]}x{shape[1]}"] = rng.integers(0, 3, size=shape).astype(np.float64)
    cases["constant_4x6"] = np.full((4, 6), 2.5)
    cases["negated_iou_5x6"] = -np.where(rng.uniform(size=(5, 6)) < 0.6, 0.0, rng.uniform(size=(5, 6)))
    with_inf = rng.uniform(0, 10, size=(5, 5))
    with_inf[0, 1:] = np.inf
    with_inf[2, :3] = np.inf
    cases["inf_5x5"] = with_inf
    cases["empty_0x3"] = np.zeros((0, 3))
    return cases


# ---------------------------------------------------------------- main


def clean(value):
    """JSON-ready: NaN -> None, numpy scalars -> Python numbers, recursively."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "Tests/Fixtures/metrics")
    parser.add_argument("--extended", action="store_true", help="add larger random cases")
    args = parser.parse_args()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    expected = {"versions": {"numpy": np.__version__, "scipy": scipy.__version__}}

    # Segmentation: per image, plus the mean over the images (HoVer-Net's np.mean).
    seg = {}
    for name, (truth, pred) in segmentation_cases(args.extended).items():
        np.save(out / f"seg_{name}_truth.npy", truth)
        np.save(out / f"seg_{name}_pred.npy", pred)
        seg[name] = ref.segmentation(truth, pred)
    names = [n for n in seg if not n.startswith("empty_both")]
    expected["segmentation"] = seg
    expected["segmentation_mean"] = {
        "images": names,
        **{k: ref.mean([seg[n][k] for n in names]) for k in ("dice", "aji", "aji_plus", "dq", "sq", "pq")},
    }

    # Classification: per-image pairings, single-image scores, and pooled datasets.
    images = classification_images(args.extended)
    per_image = {}
    for name, image in images.items():
        for key, array in image.items():
            np.save(out / f"cls_{name}_{key}.npy", array)
        pairs, unpaired_true, unpaired_pred = ref.pair_centroids(
            image["true_centroids"], image["pred_centroids"], 12.0)
        per_image[name] = {
            "pairs": pairs, "unpaired_true": unpaired_true, "unpaired_pred": unpaired_pred,
            "scores": ref.classification([image]),
        }
    pooled_names = list(images)
    pooled = [images[n] for n in pooled_names]
    expected["classification"] = {
        "images": per_image,
        "pooled_images": pooled_names,
        "pooled": ref.classification(pooled),
        "pooled_without_placeholder": ref.classification(pooled, placeholder=False),
        "pooled_types_1_to_5": ref.classification(pooled, type_ids=[1, 2, 3, 4, 5]),
    }

    # PanNuke.
    pan = pannuke_images(args.extended)
    for name, (_, truth, pred) in pan.items():
        np.save(out / f"pan_{name}_truth.npy", truth)
        np.save(out / f"pan_{name}_pred.npy", pred)
    pan_names = list(pan)
    tissues = [pan[n][0] for n in pan_names]
    pairs = [(pan[n][1], pan[n][2]) for n in pan_names]
    expected["pannuke"] = {
        "image_names": pan_names,
        "tissue_names": tissues,
        "with_tissues": ref.pannuke(pairs, tissues),
        "without_tissues": ref.pannuke(pairs),
    }

    # Assignment: scipy's answer for every matrix.
    lsa = {}
    for name, cost in assignment_cases().items():
        np.save(out / f"lsa_{name}.npy", cost)
        rows, cols = linear_sum_assignment(cost)
        lsa[name] = {"rows": rows.tolist(), "cols": cols.tolist(), "total": float(cost[rows, cols].sum())}
    expected["assignment"] = lsa

    (out / "expected.json").write_text(json.dumps(clean(expected), indent=1, allow_nan=False) + "\n")
    size = sum(p.stat().st_size for p in out.iterdir())
    print(f"wrote {len(list(out.iterdir()))} files, {size} bytes, to {out}")


if __name__ == "__main__":
    main()
