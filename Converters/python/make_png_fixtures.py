"""Make the PNG fixtures for the NXPathology image tests, with the standard library only.

Why: the Swift PNG reader must turn every PNG flavour (gray, gray+alpha, RGB, RGBA, palette;
1 to 16 bits; interlaced or not; with or without transparency and colour-space chunks) into
8-bit RGB, and must refuse broken or foreign files with a clear message. These fixtures are
written byte by byte here (zlib + struct, no PIL), so the expected pixel values come from this
script's own formulas, not from another decoder.

What it makes (deterministic; rerunning gives the same bytes):

  <out>/ (default Tests/Fixtures/png/, committed, a few KB)
    <case>.png          one small image per PNG flavour (see CASES below)
    manifest.json       per case: width, height, bit_depth, color_type, interlace, and
                        "rgb" (expected 8-bit RGB, row-major) and, for gray cases,
                        "gray" (raw samples, what a label-map reader must return)
    gray16_ramp.png     256x256 16-bit gray holding every value 0...65535 (v = 256*y + x)
    bad/                files the reader must refuse: not_png.txt, jpeg_signature.jpg,
                        tiff_signature.tif, empty.png, zero_size.png (IHDR 0x0 with a valid
                        CRC), truncated_idat.png, truncated_signature.png, no_iend.png,
                        bad_crc.png (IDAT CRC flipped), bad_zlib.png (garbage IDAT, valid CRC),
                        first_chunk_not_ihdr.png

A case with an "error" entry must be refused with that text: 16-bit interlaced images with
non-opaque alpha, which libpng 1.6.39's simplified reader cannot return unpremultiplied
(libpng issue #853).

Expected values: samples below 8 bits scale by 255/(2^d - 1) (exact); 16-bit samples become
round(v * 255 / 65535) (libpng's png_set_scale_16, see scale16 below); alpha and tRNS are
dropped without compositing; palette indices map to the palette colour.

Also a reader for the Swift tests' interop checks (filters 0-4, no interlace):
  python make_png_fixtures.py --decode FILE.png   prints JSON {width, height, bit_depth,
      color_type, chunks, samples} with samples as a flat row-major list.

Run from the repository root:
  python3 Converters/python/make_png_fixtures.py [--out DIR]
"""

import argparse
import json
import os
import struct
import sys
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def channels_of(color_type: int) -> int:
    return {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]


def pack_row(samples, bit_depth: int) -> bytes:
    """Packs one row of samples (ints) at bit_depth, MSB first as PNG requires."""
    if bit_depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    if bit_depth == 8:
        return bytes(samples)
    out = bytearray()
    per_byte = 8 // bit_depth
    for start in range(0, len(samples), per_byte):
        byte = 0
        group = samples[start : start + per_byte]
        for i in range(per_byte):
            byte <<= bit_depth
            if i < len(group):
                byte |= group[i]
        out.append(byte)
    return bytes(out)


def sub_filter(raw: bytes, bpp: int) -> bytes:
    return bytes((raw[i] - (raw[i - bpp] if i >= bpp else 0)) & 0xFF for i in range(len(raw)))


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def encode_png(width, height, bit_depth, color_type, rows, palette=None, trns=None,
               interlace=False, extra_chunks=(), use_sub_filter=False) -> bytes:
    """rows: list of rows, each a flat list of samples (channels interleaved)."""
    ch = channels_of(color_type)
    bpp = max(1, ch * bit_depth // 8)

    def filtered(row_samples):
        raw = pack_row(row_samples, bit_depth)
        if use_sub_filter:
            return b"\x01" + sub_filter(raw, bpp)
        return b"\x00" + raw

    data = bytearray()
    if not interlace:
        for row in rows:
            data += filtered(row)
    else:
        for x0, y0, dx, dy in ADAM7:
            xs = list(range(x0, width, dx))
            if not xs:
                continue
            for y in range(y0, height, dy):
                row = rows[y]
                data += filtered([s for x in xs for s in row[x * ch : (x + 1) * ch]])
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 1 if interlace else 0)
    out = SIGNATURE + chunk(b"IHDR", ihdr)
    for kind, payload in extra_chunks:
        out += chunk(kind, payload)
    if palette is not None:
        out += chunk(b"PLTE", bytes(c for rgb in palette for c in rgb))
    if trns is not None:
        out += chunk(b"tRNS", trns)
    out += chunk(b"IDAT", zlib.compress(bytes(data), 9))
    out += chunk(b"IEND", b"")
    return out


def scale16(v: int) -> int:
    """libpng's png_do_scale_16_to_8 (the exact integer form of round(v * 255 / 65535))."""
    hi, lo = v >> 8, v & 0xFF
    return hi + (((lo - hi + 128) * 65535) >> 24)


def to8(v: int, bit_depth: int) -> int:
    if bit_depth == 16:
        return scale16(v)
    return v * 255 // ((1 << bit_depth) - 1)


def pattern(x, y, c, maximum):
    """A deterministic spread of values over [0, maximum] that differs per channel."""
    return (x * 37 + y * 101 + c * 71 + x * y * 13) % (maximum + 1)


def make_case(name, width, height, bit_depth, color_type, interlace=False, trns=False, extra_chunks=(), opaque=False):
    ch = channels_of(color_type)
    maximum = (1 << bit_depth) - 1
    palette = None
    if color_type == 3:
        entries = 1 << bit_depth
        palette = [((i * 53) % 256, (i * 97 + 11) % 256, (i * 29 + 200) % 256) for i in range(entries)]
    rows, rgb, gray = [], [], []
    for y in range(height):
        row = []
        for x in range(width):
            samples = [pattern(x, y, c, maximum) for c in range(ch)]
            if color_type in (4, 6):
                # Make some pixels fully transparent: their colour must survive.
                samples[-1] = maximum if opaque else (0 if (x + y) % 3 == 0 else samples[-1])
            row += samples
            if color_type == 3:
                rgb += list(palette[samples[0]])
            elif color_type in (0, 4):
                g = to8(samples[0], bit_depth)
                rgb += [g, g, g]
                gray.append(samples[0])
            else:
                rgb += [to8(s, bit_depth) for s in samples[:3]]
        rows.append(row)
    trns_bytes = None
    if trns:
        if color_type == 3:
            trns_bytes = bytes([0, 128, 255])  # first three entries transparent-ish
        elif color_type == 0:
            trns_bytes = struct.pack(">H", pattern(0, 0, 0, maximum))  # the top-left value
        elif color_type == 2:
            trns_bytes = struct.pack(">HHH", *[pattern(0, 0, c, maximum) for c in range(3)])
    png = encode_png(width, height, bit_depth, color_type, rows, palette, trns_bytes, interlace, extra_chunks)
    entry = {
        "width": width, "height": height, "bit_depth": bit_depth, "color_type": color_type,
        "interlace": interlace, "transparency_chunk": trns, "rgb": rgb,
    }
    if color_type == 0:
        entry["gray"] = gray
    if bit_depth == 16 and interlace and color_type in (4, 6) and not opaque:
        # libpng 1.6.39 cannot read these faithfully (issue #853); the reader must say so.
        entry["error"] = "16-bit interlaced PNG with transparency"
    return png, entry


# name: (width, height, bit_depth, color_type, options)
CASES = {
    "gray1": (9, 5, 1, 0, {}),
    "gray2": (7, 5, 2, 0, {}),
    "gray4": (7, 5, 4, 0, {}),
    "gray8": (7, 5, 8, 0, {}),
    "gray16": (7, 5, 16, 0, {}),
    "gray8_trns": (7, 5, 8, 0, {"trns": True}),
    "gray16_trns": (7, 5, 16, 0, {"trns": True}),
    "graya8": (7, 5, 8, 4, {}),
    "graya16": (7, 5, 16, 4, {}),
    "rgb8": (7, 5, 8, 2, {}),
    "rgb16": (7, 5, 16, 2, {}),
    "rgb8_trns": (7, 5, 8, 2, {"trns": True}),
    "rgba8": (7, 5, 8, 6, {}),
    "rgba16": (7, 5, 16, 6, {}),
    "palette1": (9, 5, 1, 3, {}),
    "palette2": (7, 5, 2, 3, {}),
    "palette4": (7, 5, 4, 3, {}),
    "palette8": (7, 5, 8, 3, {}),
    "palette8_trns": (7, 5, 8, 3, {"trns": True}),
    "rgb8_interlaced": (11, 9, 8, 2, {"interlace": True}),
    "gray16_interlaced": (11, 9, 16, 0, {"interlace": True}),
    "rgba16_interlaced": (11, 9, 16, 6, {"interlace": True}),
    "rgba16_interlaced_opaque": (11, 9, 16, 6, {"interlace": True, "opaque": True}),
    "graya16_interlaced_opaque": (11, 9, 16, 4, {"interlace": True, "opaque": True}),
    "rgb16_interlaced": (11, 9, 16, 2, {"interlace": True}),
    "graya8_interlaced": (11, 9, 8, 4, {"interlace": True}),
    "palette4_interlaced": (11, 9, 4, 3, {"interlace": True}),
    # Colour-space chunks that would make libpng re-encode samples; the reader ignores them.
    "rgb8_gamma1": (7, 5, 8, 2, {"extra_chunks": ((b"gAMA", struct.pack(">I", 100000)),)}),
    "rgb16_srgb": (7, 5, 16, 2, {"extra_chunks": ((b"sRGB", b"\x00"),)}),
    "gray16_gamma": (7, 5, 16, 0, {"extra_chunks": ((b"gAMA", struct.pack(">I", 45455)),)}),
    "one_by_one": (1, 1, 8, 2, {}),
}


def make_bad(good: bytes) -> dict:
    """Broken and foreign files, derived from a good RGB PNG."""
    idat = good.index(b"IDAT") - 4
    length = struct.unpack(">I", good[idat : idat + 4])[0]
    iend = good.index(b"IEND") - 4
    bad_crc = bytearray(good)
    bad_crc[idat + 8 + length] ^= 0xFF
    garbage = bytes((i * 73 + 19) % 256 for i in range(length))
    bad_zlib = good[:idat] + chunk(b"IDAT", garbage) + good[iend:]
    zero = SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 0, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    not_ihdr = SIGNATURE + chunk(b"tEXt", b"Comment\x00hello") + good[8:]
    return {
        "not_png.txt": b"This is a text file, not an image.\n",
        "jpeg_signature.jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(32),
        "tiff_signature.tif": b"II*\x00\x08\x00\x00\x00" + bytes(32),
        "empty.png": b"",
        "zero_size.png": zero,
        "truncated_idat.png": good[: idat + 8 + length // 2],
        "truncated_signature.png": good[:5],
        "no_iend.png": good[:iend],
        "bad_crc.png": bytes(bad_crc),
        "bad_zlib.png": bad_zlib,
        "first_chunk_not_ihdr.png": not_ihdr,
    }


# ---- decoding (for interop checks of what Swift writes) ----

def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode_png(path: str) -> dict:
    data = open(path, "rb").read()
    if data[:8] != SIGNATURE:
        raise ValueError(f"{path}: not a PNG")
    pos, idat, chunks, header = 8, b"", [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        crc = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0]
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            raise ValueError(f"{path}: bad CRC in {kind!r}")
        chunks.append(kind.decode())
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + length
    width, height, bit_depth, color_type, _, _, interlace = header
    if interlace or bit_depth not in (8, 16):
        raise ValueError(f"{path}: this small decoder reads only non-interlaced 8/16-bit files")
    ch = channels_of(color_type)
    bpp = ch * bit_depth // 8
    stride = width * bpp
    raw = zlib.decompress(idat)
    prev = bytearray(stride)
    samples = []
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            predictor = [0, a, b, (a + b) // 2, paeth(a, b, c)][kind]
            line[i] = (line[i] + predictor) & 0xFF
        if bit_depth == 16:
            samples += list(struct.unpack(f">{stride // 2}H", bytes(line)))
        else:
            samples += list(line)
        prev = line
    return {"width": width, "height": height, "bit_depth": bit_depth, "color_type": color_type,
            "chunks": chunks, "samples": samples}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="Tests/Fixtures/png")
    parser.add_argument("--decode", metavar="FILE", help="print a PNG's header and samples as JSON")
    args = parser.parse_args()
    if args.decode:
        json.dump(decode_png(args.decode), sys.stdout)
        return

    os.makedirs(os.path.join(args.out, "bad"), exist_ok=True)
    manifest = {}
    for name, (width, height, bit_depth, color_type, options) in CASES.items():
        png, entry = make_case(name, width, height, bit_depth, color_type, **options)
        with open(os.path.join(args.out, f"{name}.png"), "wb") as handle:
            handle.write(png)
        manifest[name] = entry

    ramp_rows = [[256 * y + x for x in range(256)] for y in range(256)]
    with open(os.path.join(args.out, "gray16_ramp.png"), "wb") as handle:
        handle.write(encode_png(256, 256, 16, 0, ramp_rows, use_sub_filter=True))

    good, _ = make_case("rgb8", 7, 5, 8, 2)
    for name, payload in make_bad(good).items():
        with open(os.path.join(args.out, "bad", name), "wb") as handle:
            handle.write(payload)

    # Self-check: the formulas agree with plain rounding, and the decoder reads back the cases.
    assert all(scale16(v) == (v * 255 + 32767) // 65535 for v in range(65536)), "scale16 is not round(v*255/65535)"
    for name in ("gray8", "gray16", "rgb8", "rgb16", "rgba8"):
        decoded = decode_png(os.path.join(args.out, f"{name}.png"))
        assert decoded["width"] == CASES[name][0] and decoded["height"] == CASES[name][1], name

    with open(os.path.join(args.out, "manifest.json"), "w") as handle:
        json.dump(manifest, handle, sort_keys=True)
        handle.write("\n")
    print(f"wrote {len(manifest)} cases, the 16-bit ramp and {len(make_bad(good))} bad files to {args.out}")


if __name__ == "__main__":
    main()
