"""Held-out scores of a trained HistoNeXt in PyTorch, and the comparison with `nx segment`.

Why: the model card reports the same metrics from both sides, and the export is exact only
if `nx` finds the same nuclei as the PyTorch model it was exported from. This script
  1. segments every image of a split folder (extract_training_data.py's layout) with the
     PyTorch model, exactly as `nx segment` tiles, resamples and post-processes
     (histonext_training/inference.py), writing OUT/torch/<name>/{instances,types}.png;
  2. scores them against the truth with the metrics reference (scoring.py);
  3. with --nx DIR (DIR/<name>/ = `nx segment` output folders): scores nx's maps the same way
     and compares the two instance maps nucleus by nucleus (IoU of each optimally paired pair;
     unpaired nuclei are listed).
Prints one JSON object; --json-out also writes it.

Run (torch venv, from the repository root):
  /work/venv-torch/bin/python Converters/python/score_histonext.py --weights RUN/best.pth \
      --split /work/histonext-data/heldout --out /tmp/score [--nx /tmp/nx-heldout]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

sys.path.insert(0, str(Path(__file__).resolve().parent))

import histonext_reference as ref  # noqa: E402
import hovernet_postproc_reference as post  # noqa: E402
from histonext_training import inference, scoring  # noqa: E402
from histonext_training.data import load_split  # noqa: E402
from histonext_training.geometry import Geometry  # noqa: E402


def read_label(path: Path) -> np.ndarray:
    a = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if a is None:
        raise FileNotFoundError(f"{path}: missing or not a PNG")
    return a.astype(np.int32)


def compare_instances(a: np.ndarray, b: np.ndarray) -> dict:
    """Optimal one-to-one pairing by IoU; per-pair IoU, and what is left unpaired."""
    ids_a, ids_b = [i for i in np.unique(a) if i], [j for j in np.unique(b) if j]
    iou = np.zeros((len(ids_a), len(ids_b)))
    for r, i in enumerate(ids_a):
        mi = a == i
        for c, j in enumerate(np.unique(b[mi])):
            if j == 0:
                continue
            mj = b == j
            iou[r, ids_b.index(j)] = (mi & mj).sum() / (mi | mj).sum()
    rows, cols = linear_sum_assignment(-iou) if iou.size else ([], [])
    pairs = [(r, c) for r, c in zip(rows, cols) if iou[r, c] > 0]
    ious = [float(iou[r, c]) for r, c in pairs]
    return {"identical": bool((a == b).all()) if a.shape == b.shape else False,
            "torch_nuclei": len(ids_a), "nx_nuclei": len(ids_b), "paired": len(pairs),
            "min_iou": min(ious) if ious else None, "pairs_below_0.99": sum(1 for v in ious if v < 0.99),
            "unpaired_torch": len(ids_a) - len(pairs), "unpaired_nx": len(ids_b) - len(pairs)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weights", type=Path, required=True)
    ap.add_argument("--variant", default="atto")
    ap.add_argument("--num-types", type=int, default=6)
    ap.add_argument("--split", type=Path, required=True, help="folder with images/, instances/, types/")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--nx", type=Path, help="folder of `nx segment` outputs, one subfolder per image")
    ap.add_argument("--json-out", type=Path)
    args = ap.parse_args(argv)

    torch.set_num_threads(1)
    model = ref.HistoNeXt(args.variant, args.num_types)
    model.load_state_dict(torch.load(args.weights, map_location="cpu", weights_only=True), strict=True)
    model.eval()
    geometry = Geometry.of(model)

    torch_pairs, nx_pairs, comparison = [], [], {}
    for im in load_split(args.split):
        inst, _, records = inference.segment(model, im.image, geometry)
        folder = args.out / "torch" / im.name
        folder.mkdir(parents=True, exist_ok=True)
        voted = {r["id"]: r["type"] for r in records}
        types = np.zeros_like(inst)
        for i, t in voted.items():
            types[inst == i] = t
        cv2.imwrite(str(folder / "instances.png"), inst.astype(np.uint16))
        cv2.imwrite(str(folder / "types.png"), types.astype(np.uint8))
        torch_pairs.append((im.instances, im.types, inst, records))
        if args.nx:
            nx_inst = read_label(args.nx / im.name / "instances.png")
            nx_types = read_label(args.nx / im.name / "types.png")
            nx_pairs.append((im.instances, im.types, nx_inst, post.instance_records(nx_inst, nx_types)))
            comparison[im.name] = compare_instances(inst, nx_inst)

    result = {"images": len(torch_pairs), "torch": scoring.score(torch_pairs)}
    if args.nx:
        result["nx"] = scoring.score(nx_pairs)
        result["comparison"] = comparison
    text = json.dumps(result, indent=1)
    print(text)
    if args.json_out:
        args.json_out.write_text(text + "\n")


if __name__ == "__main__":
    main()
