#!/usr/bin/env bash
# Scores a HistoNeXt .onnx on the committed held-out bands (Tests/Fixtures/heldout, see
# Models/README.md) with our tools only: `nx segment` on each band, then `nx evaluate`
# against the truth. Usage: scripts/evaluate-heldout.sh MODEL.onnx OUT_DIR [--json]
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:?usage: scripts/evaluate-heldout.sh MODEL.onnx OUT_DIR [--json]}
out=${2:?usage: scripts/evaluate-heldout.sh MODEL.onnx OUT_DIR [--json]}
nx=${NX:-.build/release/nx}
truth=Tests/Fixtures/heldout
mkdir -p "$out/pred/instances" "$out/pred/types"
for image in "$truth"/images/*.png; do
  name=$(basename "$image" .png)
  "$nx" segment "$image" --model "$model" --out "$out/$name" --overwrite --quiet >&2  # stdout: the scores only
  cp "$out/$name/instances.png" "$out/pred/instances/$name.png"
  cp "$out/$name/types.png" "$out/pred/types/$name.png"
done
"$nx" evaluate --true "$truth/instances" --pred "$out/pred/instances" \
  --true-types "$truth/types" --pred-types "$out/pred/types" ${3:-}
