"""ONNX Runtime's time per node and per op type on one model, to set beside
`nx bench MODEL --threads T --nodes N` when looking for where the remaining gap sits.

A benchmark aid, not a test. It runs the model with ORT's own profiler
(SessionOptions.enable_profiling, ORT_ENABLE_ALL, T intra-op threads), 3 warm-up runs and
--runs timed ones, and prints each op type's total and the N slowest nodes (medians over the
runs, ms). ORT's node names carry its fusions (e.g. ".../Mul_output_nchwc" is a Conv with
the layer-scale Mul and the residual Sum folded in). Profiling adds a little overhead.

  .venv/bin/python Benchmarks/ort_profile.py MODEL.onnx [--threads 1] [--runs 20] [--nodes 40]
"""

import argparse
import collections
import json
import os
import statistics
import tempfile

import numpy as np
import onnxruntime as ort


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--nodes", type=int, default=40)
    args = parser.parse_args()

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.enable_profiling = True
    options.profile_file_prefix = os.path.join(tempfile.mkdtemp(), "ort_profile")
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    declared = session.get_inputs()[0]
    shape = [d if isinstance(d, int) else 1 for d in declared.shape]
    x = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
    for _ in range(3 + args.runs):
        session.run(None, {declared.name: x})
    with open(session.end_profiling()) as file:
        events = json.load(file)

    times = collections.defaultdict(list)
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            times[(event["name"][: -len("_kernel_time")], event["args"]["op_name"])].append(event["dur"] / 1000)
    # The warm-up runs come first in the file: keep each node's last --runs samples.
    medians = {key: statistics.median(samples[-args.runs:]) for key, samples in times.items()}
    by_op = collections.defaultdict(float)
    for (_, op), ms in medians.items():
        by_op[op] += ms
    print(f"{args.model}: {args.threads} thread(s), ORT {ort.__version__}, medians of {args.runs} runs")
    print(f"  {'op type':28s} {'ms/run':>8s}")
    for op, ms in sorted(by_op.items(), key=lambda item: -item[1]):
        print(f"  {op:28s} {ms:8.2f}")
    print(f"  {'total':28s} {sum(by_op.values()):8.2f}")
    print(f"  slowest nodes{'':47s} {'op type':20s} {'ms/run':>7s}")
    for (name, op), ms in sorted(medians.items(), key=lambda item: -item[1])[: args.nodes]:
        print(f"  {name[-60:]:60s} {op:20s} {ms:7.3f}")


if __name__ == "__main__":
    main()
