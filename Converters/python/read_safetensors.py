"""Print {name: {dtype, shape, sha256}} for a safetensors file, as JSON.

Why: Swift tests use it to check that safetensors files written by the Swift side
are read correctly by the official `safetensors` package. sha256 is over each
tensor's raw little-endian bytes. Plain numpy has no bfloat16 (older safetensors
cannot load BF16 with framework="numpy"), so any tensor that fails to load falls
back to the raw bytes at the header's data_offsets.

Usage: python Converters/python/read_safetensors.py FILE.safetensors
"""

import hashlib
import json
import struct
import sys

from safetensors import safe_open


def raw_bytes(path: str, name: str) -> bytes:
    with open(path, "rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
        begin, end = json.loads(f.read(header_len))[name]["data_offsets"]
        f.seek(8 + header_len + begin)
        return f.read(end - begin)


def describe(path: str) -> dict:
    result = {}
    with safe_open(path, framework="numpy") as f:
        for name in f.keys():
            sl = f.get_slice(name)
            dtype, shape = sl.get_dtype(), list(sl.get_shape())
            try:
                array = f.get_tensor(name)
            except Exception:  # e.g. BF16 without numpy support
                data = raw_bytes(path, name)
            else:
                data = array.astype(array.dtype.newbyteorder("<")).tobytes()
            result[name] = {"dtype": dtype, "shape": shape,
                            "sha256": hashlib.sha256(data).hexdigest()}
    return result


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(json.dumps(describe(sys.argv[1]), indent=2, sort_keys=True))
