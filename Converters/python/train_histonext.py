"""Train HistoNeXt with the paper's recipe (Spec/TRAINING.md).

One command from a clean venv (torch CPU wheel, outside the repository):
  python -m venv /tmp/venv && /tmp/venv/bin/pip install torch timm albumentations scipy \
      scikit-image==0.26.0 opencv-python-headless numpy
  /tmp/venv/bin/python Converters/python/extract_training_data.py --out /work/histonext-data
  /tmp/venv/bin/python Converters/python/train_histonext.py --data /work/histonext-data --out /work/histonext-run
--quick runs a few steps on the same data in seconds (the test uses it). The result,
OUT/best.pth, exports with `nx export histonext --variant atto --weights OUT/best.pth`.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from histonext_training.train import Recipe, run  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    defaults = Recipe(data="", out="")
    ap.add_argument("--data", required=True, help="folder written by extract_training_data.py")
    ap.add_argument("--out", required=True, help="run folder: best.pth, last.pth, checkpoints/, history.json")
    for f in dataclasses.fields(Recipe):
        if f.name in ("data", "out", "history", "betas"):
            continue
        ap.add_argument("--" + f.name.replace("_", "-"), type=type(getattr(defaults, f.name)),
                        default=getattr(defaults, f.name))
    ap.add_argument("--quick", action="store_true", help="a few steps, for tests")
    args = ap.parse_args(argv)
    values = {k: v for k, v in vars(args).items() if k != "quick"}
    if args.quick:
        values.update(phase1_epochs=1, phase2_epochs=1, samples_per_epoch=2, batch_size=2, max_steps=2,
                      eval_every=1, checkpoint_every=1)
    return run(Recipe(**values))


if __name__ == "__main__":
    main()
