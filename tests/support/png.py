"""Read a PNG's pixels (8-bit RGB or RGBA, not interlaced: what Chromium's --screenshot writes)."""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from pathlib import Path

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {2: 3, 6: 4}  # colour type -> bytes per pixel at bit depth 8


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def _unfilter(kind: int, row: bytearray, previous: bytes, step: int) -> None:
    for i in range(len(row)):
        left = row[i - step] if i >= step else 0
        up = previous[i]
        corner = previous[i - step] if i >= step else 0
        if kind == 1:
            row[i] = (row[i] + left) & 0xFF
        elif kind == 2:
            row[i] = (row[i] + up) & 0xFF
        elif kind == 3:
            row[i] = (row[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            row[i] = (row[i] + _paeth(left, up, corner)) & 0xFF


def pixels(path: Path) -> tuple[int, int, list[tuple[int, ...]]]:
    """(width, height, RGB pixels row by row) of a PNG file."""
    data = path.read_bytes()
    if not data.startswith(SIGNATURE):
        raise ValueError(f"{path} is not a PNG")
    offset, idat, header = len(SIGNATURE), bytearray(), b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind, body = data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]
        offset += 12 + length
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or colour not in CHANNELS or interlace:
        raise ValueError(f"unsupported PNG (depth {depth}, colour type {colour}, interlace {interlace})")
    step = CHANNELS[colour]
    raw = zlib.decompress(bytes(idat))
    stride = width * step
    previous = bytes(stride)
    out: list[tuple[int, ...]] = []
    for y in range(height):
        start = y * (stride + 1)
        row = bytearray(raw[start + 1 : start + 1 + stride])
        _unfilter(raw[start], row, previous, step)
        out.extend(tuple(row[x : x + 3]) for x in range(0, stride, step))
        previous = bytes(row)
    return width, height, out


def colour_share(path: Path) -> tuple[float, Counter[tuple[int, ...]]]:
    """The share of pixels that differ from the most common colour, and the colour counts."""
    _, _, found = pixels(path)
    counts = Counter(found)
    background = counts.most_common(1)[0][1]
    return 1 - background / len(found), counts
