"""How much `nx segment` adds on top of pure inference (issue 6's "tiling, post-processing
and writing add at most 10%").

Benchmark, not a test. Runs `nx segment IMAGE --model MODEL --threads T` --repeats times,
each run bracketed by `nx bench MODEL --threads T --json` before and after it, and prints,
per run, the job's wall time (process start to exit, model load included) against tiles x
the single-tile median of both brackets' samples, with the breakdown `nx segment` prints
(inference GFLOP/s among it). The host's phases last seconds: a single benchmark before a
15 s job could land in a different phase from the job (the same binary gave 1.05 and 1.15
in one run that way), and sampling on both sides sees more of the job's machine state.
Needs only the standard library.

  .venv/bin/python Benchmarks/segment_overhead.py IMAGE.png MODEL.onnx [--threads 2] [--repeats 3]
      [--nx .build/release/nx] [--json OUT.json]
"""

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def single_tile_samples(nx: str, model: str, threads: int, runs: int) -> list:
    out = subprocess.run([nx, "bench", model, "--threads", str(threads), "--runs", str(runs), "--warmup", "2", "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["samples_ms"]


def segment(nx: str, image: str, model: str, threads: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        result = subprocess.run([nx, "segment", image, "--model", model, "--out", f"{folder}/out", "--threads", str(threads),
                                 "--quiet"], check=True, capture_output=True, text=True)
        wall = time.perf_counter() - start
    text = result.stdout
    tiles = int(re.search(r"\((\d+) tiles", text).group(1))
    gflops = re.search(r"inference ([\d.]+) GFLOP/s", text)
    breakdown = [line.strip() for line in text.splitlines() if line.strip().startswith(("load", "inference"))]
    return {"wall_s": wall, "tiles": tiles, "gflops": float(gflops.group(1)) if gflops else None, "breakdown": breakdown}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("image")
    parser.add_argument("model")
    parser.add_argument("--nx", default=".build/release/nx")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--bench-runs", type=int, default=10)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    rows = []
    for repeat in range(args.repeats):
        before = single_tile_samples(args.nx, args.model, args.threads, args.bench_runs)
        job = segment(args.nx, args.image, args.model, args.threads)
        tile = statistics.median(before + single_tile_samples(args.nx, args.model, args.threads, args.bench_runs))
        expected = job["tiles"] * tile / 1000
        rows.append({"tile_ms": tile, **job, "ratio": job["wall_s"] / expected})
        print(f"run {repeat + 1}: {job['tiles']} tiles x {tile:.1f} ms = {expected:.2f} s; job {job['wall_s']:.2f} s;"
              f" ratio {job['wall_s'] / expected:.3f}", file=sys.stderr)
        for line in job["breakdown"]:
            print(f"    {line}", file=sys.stderr)
    ratio = statistics.median(r["ratio"] for r in rows)
    tile = statistics.median(r["tile_ms"] for r in rows)
    wall = statistics.median(r["wall_s"] for r in rows)
    gflops = [r["gflops"] for r in rows if r["gflops"] is not None]
    print(f"| nx segment {Path(args.image).name} | {args.threads} | {rows[0]['tiles']} tiles | single tile {tile:.1f} ms |"
          f" job {wall:.2f} s | job / (tiles x tile) {ratio:.3f} |"
          f" inference {statistics.median(gflops) if gflops else float('nan'):.1f} GFLOP/s |")
    if args.json:
        args.json.write_text(json.dumps({"runs": rows, "median_ratio": ratio}, indent=2))


if __name__ == "__main__":
    main()
