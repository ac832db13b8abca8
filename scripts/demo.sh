#!/usr/bin/env bash
# The main job on a fresh machine: install what is needed, build nx, export HistoNeXt-Tiny
# as a standard .onnx file, and segment the bundled H&E sample with it. Outputs go to out/.
# The exported weights are seeded, not trained: see the README before reading the nuclei.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
swift build -c release --product nx
nx=.build/release/nx
mkdir -p out
"$nx" export histonext --variant tiny --class-names background,neoplastic,inflammatory,connective,dead,epithelial \
  -o out/histonext_tiny.onnx
"$nx" inspect out/histonext_tiny.onnx
"$nx" segment Tests/Fixtures/he/sample.png --model out/histonext_tiny.onnx --out out/sample --overwrite
