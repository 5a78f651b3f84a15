"""Prosody from pitch and intensity (Praat through parselmouth): which syllable carries the stress.

Spanish stress is heard as a mix of higher or moving pitch, more energy and a longer vowel. For each
vowel nucleus of a word we take its mean pitch (semitones), mean intensity (dB) and duration, turn each
into a z-score across the word's syllables, and call the syllable with the largest sum the stressed
one. That is crude for one word said in isolation with falling intonation, so the feedback treats a
stress mismatch as the last thing to fix, never the first.

parselmouth wheels carry Praat compiled in (no system dependency); it is imported only when a track is
computed, so modules that import this one stay cheap to load.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)

PITCH_FLOOR_HZ = 75.0
PITCH_CEILING_HZ = 500.0


@dataclass(frozen=True, slots=True)
class ProsodyTrack:
    """Pitch (Hz, 0 where unvoiced) and intensity (dB) sampled every ``step`` seconds from ``start``."""

    start: float
    step: float
    f0: np.ndarray
    intensity: np.ndarray

    def _window(self, values: np.ndarray, start: float, end: float) -> np.ndarray:
        a = max(0, math.floor((start - self.start) / self.step))
        b = max(a + 1, math.ceil((end - self.start) / self.step))
        return values[a:b]

    def pitch_semitones(self, start: float, end: float) -> float | None:
        voiced = self._window(self.f0, start, end)
        voiced = voiced[voiced > 0]
        return float(12.0 * np.log2(voiced / 100.0).mean()) if voiced.size else None

    def loudness(self, start: float, end: float) -> float | None:
        values = self._window(self.intensity, start, end)
        return float(values.mean()) if values.size else None


def track(samples: np.ndarray, rate: int, step: float = 0.01) -> ProsodyTrack:
    """Pitch and intensity of a clip, resampled onto one time grid."""
    import parselmouth  # type: ignore[import-not-found]

    sound = parselmouth.Sound(samples.astype(np.float64), sampling_frequency=rate)
    pitch = sound.to_pitch(time_step=step, pitch_floor=PITCH_FLOOR_HZ, pitch_ceiling=PITCH_CEILING_HZ)
    intensity = sound.to_intensity(minimum_pitch=PITCH_FLOOR_HZ, time_step=step)
    grid = np.arange(0.0, sound.duration, step)
    f0_values = pitch.selected_array["frequency"]
    f0 = np.interp(grid, pitch.xs(), f0_values, left=0.0, right=0.0)
    # Interpolation smears voiced into unvoiced frames; keep a grid point voiced only if its nearest
    # pitch frame is.
    nearest = np.clip(np.searchsorted(pitch.xs(), grid), 0, len(f0_values) - 1)
    f0[f0_values[nearest] <= 0] = 0.0
    level = np.interp(grid, intensity.xs(), intensity.values[0]) if intensity.xs().size else grid * 0
    return ProsodyTrack(0.0, step, f0.astype(np.float32), np.asarray(level, dtype=np.float32))


def _z(values: Sequence[float | None]) -> np.ndarray:
    present = [v for v in values if v is not None]
    if len(present) < 2:
        return np.zeros(len(values))
    mean, std = float(np.mean(present)), float(np.std(present)) or 1.0
    return np.array([0.0 if v is None else (v - mean) / std for v in values])


def stressed_syllable(prosody: ProsodyTrack, nuclei: Sequence[tuple[float, float]]) -> int | None:
    """Index of the most prominent of a word's vowel nuclei (start, end in seconds); ``None`` for a
    word of one syllable or one with no voiced nucleus."""
    if len(nuclei) < 2:
        return None
    pitch = [prosody.pitch_semitones(a, b) for a, b in nuclei]
    if all(p is None for p in pitch):
        return None
    loud = [prosody.loudness(a, b) for a, b in nuclei]
    length = [b - a for a, b in nuclei]
    prominence = _z(pitch) + _z(loud) + 0.5 * _z(length)
    return int(prominence.argmax())
