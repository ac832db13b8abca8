"""Run an ONNX model with onnxruntime (CPU) and save every output as <name>.npy.

Why: Swift tests use it to get reference outputs for models they wrote or read,
so the Swift runtime can be compared against onnxruntime.

Usage: python Converters/python/run_onnxruntime.py MODEL.onnx NAME=FILE.npy ... --out DIR
Output names containing "/" are saved with "/" replaced by "_".
"""

import argparse
from pathlib import Path

import numpy as np
import onnxruntime as ort


def main():
    parser = argparse.ArgumentParser(description="Run MODEL with onnxruntime; save outputs.")
    parser.add_argument("model")
    parser.add_argument("inputs", nargs="*", metavar="NAME=FILE.npy")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    feeds = {}
    for item in args.inputs:
        name, sep, path = item.partition("=")
        if not sep:
            parser.error(f"expected NAME=FILE.npy, got {item!r}")
        feeds[name] = np.load(path)

    session = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    args.out.mkdir(parents=True, exist_ok=True)
    for name, value in zip(names, session.run(names, feeds)):
        np.save(args.out / f"{name.replace('/', '_')}.npy", value)
        print(f"{name}: {value.dtype} {list(value.shape)}")


if __name__ == "__main__":
    main()
