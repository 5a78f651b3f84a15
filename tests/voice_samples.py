"""Test audio and posteriorgrams for the voice tests, made here (espeak-ng speech, numpy noise).

``speech_ogg`` synthesises Spanish with the espeak-ng binary (scripts/system-deps.sh installs it) and
encodes it as WhatsApp does: OGG/Opus at 48 kHz, with a little room noise and silence around it.
``posteriorgram`` builds a CTC log-posterior matrix from a script of phones, so the alignment and
scoring maths are tested on inputs whose right answer is known.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Sequence

import numpy as np
import pytest
import soundfile as sf  # type: ignore[import-untyped]

from espaluz.voice.audio import resample

VOCAB = ["<pad>", "a", "e", "i", "o", "u", "p", "t", "k", "b", "d", "g", "β", "ð", "ɣ", "m", "n", "ɲ",
         "ŋ", "f", "θ", "s", "x", "ʝ", "ʎ", "t͡ʃ", "l", "ɾ", "r", "j", "w", "h"]  # fmt: skip
PAUSE = "_"  # in a posteriorgram script: one blank frame


def espeak(text: str, voice: str = "es-419") -> tuple[np.ndarray, int]:
    binary = shutil.which("espeak-ng")
    if binary is None:
        pytest.skip("espeak-ng is not installed (scripts/system-deps.sh)")
    done = subprocess.run([binary, "-v", voice, "--stdout", "--", text], capture_output=True, check=True)
    samples, rate = sf.read(io.BytesIO(done.stdout), dtype="float32")
    return np.asarray(samples, dtype=np.float32), int(rate)


def ogg_opus(samples: np.ndarray, rate: int = 48_000) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="OGG", subtype="OPUS")
    return buffer.getvalue()


def speech_ogg(text: str, *, noise: float = 0.001, lead: float = 0.4, seed: int = 0) -> bytes:
    """Speech as a 48 kHz OGG/Opus voice note with ``lead`` seconds of room noise either side."""
    samples, rate = espeak(text)
    speech = resample(samples, rate, 48_000)
    pad = np.zeros(int(lead * 48_000), dtype=np.float32)
    clip = np.concatenate([pad, 0.5 * speech / max(float(np.abs(speech).max()), 1e-6), pad])
    clip += np.random.default_rng(seed).normal(0.0, noise, clip.size).astype(np.float32)
    return ogg_opus(clip.astype(np.float32))


def noise_ogg(seconds: float = 3.0, level: float = 0.05, seed: int = 1) -> bytes:
    return ogg_opus(np.random.default_rng(seed).normal(0.0, level, int(seconds * 48_000)).astype(np.float32))


def silent_ogg(seconds: float = 2.0) -> bytes:
    return ogg_opus(np.zeros(int(seconds * 48_000), dtype=np.float32))


def posteriorgram(
    script: Sequence[str],
    *,
    peak: float = 0.9,
    blanks: int = 2,
    mix: dict[int, dict[str, float]] | None = None,
) -> np.ndarray:
    """Log-posteriors (frames x VOCAB): each phone of ``script`` is one peaky frame with ``peak`` on it,
    with ``blanks`` blank frames between phones; ``_`` adds a blank frame (a pause). ``mix`` overrides
    the distribution of the n-th phone frame, e.g. ``{2: {"ɾ": 0.5, "r": 0.4}}``."""
    rows: list[np.ndarray] = []
    floor = 1e-4

    def blank_row() -> np.ndarray:
        row = np.full(len(VOCAB), floor)
        row[0] = 1.0
        return np.asarray(row / row.sum(), dtype=np.float64)

    phone_number = 0
    for item in script:
        if item == PAUSE:
            rows.append(blank_row())
            continue
        rows.extend(blank_row() for _ in range(blanks))
        row = np.full(len(VOCAB), floor)
        spec = (mix or {}).get(phone_number, {item: peak})
        for phone, p in spec.items():
            row[VOCAB.index(phone)] = p
        row[0] = max(floor, 1.0 - sum(spec.values()) - floor * (len(VOCAB) - 1))
        rows.append(row / row.sum())
        phone_number += 1
    rows.extend(blank_row() for _ in range(blanks))
    return np.asarray(np.log(np.array(rows, dtype=np.float64)), dtype=np.float32)
