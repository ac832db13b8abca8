"""Check that `nx export` writes valid ONNX that ONNX Runtime and our runtime agree on, at full size.

Why: the CI tests export the micro/mini models only; this script checks the real variants,
including HistoNeXt-XLarge, whose 2.9 GB of weights go to external data (the protobuf limit is
2 GB). It is a script, not a test: run it by hand after changing the exporter, the builders or
the runtime. For each model it:

  1. exports it with seeded weights: `nx export convnext|histonext --variant V --seed S -o M.onnx`
  2. runs `onnx.checker.check_model(path, full_check=True)` on the path (the only form that
     works past 2 GB, where the weights sit in M.onnx.data) - full_check adds strict shape inference
  3. makes one seeded input (numpy default_rng(seed), uniform [0, 1) float32 - HistoNeXt's input
     is pixels / 255 - in the shape the model declares, batch 1)
  4. runs it in ONNX Runtime (CPU, ORT_ENABLE_ALL) in this process
  5. runs it in our runtime: `nx run M.onnx --input input=X.npy --output-dir DIR` (optimizer on)
  6. compares every output: max |ours - ORT| / max |ORT| must be <= 1e-4

It prints a table: file size, whether external data was used, the relative difference, each
step's wall time and the peak RSS of `nx export` / `nx run` (ORT shares this process, so its
memory is not listed). Exits 1 if any model fails a check, 0 otherwise.

Run from the repository root with the CI venv (onnx, onnxruntime, numpy), after
`swift build -c release --product nx`:
  .venv/bin/python Benchmarks/check_exports.py                       # ConvNeXt-T, HistoNeXt-T and -B
  .venv/bin/python Benchmarks/check_exports.py --models all          # + HistoNeXt-L and -XL
  .venv/bin/python Benchmarks/check_exports.py --models histonext-large --work /tmp/nx-exports --keep
Options: --nx PATH (default .build/release/nx), --work DIR (default /tmp/nx-check-exports; the
.onnx files go there and are deleted after each model unless --keep), --seed N, --threads N,
--json FILE (the results as JSON).

How long it takes (measured on the 2-core, 24 GB machine, shared): ConvNeXt-T ~5 s, HistoNeXt-T
~10 s, -B ~25 s, -L ~1 min, -XL ~1 min; the default set ~40 s, `--models all` ~2.5 min. Much of
it is writing and reading the files, so a busy disk or machine stretches it. Disk: up
to ~3 GB in --work at a time (XL). Memory: the peak is `nx run` of XL, ~8 GiB (three times
its weights); ORT's session is released before it starts.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

REPO = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-4
# name -> `nx export` arguments after "export"
MODELS = {
    "convnext-tiny": ["convnext", "--variant", "tiny"],
    "histonext-tiny": ["histonext", "--variant", "tiny"],
    "histonext-base": ["histonext", "--variant", "base"],
    "histonext-large": ["histonext", "--variant", "large"],
    "histonext-xlarge": ["histonext", "--variant", "xlarge"],
}
DEFAULT = ["convnext-tiny", "histonext-tiny", "histonext-base"]


class StepFailed(Exception):
    pass


def run_measured(command, log: Path, timeout: float) -> tuple[float, float]:
    """Run `command` with its output in `log`; return (wall seconds, peak RSS in MiB).

    Started through `sh` so that its ru_maxrss is its own: a child exec'd straight from
    Python (vfork) inherits the high-water mark of this process, which holds ORT's sessions.
    wait4 on the shell reports the maximum over the shell and the command it waited for.
    """
    start = time.perf_counter()
    with open(log, "w") as out:
        process = subprocess.Popen(["sh", "-c", '"$@"', "sh", *map(str, command)], stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                os.killpg(process.pid, 9)
                os.wait4(process.pid, 0)
                raise StepFailed(f"`{' '.join(map(str, command))}` timed out after {timeout:.0f} s")
            time.sleep(0.05)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").strip().splitlines()[-8:])
        raise StepFailed(f"`{' '.join(map(str, command))}` exited {process.returncode}:\n{tail}")
    return seconds, usage.ru_maxrss / 1024


def uses_external_data(path: Path) -> bool:
    model = onnx.load(str(path), load_external_data=False)
    return any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer)


def relative_difference(actual: np.ndarray, expected: np.ndarray) -> float:
    """max |actual - expected| / max |expected|, in float64 (the fixtures' metric)."""
    if actual.shape != expected.shape:
        return float("inf")
    actual, expected = actual.astype(np.float64), expected.astype(np.float64)
    scale = np.abs(expected).max(initial=0.0)
    diff = np.abs(actual - expected).max(initial=0.0)
    return float(diff / scale) if scale > 0 else float(diff)


def check(name: str, args) -> dict:
    work = args.work / name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    path = work / f"{name}.onnx"
    result = {"model": name, "ok": False}
    try:
        # 1. export
        result["export_s"], result["export_rss_mib"] = run_measured(
            [args.nx, "export", *MODELS[name], "--seed", args.seed, "-o", path], work / "export.log", args.timeout)
        data = path.with_name(path.name + ".data")
        result["onnx_bytes"] = path.stat().st_size
        result["data_bytes"] = data.stat().st_size if data.exists() else 0
        result["external_data"] = uses_external_data(path)
        if result["external_data"] != data.exists():
            raise StepFailed(f"external data in the model: {result['external_data']}, {data.name} present: {data.exists()}")

        # 2. the official checker, on the path (needed past 2 GB)
        start = time.perf_counter()
        try:
            onnx.checker.check_model(str(path), full_check=True)
        except Exception as error:  # onnx raises ValidationError or InferenceError
            raise StepFailed(f"onnx.checker: {type(error).__name__}: {str(error)[:800]}") from None
        result["check_s"] = time.perf_counter() - start

        # 3 + 4. a seeded input in the declared shape; ONNX Runtime
        options = ort.SessionOptions()
        options.intra_op_num_threads = args.threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        start = time.perf_counter()
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        result["ort_load_s"] = time.perf_counter() - start
        (declared,) = session.get_inputs()
        shape = [d if isinstance(d, int) else 1 for d in declared.shape]
        feed = np.random.default_rng(args.seed).random(shape, dtype=np.float32)
        np.save(work / "input.npy", feed)
        names = [o.name for o in session.get_outputs()]
        start = time.perf_counter()
        reference = dict(zip(names, session.run(names, {declared.name: feed})))
        result["ort_run_s"] = time.perf_counter() - start
        del session  # free its weights before our runtime loads its own copy

        # 5. our runtime
        result["nx_run_s"], result["nx_run_rss_mib"] = run_measured(
            [args.nx, "run", path, "--input", f"{declared.name}={work / 'input.npy'}", "--output-dir", work / "nx",
             "--threads", args.threads], work / "run.log", args.timeout)

        # 6. compare
        result["input_shape"] = shape
        result["differences"], result["scales"] = {}, {}
        for output in names:
            ours = np.load(work / "nx" / f"{output.replace('/', '_')}.npy")
            result["differences"][output] = relative_difference(ours, reference[output])
            # max |ORT|: a zero or constant output would make the comparison empty.
            result["scales"][output] = float(np.abs(reference[output]).max(initial=0.0))
            if not np.isfinite(reference[output]).all() or np.ptp(reference[output]) == 0:
                raise StepFailed(f"ORT's {output} is constant or not finite: nothing to compare")
        result["max_difference"] = max(result["differences"].values())
        result["ok"] = result["max_difference"] <= TOLERANCE
        if not result["ok"]:
            result["error"] = f"relative difference {result['max_difference']:.3g} > {TOLERANCE:g}"
    except StepFailed as error:
        result["error"] = str(error)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return result


def size(n: int) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"


def seconds(value) -> str:
    return f"{value:.1f}" if value is not None else "-"


def table(results) -> str:
    head = ["model", "size (.onnx + .data)", "external", "rel diff (max)", "export s", "check s",
            "ORT load+run s", "nx run s", "nx export/run peak RSS", "ok"]
    rows = [head]
    for r in results:
        total = r.get("onnx_bytes", 0) + r.get("data_bytes", 0)
        rows.append([
            r["model"], size(total) if total else "-",
            {True: "yes", False: "no"}.get(r.get("external_data"), "-"),
            f"{r['max_difference']:.2e}" if "max_difference" in r else "-",
            seconds(r.get("export_s")), seconds(r.get("check_s")),
            f"{r['ort_load_s']:.1f}+{r['ort_run_s']:.1f}" if "ort_run_s" in r else "-",
            seconds(r.get("nx_run_s")),
            f"{r['export_rss_mib'] / 1024:.1f}/{r['nx_run_rss_mib'] / 1024:.1f} GiB" if "nx_run_rss_mib" in r else "-",
            "yes" if r["ok"] else "NO"])
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", nargs="+", default=DEFAULT, help=f"'all' or some of {', '.join(MODELS)}")
    ap.add_argument("--nx", default=str(REPO / ".build" / "release" / "nx"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/nx-check-exports"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per nx step")
    ap.add_argument("--keep", action="store_true", help="keep each model's files in --work")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    models = list(MODELS) if args.models == ["all"] else args.models
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        ap.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(MODELS)}")
    if not (os.path.isfile(args.nx) and os.access(args.nx, os.X_OK)):
        sys.exit(f"{args.nx} not found or not executable: swift build -c release --product nx")

    results = []
    for name in models:
        start = time.perf_counter()
        result = check(name, args)
        result["total_s"] = time.perf_counter() - start
        results.append(result)
        status = "ok" if result["ok"] else f"FAILED: {result.get('error')}"
        details = {k: f"{v:.2e} of max |ORT| {result['scales'][k]:.3g}" for k, v in result.get("differences", {}).items()}
        print(f"{name}: {status} ({result['total_s']:.0f} s; relative differences {details})", flush=True)
    print()
    print(table(results))
    print(f"\nonnx {onnx.__version__}, onnxruntime {ort.__version__}, seed {args.seed}, {args.threads} threads, "
          f"tolerance {TOLERANCE:g} (max |nx - ORT| / max |ORT|)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    sys.exit(0 if all(r["ok"] for r in results) else 1)


if __name__ == "__main__":
    main()
