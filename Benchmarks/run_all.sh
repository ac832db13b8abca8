#!/usr/bin/env bash
# Issue 6's benchmark, one command: ours against ONNX Runtime on the same .onnx files, then
# `nx segment`'s overhead over pure inference. A benchmark, not a test: it asserts nothing.
#
#   Benchmarks/run_all.sh            # about 25 minutes on 2 cores
#   ROUNDS=15 RUNS=2 THREADS="1 2" Benchmarks/run_all.sh
#
# Models (made with nx export, seeded weights; speed does not depend on the values):
# ConvNeXt-T and ConvNeXt-B classifiers at 224, HistoNeXt-T and HistoNeXt-B at 270. Each
# model, thread count and runtime gets ROUNDS x RUNS timed runs (>= 30), the two runtimes
# alternating round by round (Benchmarks/compare_ort.py). Many short rounds: the host's
# slow phases last seconds, and with 6 rounds of 5 one of them fell on one runtime's
# rounds and moved a ratio by 0.5. `nx segment` runs SEGMENT_REPEATS jobs (5), each
# bracketed by single-tile benchmarks, and reports the median: a 16 s job is one sample of
# the host's speed, and in one job of three the inference alone ran 5-8% slower than the
# benchmarks around it. Results: the table on stdout and JSON in $WORK.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${WORK:-Tests/Fixtures/generated/bench}
rounds=${ROUNDS:-15}
runs=${RUNS:-2}
threads=${THREADS:-1 2}
mkdir -p "$work"
scripts/bootstrap.sh >/dev/null
swift build -c release --product nx >/dev/null
nx=.build/release/nx

export_model() {  # family variant file
  [ -f "$work/$3" ] || "$nx" export "$1" --variant "$2" -o "$work/$3" >/dev/null
}
export_model convnext tiny convnext_tiny_224.onnx
export_model convnext base convnext_base_224.onnx
export_model histonext tiny histonext_tiny_270.onnx
export_model histonext base histonext_base_270.onnx
[ -f "$work/target_image.png" ] || .venv/bin/python Converters/python/make_he_sample.py --full "$work/target_image.png" >/dev/null

models=("$work/convnext_tiny_224.onnx" "$work/convnext_base_224.onnx" "$work/histonext_tiny_270.onnx" "$work/histonext_base_270.onnx")
# PyTorch's own export of timm's convnext_tiny, when the fixture script has made it (torch venv).
pytorch=Tests/Fixtures/generated/runtime/convnext_tiny_opset17.onnx
[ -f "$pytorch" ] && models+=("$pytorch")
# shellcheck disable=SC2086
.venv/bin/python Benchmarks/compare_ort.py "${models[@]}" \
  --threads $threads --rounds "$rounds" --runs "$runs" --json "$work/compare_ort.json"
echo
.venv/bin/python Benchmarks/segment_overhead.py "$work/target_image.png" "$work/histonext_tiny_270.onnx" \
  --threads 2 --repeats "${SEGMENT_REPEATS:-5}" --json "$work/segment_overhead.json"
