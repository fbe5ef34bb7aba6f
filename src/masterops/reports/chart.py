"""A small bar chart as a PNG, drawn here: mail clients show PNG images (many refuse SVG),
and a bar chart is only rectangles, so a few lines of ``zlib`` beat a plotting library.

The chart has no text: its labels are the HTML table beside it, which stays readable
when a client blocks images.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

WIDTH = 560
HEIGHT = 120
_BACKGROUND = (255, 255, 255)
_BAR = (46, 110, 180)
_LATEST = (230, 126, 34)  # the period's own day stands out
_AXIS = (160, 160, 160)


def bar_chart_png(values: Sequence[float], *, width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """Bars for ``values`` (oldest first; the last one highlighted) on a baseline."""
    pixels = [bytearray(bytes(_BACKGROUND) * width) for _ in range(height)]

    def fill(x0: int, y0: int, x1: int, y1: int, colour: tuple[int, int, int]) -> None:
        for y in range(max(0, y0), min(height, y1)):
            row = pixels[y]
            for x in range(max(0, x0), min(width, x1)):
                row[3 * x : 3 * x + 3] = bytes(colour)

    baseline = height - 4
    fill(0, baseline, width, baseline + 1, _AXIS)
    if values:
        top = max(values) or 1.0
        slot = width / len(values)
        gap = max(1, int(slot * 0.2))
        for i, value in enumerate(values):
            bar = round((baseline - 4) * max(value, 0) / top)
            x0 = int(i * slot) + gap // 2
            x1 = int((i + 1) * slot) - gap // 2
            colour = _LATEST if i == len(values) - 1 else _BAR
            fill(x0, baseline - bar, x1, baseline, colour)
    return _png(width, height, pixels)


def _png(width: int, height: int, rows: Sequence[bytearray]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + bytes(row) for row in rows)  # filter type 0 on every row
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )
