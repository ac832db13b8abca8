"""Extract the bundled H&E sample from the tiatoolbox wheel (BSD-3) on PyPI.

Why: the README's main job segments a real H&E tile, and the benchmark uses the whole
1000x1000 image; both come from a permissively licensed image shipped inside a PyPI wheel.

Usage: .venv/bin/python Converters/python/make_he_sample.py [--full OUT.png]
Writes Tests/Fixtures/he/sample.png (a 512x512 crop) and, with --full, the whole image.
"""

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[2]
WHEEL_MEMBER = "tiatoolbox/data/target_image.png"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", type=Path, help="also write the whole 1000x1000 image here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "tiatoolbox==2.1.3", "-d", folder],
                       check=True)
        wheel = next(Path(folder).glob("tiatoolbox-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            target = Path(folder) / "target_image.png"
            target.write_bytes(archive.read(WHEEL_MEMBER))
        image = cv2.imread(str(target))
        if args.full:
            cv2.imwrite(str(args.full), image)
        cv2.imwrite(str(ROOT / "Tests/Fixtures/he/sample.png"), image[250:762, 400:912], [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print("wrote Tests/Fixtures/he/sample.png")


if __name__ == "__main__":
    main()
