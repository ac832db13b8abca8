"""Print a training run's curve (RUN/history.json from train_histonext.py) as a Markdown table:
one row per epoch with the mean losses, and the validation scores where they were computed.
The model card's table comes from this. Any Python 3 (no dependencies):
  python3 Converters/python/training_curve.py /work/histonext-run/history.json
"""

import json
import sys


def main(path):
    run = json.load(open(path))
    rows = run["recipe"]["history"]
    print("| epoch | phase | steps | lr | minutes | loss (np + hv + tp) | np | hv | tp | val Score | val AJI | val DICE | val PQ | val type F1 |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        val = [f"{r[k]:.3f}" if k in r else "" for k in ("val_score", "val_aji", "val_dice", "val_pq", "val_mean_type_f1")]
        print(f"| {r['epoch']} | {r['phase']} | {r['steps']} | {r['lr']:g} | {r['minutes']:.1f} | {r['loss_total']:.3f} | "
              f"{r['loss_np']:.3f} | {r['loss_hv']:.3f} | {r['loss_tp']:.3f} | " + " | ".join(val) + " |")
    if "best" in run:
        print(f"\nbest: {json.dumps(run['best'])}; epochs {run.get('epochs')}, steps {run.get('steps')}, minutes {run.get('minutes')}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else sys.exit(__doc__))
