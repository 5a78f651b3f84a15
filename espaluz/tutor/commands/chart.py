"""A progress chart as a PNG, drawn with numpy into a pixel buffer and encoded by hand.

Why by hand: matplotlib or Pillow would add tens of megabytes to the tutor Lambda bundle (and seconds to a
cold start) for one small bar chart. A PNG is a signature and three kinds of chunk (IHDR, IDAT, IEND),
each ``length | type | data | CRC-32``; the pixel rows, each prefixed with filter byte 0, are
zlib-compressed into IDAT. ``zlib`` and ``struct`` are enough, and numpy (already a runtime dependency)
paints the rectangles.

Text in the image is limited to digits and ``%`` in a 3x5 pixel font (cheap, no font file): each bar
shows its percentage above it and its number below it; the words (skill names) go in the WhatsApp
caption, numbered the same way.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WIDTH, HEIGHT = 480, 300
MAX_BARS = 8
_TOP, _BASELINE = 50, 250  # y of 100 % and of 0 %
_LEFT, _RIGHT = 30, WIDTH - 20
_SCALE = 3  # glyph pixel size

WHITE = (255, 255, 255)
INK = (40, 40, 40)
GRID = (225, 225, 225)
GOOD = (46, 160, 67)  # >= 80 %
FAIR = (230, 160, 30)  # >= 50 %
POOR = (210, 60, 60)  # < 50 %

_GLYPHS = {
    "0": ("111", "101", "101", "101", "111"),
    "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"),
    "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"),
    "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"),
    "7": ("111", "001", "010", "010", "010"),
    "8": ("111", "101", "111", "101", "111"),
    "9": ("111", "101", "111", "001", "111"),
    "%": ("101", "001", "010", "100", "101"),
}

Pixels = npt.NDArray[np.uint8]


def colour_for(value: float) -> tuple[int, int, int]:
    return GOOD if value >= 0.8 else FAIR if value >= 0.5 else POOR


def bar_height(value: float) -> int:
    """Pixels of a bar for ``value`` (0..1, clamped)."""
    return round(min(max(value, 0.0), 1.0) * (_BASELINE - _TOP))


def accuracy_chart(values: Sequence[float]) -> bytes:
    """A PNG bar chart: one bar per value (0..1, at most ``MAX_BARS``), numbered from 1 left to right."""
    if not values:
        raise ValueError("a chart needs at least one value")
    if len(values) > MAX_BARS:
        raise ValueError(f"at most {MAX_BARS} bars")
    img: Pixels = np.full((HEIGHT, WIDTH, 3), 255, dtype=np.uint8)
    for fraction in (0.5, 1.0):  # grid lines at 50 % and 100 %
        y = _BASELINE - bar_height(fraction)
        img[y, _LEFT:_RIGHT] = GRID
    img[_BASELINE : _BASELINE + 2, _LEFT:_RIGHT] = INK
    slot = (_RIGHT - _LEFT) // len(values)
    width = min(60, slot * 3 // 5)
    for i, value in enumerate(values):
        centre = _LEFT + slot * i + slot // 2
        x0, x1 = centre - width // 2, centre - width // 2 + width
        h = bar_height(value)
        if h:
            img[_BASELINE - h : _BASELINE, x0:x1] = colour_for(value)
        pct = f"{round(min(max(value, 0.0), 1.0) * 100)}%"
        _text(img, pct, centre, _BASELINE - h - 8 - 5 * _SCALE)
        _text(img, str(i + 1), centre, _BASELINE + 10)
    return encode_png(img)


def _text(img: Pixels, text: str, centre_x: int, top: int) -> None:
    advance = 4 * _SCALE
    x = centre_x - (len(text) * advance - _SCALE) // 2
    for char in text:
        for row, bits in enumerate(_GLYPHS[char]):
            for col, bit in enumerate(bits):
                if bit == "1":
                    y0, x0 = top + row * _SCALE, x + col * _SCALE
                    img[y0 : y0 + _SCALE, x0 : x0 + _SCALE] = INK
        x += advance


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(pixels: Pixels) -> bytes:
    """An 8-bit RGB PNG of an ``(height, width, 3)`` uint8 array (filter 0 on every row)."""
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise ValueError("expected an (height, width, 3) uint8 array")
    height, width = int(pixels.shape[0]), int(pixels.shape[1])
    rows = np.zeros((height, width * 3 + 1), dtype=np.uint8)  # column 0: filter type 0 (None)
    rows[:, 1:] = pixels.reshape(height, width * 3)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # depth 8, RGB, deflate, no interlace
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + _chunk(b"IEND", b"")
    )
