#!/usr/bin/env bash
# Benchmark (not a test): HistoNeXt-Tiny end to end on the whole 1000x1000 tiatoolbox H&E
# image, 2 threads. Prints nx segment's breakdown (tiles/s, inference, post-processing,
# writing, peak RSS) for each of RUNS runs. Needs the repo venv (scripts/bootstrap.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
work=${WORK:-/tmp/nx-segment-benchmark}
mkdir -p "$work"
swift build -c release --product nx >/dev/null
nx=.build/release/nx
[ -f "$work/target_image.png" ] || .venv/bin/python Converters/python/make_he_sample.py --full "$work/target_image.png" >/dev/null
[ -f "$work/histonext_tiny.onnx" ] || "$nx" export histonext --variant tiny -o "$work/histonext_tiny.onnx" >/dev/null
echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; load $(cut -d' ' -f1 /proc/loadavg)"
for run in $(seq "$runs"); do
  "$nx" segment "$work/target_image.png" --model "$work/histonext_tiny.onnx" --out "$work/out" --overwrite --threads 2 --quiet | tail -1
done
