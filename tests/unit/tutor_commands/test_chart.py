"""The hand-written PNG encoder and the progress bar chart, checked by decoding the bytes here with zlib
and struct only (no imaging library): a broken chunk, a wrong CRC or bars that lie fail these tests."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from espaluz.tutor.commands.chart import (
    FAIR,
    GOOD,
    HEIGHT,
    INK,
    MAX_BARS,
    POOR,
    WIDTH,
    accuracy_chart,
    bar_height,
    encode_png,
)

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """Every chunk as (type, data), after checking its CRC-32 over type + data."""
    assert png[:8] == SIGNATURE
    out, pos = [], 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        data = png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + data), f"bad CRC in {kind!r}"
        out.append((kind, data))
        pos += 12 + length
    assert pos == len(png), "trailing bytes after IEND"
    return out


def decode(png: bytes) -> np.ndarray:
    """Pixels of an 8-bit RGB, non-interlaced PNG whose rows use filter 0 (what the encoder writes)."""
    parts = chunks(png)
    kinds = [k for k, _ in parts]
    assert kinds[0] == b"IHDR"
    assert kinds[-1] == b"IEND"
    assert b"IDAT" in kinds
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(">IIBBBBB", parts[0][1])
    assert (depth, colour, compression, filtering, interlace) == (8, 2, 0, 0, 0)
    raw = zlib.decompress(b"".join(d for k, d in parts if k == b"IDAT"))
    assert len(raw) == height * (width * 3 + 1)
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(height, width * 3 + 1)
    assert (rows[:, 0] == 0).all(), "every row uses filter type 0"
    return rows[:, 1:].reshape(height, width, 3)


def bars(img: np.ndarray) -> list[tuple[int, tuple[int, ...]]]:
    """(height in pixels, colour) of each bar, left to right, read from the image alone."""
    colours = {GOOD, FAIR, POOR}
    ink = np.all(img == np.array(INK, dtype=np.uint8), axis=2)
    axis = int(np.argmax(ink.sum(axis=1) > img.shape[1] // 2))  # the first row of the x axis
    row = [tuple(int(c) for c in img[axis - 1, x]) for x in range(img.shape[1])]
    found, x = [], 0
    while x < len(row):
        if row[x] in colours:
            start, colour = x, row[x]
            while x < len(row) and row[x] == colour:
                x += 1
            centre = (start + x) // 2
            column = [tuple(int(c) for c in img[y, centre]) for y in range(img.shape[0])]
            found.append((sum(1 for c in column if c == colour), colour))
        x += 1
    return found


def test_png_is_valid_and_round_trips_pixels() -> None:
    """Covers a corrupted encoder: signature, IHDR fields, IDAT/IEND CRCs and the pixels must all hold."""
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, size=(13, 17, 3), dtype=np.uint8)
    assert (decode(encode_png(pixels)) == pixels).all()


def test_corrupted_byte_breaks_the_crc() -> None:
    """Covers the checker itself: one flipped byte inside IDAT must be caught by the CRC check."""
    png = bytearray(accuracy_chart([0.5]))
    png[60] ^= 0xFF
    with pytest.raises(AssertionError):
        chunks(bytes(png))


@pytest.mark.parametrize(
    "bad",
    [np.zeros((4, 4), dtype=np.uint8), np.zeros((4, 4, 4), dtype=np.uint8), np.zeros((4, 4, 3), dtype=float)],
)
def test_encoder_refuses_arrays_that_are_not_rgb_bytes(bad: np.ndarray) -> None:
    """Covers bad input: grey, RGBA or float arrays are refused rather than written as garbage."""
    with pytest.raises(ValueError, match="uint8 array"):
        encode_png(bad)


def test_bars_reflect_the_values_in_height_order_and_colour() -> None:
    """Covers a chart that lies: bar heights must follow the data (0 % draws no bar) and colours its band."""
    values = [1.0, 0.25, 0.6, 0.0, 0.85]
    img = decode(accuracy_chart(values))
    assert img.shape == (HEIGHT, WIDTH, 3)
    found = bars(img)
    assert [h for h, _ in found] == [bar_height(v) for v in values if v > 0]
    assert [c for _, c in found] == [GOOD, POOR, FAIR, GOOD]
    assert found[0][0] > found[3][0] > found[2][0] > found[1][0]
    assert found[0][0] == 4 * found[1][0]


def test_percent_labels_are_drawn_above_bars() -> None:
    """Covers missing labels: the digit glyphs put ink above each bar."""
    img = decode(accuracy_chart([0.5, 0.5]))
    ink = np.all(img == np.array(INK, dtype=np.uint8), axis=2)
    axis = int(np.argmax(ink.sum(axis=1) > img.shape[1] // 2))
    top_of_bar = axis - bar_height(0.5)
    assert ink[:top_of_bar].any()


@pytest.mark.parametrize("values", [[], [0.5] * (MAX_BARS + 1)])
def test_chart_refuses_no_bars_or_too_many(values: list[float]) -> None:
    """Covers bad input: an empty series or more bars than fit."""
    with pytest.raises(ValueError, match=r"at least one|at most"):
        accuracy_chart(values)


def test_out_of_range_values_are_clamped() -> None:
    """Covers bad data: an accuracy above 1 or below 0 is drawn as 100 % / 0 %, never off the canvas."""
    img = decode(accuracy_chart([1.7, -0.3]))
    assert [h for h, _ in bars(img)] == [bar_height(1.0)]
