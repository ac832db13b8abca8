"""Side by side: ONNX Runtime against our runtime (`nx bench`) on the same .onnx files.

Why: the project's speed claim is "ours / ORT" on this machine; this script makes the
README's table. It is a benchmark, not a test: it asserts nothing and exits 0 even
when `nx` fails (it prints the error and still prints ORT's numbers).

For each model and each thread count T it runs --rounds rounds, alternating the two
runtimes (ORT first in even rounds, ours first in odd ones), and pools every timed
run of each runtime across the rounds:

  ORT   in this process: SessionOptions(intra_op_num_threads=T, inter_op_num_threads=1,
        ORT_ENABLE_ALL, ORT_SEQUENTIAL), a new InferenceSession per round, 3 warm-up
        runs, then --runs timed `run` calls. Its load time comes from a fresh process per
        round that only creates the session (as `nx bench` is a fresh process): a session
        created in this process after another was freed reuses that one's memory, which
        took HistoNeXt-T's load from 0.99 s to 0.27-0.31 s (kept as "ort_warm_load_s").
  ours  `nx bench MODEL --threads T --runs R --warmup 3 --json` in a subprocess; its JSON
        gives samples_ms, load_seconds and peak_rss_mib.

ORT's peak RSS comes from a fresh subprocess that loads the model, runs it a few times
and reads getrusage(RUSAGE_SELF).ru_maxrss; its "baseline" (Python + numpy + onnxruntime
imported, no session) is printed under the table for reference. These subprocesses are
started through `sh` (see run_clean): started straight from Python, a child's ru_maxrss
would include this process's peak. Load times and RSS in
the table are medians over rounds. Inputs are seeded uniform [-1, 1) float32 with the
model's declared shape, symbolic dimensions set to 1 unless --shape says otherwise
(`nx bench` makes its own seeded input of the same shape). The environment is used as
it is (thread-count variables included).

Needs only numpy and onnxruntime (the CI venv has both). Run from the repository root,
after `swift build -c release`:
  .venv/bin/python Benchmarks/compare_ort.py MODEL.onnx [MODEL2.onnx ...]
      [--nx .build/release/nx] [--threads 1 2] [--rounds 5] [--runs 10]
      [--shape input=1x3x224x224] [--json OUT.json]
Models to try: Tests/Fixtures/generated/runtime/*.onnx (make them with
Converters/python/make_runtime_fixtures.py).
"""

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

WARMUP = 3
RSS_RUNS = 5
ORT_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16,
             "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(int8)": np.int8,
             "tensor(uint8)": np.uint8, "tensor(bool)": np.bool_}


def parse_shapes(items) -> dict:
    shapes = {}
    for item in items or []:
        name, sep, dims = item.partition("=")
        try:
            shapes[name] = [int(d) for d in dims.split("x")]
        except ValueError:
            sep = ""
        if not sep or not name:
            raise SystemExit(f"--shape takes NAME=AxBxC, got {item!r}")
    return shapes


def ort_session(model: str, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def make_feeds(session: ort.InferenceSession, shapes: dict) -> dict:
    """Seeded uniform [-1, 1) floats (zeros for other types); symbolic dims -> 1 unless given."""
    rng = np.random.default_rng(0)
    feeds = {}
    for info in session.get_inputs():
        declared = [d if isinstance(d, int) else 1 for d in info.shape]
        shape = shapes.get(info.name, declared)
        if len(shape) != len(declared):
            raise SystemExit(f"--shape {info.name} has rank {len(shape)}, the model declares {info.shape}")
        dtype = ORT_TYPES.get(info.type)
        if dtype is None:
            raise SystemExit(f"input {info.name}: unsupported type {info.type}")
        if np.issubdtype(dtype, np.floating):
            feeds[info.name] = rng.uniform(-1, 1, size=shape).astype(dtype)
        else:
            feeds[info.name] = np.zeros(shape, dtype=dtype)
    return feeds


def ort_round(model: str, threads: int, runs: int, shapes: dict) -> dict:
    start = time.perf_counter()
    session = ort_session(model, threads)
    load_seconds = time.perf_counter() - start
    feeds = make_feeds(session, shapes)
    for _ in range(WARMUP):
        session.run(None, feeds)
    samples = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        session.run(None, feeds)
        samples.append((time.perf_counter_ns() - start) / 1e6)
    del session  # stop its thread pool before the other runtime runs
    return {"samples_ms": samples, "load_seconds": load_seconds,
            "inputs": {k: list(v.shape) for k, v in feeds.items()}}


def run_clean(command, timeout=None) -> subprocess.CompletedProcess:
    """Run `command` so that its getrusage(RUSAGE_SELF).ru_maxrss is its own.

    Linux keeps the high-water RSS of the memory image that execve replaces, and
    Python's subprocess starts children with vfork, whose image is this process's: a
    child exec'd directly reports this Python process's peak as its own. Going through
    `sh`, which forks the command from its own small image, avoids that. The command
    gets its own process group so that a timeout ends it, not only the shell.
    """
    process = subprocess.Popen(["sh", "-c", '"$@"; exit $?', "sh", *command], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def rss_child(args):
    """Entry point of the fresh process that measures ORT's peak RSS (see ort_peak_rss)."""
    model, threads, shapes = args[0], int(args[1]), json.loads(args[2])
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    session = ort_session(model, threads)
    feeds = make_feeds(session, shapes)
    for _ in range(RSS_RUNS):
        session.run(None, feeds)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"peak_rss_mib": peak, "baseline_rss_mib": baseline}))


def load_child(args):
    """Entry point of the fresh process that times ORT's session creation (see ort_fresh_load)."""
    model, threads = args[0], int(args[1])
    start = time.perf_counter()
    ort_session(model, threads)
    print(json.dumps({"load_seconds": time.perf_counter() - start}))


def ort_fresh_load(model: str, threads: int) -> float:
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import compare_ort; "
            "compare_ort.load_child(sys.argv[2:])")
    out = run_clean([sys.executable, "-c", code, str(Path(__file__).resolve().parent), model, str(threads)])
    if out.returncode != 0:
        raise SystemExit(f"ORT load process failed on {model}: {out.stderr.strip()[-500:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])["load_seconds"]


def ort_peak_rss(model: str, threads: int, shapes: dict) -> dict:
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import compare_ort; "
            "compare_ort.rss_child(sys.argv[2:])")
    out = run_clean([sys.executable, "-c", code, str(Path(__file__).resolve().parent), model,
                     str(threads), json.dumps(shapes)])
    if out.returncode != 0:
        raise SystemExit(f"ORT peak-RSS process failed on {model}: {out.stderr.strip()[-500:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def nx_round(nx: str, model: str, threads: int, runs: int, shape_args, timeout: float) -> dict:
    """One `nx bench` run; raises RuntimeError with a readable message if it fails."""
    if shutil.which(nx) is None:
        raise RuntimeError(f"{nx} not found or not executable (build it: swift build -c release)")
    command = [nx, "bench", model, "--threads", str(threads), "--runs", str(runs),
               "--warmup", str(WARMUP), "--json"]
    for item in shape_args or []:
        command += ["--shape", item]
    try:
        out = run_clean(command, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"`{' '.join(command)}` timed out after {timeout:.0f} s") from None
    if out.returncode != 0:
        tail = "\n".join((out.stderr or out.stdout).strip().splitlines()[-5:])
        raise RuntimeError(f"`{' '.join(command)}` exited {out.returncode}: {tail}")
    try:
        report = json.loads(out.stdout)
        return {"samples_ms": [float(s) for s in report["samples_ms"]],
                "load_seconds": float(report["load_seconds"]),
                "peak_rss_mib": float(report["peak_rss_mib"])}
    except (ValueError, KeyError, TypeError) as error:
        raise RuntimeError(f"`{' '.join(command)}` printed no usable JSON ({error}): "
                           f"{out.stdout[:300]!r}") from None


def machine() -> dict:
    model_name = platform.processor() or platform.machine()
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "Model name":
                model_name = value.strip()
    except OSError:
        pass
    return {"cpu": model_name, "cores": os.cpu_count(), "load_average_1min": os.getloadavg()[0],
            "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")}


def median(values):
    return statistics.median(values) if values else None


def fmt(value, spec):
    return "n/a" if value is None else format(value, spec)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", help=".onnx files")
    parser.add_argument("--nx", default=".build/release/nx", help="the nx binary")
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=10, help="timed runs per round and runtime")
    parser.add_argument("--shape", action="append", metavar="NAME=AxBxC",
                        help="shape of an input with symbolic dims (repeatable)")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write all samples here")
    parser.add_argument("--nx-timeout", type=float, default=900, help="seconds per nx bench call")
    args = parser.parse_args()
    shapes = parse_shapes(args.shape)

    info = machine()
    print(f"{info['date']}; {info['cpu']}, {info['cores']} cores; onnxruntime {ort.__version__}; "
          f"{args.rounds} rounds x {args.runs} runs per runtime", flush=True)

    results = []
    for model in args.models:
        for threads in args.threads:
            entry = {"model": model, "threads": threads, "ort": {"samples_ms": [], "load_seconds": [], "warm_load_seconds": []},
                     "nx": {"samples_ms": [], "load_seconds": [], "peak_rss_mib": []}, "nx_error": None}
            for round_index in range(args.rounds):
                order = ("ort", "nx") if round_index % 2 == 0 else ("nx", "ort")
                for runtime in order:
                    if runtime == "ort":
                        r = ort_round(model, threads, args.runs, shapes)
                        entry["ort"]["samples_ms"] += r["samples_ms"]
                        entry["ort"]["warm_load_seconds"].append(r["load_seconds"])
                        entry["ort"]["load_seconds"].append(ort_fresh_load(model, threads))
                        entry["inputs"] = r["inputs"]
                    elif entry["nx_error"] is None:
                        try:
                            r = nx_round(args.nx, model, threads, args.runs, args.shape, args.nx_timeout)
                        except RuntimeError as error:
                            entry["nx_error"] = str(error)
                            print(f"nx failed on {Path(model).name} at {threads} thread(s): {error}",
                                  file=sys.stderr, flush=True)
                            continue
                        for key in ("samples_ms", "load_seconds", "peak_rss_mib"):
                            entry["nx"][key] += r[key] if key == "samples_ms" else [r[key]]
            rss = ort_peak_rss(model, threads, shapes)
            entry["ort"]["peak_rss_mib"] = rss["peak_rss_mib"]
            entry["ort"]["baseline_rss_mib"] = rss["baseline_rss_mib"]
            ort_ms, nx_ms = median(entry["ort"]["samples_ms"]), median(entry["nx"]["samples_ms"])
            entry["summary"] = {
                "ort_median_ms": ort_ms, "nx_median_ms": nx_ms,
                "ratio": nx_ms / ort_ms if nx_ms is not None else None,
                "ort_load_s": median(entry["ort"]["load_seconds"]),
                "ort_warm_load_s": median(entry["ort"]["warm_load_seconds"]),
                "nx_load_s": median(entry["nx"]["load_seconds"]),
                "ort_peak_rss_mib": rss["peak_rss_mib"],
                "nx_peak_rss_mib": median(entry["nx"]["peak_rss_mib"]),
            }
            s = entry["summary"]
            print(f"  {Path(model).name} T={threads}: ORT {fmt(ort_ms, '.2f')} ms, "
                  f"ours {fmt(nx_ms, '.2f')} ms", file=sys.stderr, flush=True)
            results.append(entry)

    load = (info["load_average_1min"], os.getloadavg()[0])
    info["load_average_1min_end"] = load[1]
    print()
    print(f"Date: {info['date']}. Machine: {info['cpu']}, {info['cores']} cores. "
          f"onnxruntime {ort.__version__}. Medians of {args.rounds} rounds x {args.runs} runs.")
    if max(load) > 0.5:
        print(f"(other work was running: 1-minute load average {load[0]:.1f} at the start, "
              f"{load[1]:.1f} at the end)")
    print()
    print("| model | threads | ORT ms | ours ms | ours/ORT | ORT load s | ours load s "
          "| ORT peak RSS MiB | ours peak RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for entry in results:
        s = entry["summary"]
        inputs = ", ".join("x".join(map(str, v)) for v in entry.get("inputs", {}).values())
        print(f"| {Path(entry['model']).stem} ({inputs}) | {entry['threads']} "
              f"| {fmt(s['ort_median_ms'], '.2f')} | {fmt(s['nx_median_ms'], '.2f')} "
              f"| {fmt(s['ratio'], '.2f')} | {fmt(s['ort_load_s'], '.3f')} | {fmt(s['nx_load_s'], '.3f')} "
              f"| {fmt(s['ort_peak_rss_mib'], '.0f')} | {fmt(s['nx_peak_rss_mib'], '.0f')} |")
    baselines = sorted({round(e["ort"]["baseline_rss_mib"]) for e in results})
    print()
    print(f"ORT peak RSS includes Python + numpy + onnxruntime before any session: "
          f"{', '.join(map(str, baselines))} MiB.")
    print("ORT load is a fresh process's first session, as ours is; in this process, after a "
          "session was created and freed, it took (s): "
          + ", ".join(f"{Path(e['model']).stem} T={e['threads']} {fmt(e['summary']['ort_warm_load_s'], '.3f')}"
                      for e in results) + ".")
    for entry in results:
        if entry["nx_error"]:
            print(f"ours failed on {Path(entry['model']).name} at {entry['threads']} thread(s): "
                  f"{entry['nx_error']}")

    if args.json:
        args.json.write_text(json.dumps({"machine": info, "onnxruntime": ort.__version__,
                                         "rounds": args.rounds, "runs": args.runs,
                                         "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
