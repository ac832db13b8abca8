#!/usr/bin/env bash
# Regenerates Sources/NXFormat/Generated/onnx.pb.swift from Spec/onnx.proto.
# Needs protoc (Debian: protobuf-compiler) and protoc-gen-swift built from swift-protobuf
# at the version Package.swift pins (1.39.0):
#   git clone <swift-protobuf> && git checkout 1.39.0 && swift build -c release --product protoc-gen-swift
# then pass its path in PROTOC_GEN_SWIFT. The output is committed so builds never need this.
set -euo pipefail
cd "$(dirname "$0")/.."
plugin=${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift || true)}
[ -x "$plugin" ] || { echo "set PROTOC_GEN_SWIFT to a protoc-gen-swift 1.39.0 binary" >&2; exit 1; }
protoc --plugin=protoc-gen-swift="$plugin" --swift_out=Sources/NXFormat/Generated \
  --swift_opt=Visibility=Internal -I Spec Spec/onnx.proto
echo "wrote Sources/NXFormat/Generated/onnx.pb.swift"
