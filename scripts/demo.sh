#!/usr/bin/env bash
# The main job on a fresh machine: install what is needed, build nx, and segment the bundled
# H&E sample with the bundled trained model (HistoNeXt-atto, Models/README.md). Outputs go to
# out/: the nuclei in out/sample/ (overlay.png, nuclei.json, ...), then the model's scores
# on the committed held-out bands, computed by nx segment + nx evaluate.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
swift build -c release --product nx
nx=.build/release/nx
model=Models/Pretrained/histonext_atto_cellseg.onnx
mkdir -p out
"$nx" inspect "$model"
"$nx" segment Tests/Fixtures/he/sample.png --model "$model" --out out/sample --overwrite
NX="$nx" scripts/evaluate-heldout.sh "$model" out/heldout
