"""Validate an ONNX file with the reference checker; prints "ok" or fails.

Why: Swift tests use it to prove that ONNX files written by the Swift side are
accepted by the official `onnx` package (full_check also runs strict shape inference).

Usage: python Converters/python/check_onnx_model.py MODEL.onnx
"""

import sys

import onnx

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    onnx.checker.check_model(sys.argv[1], full_check=True)  # by path, so external data works
    print("ok")
