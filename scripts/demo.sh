#!/usr/bin/env bash
# The main job on a fresh machine: install what is needed, build nx, export a ConvNeXt
# (timm's convnext_atto layout, seeded weights) as a standard .onnx file, then validate,
# inspect, run and benchmark it with our runtime. Outputs go to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
swift build -c release --product nx
nx=.build/release/nx
mkdir -p out
"$nx" export convnext --variant atto -o out/convnext_atto.onnx
"$nx" validate out/convnext_atto.onnx
"$nx" inspect out/convnext_atto.onnx
"$nx" bench out/convnext_atto.onnx --runs 10
