#!/usr/bin/env bash
# Runs every test: Swift unit tests, interop tests against the Python onnx/onnxruntime/
# safetensors packages, and the ONNX backend node tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export NX_PYTHON="$PWD/.venv/bin/python"
swift test "$@"
