"""Audio preparation: decode a voice note, resample to 16 kHz mono, normalise loudness, measure it.

Everything here is numpy plus soundfile (libsndfile reads and writes OGG/Opus), so it runs in the
tutor Lambda. Deliberately not used:

- resampy / scipy.signal: scipy alone is ~100 MB unpacked, more than the rest of the bundle; a
  windowed-sinc low-pass and polyphase decimation in numpy is exact enough for speech at 16 kHz
  (WhatsApp voice notes decode at 48 kHz, an integer ratio of 3);
- webrtcvad / silero-vad: webrtcvad needs a native build per platform, silero needs torch or
  onnxruntime. A voice note is one speaker close to a phone microphone, so an adaptive energy
  threshold with hangover (below) finds the speech well enough for routing and pause detection.

A caller must know: ``prepare`` never raises on bad audio. It returns a :class:`AudioProblem` for an
empty, oversized, undecodable, too long, silent or noise-only clip, and the feedback module turns that into a
friendly reply.
"""

from __future__ import annotations

import io
import logging
import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import soundfile as sf  # type: ignore[import-untyped]

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
FRAME_SECONDS = 0.025
HOP_SECONDS = 0.010
TARGET_RMS_DBFS = -20.0
SILENCE_DBFS = -60.0  # a clip whose loudest frame is below this is silence (or a muted microphone)
MIN_SPEECH_SECONDS = 0.15
MERGE_GAP_SECONDS = 0.20


class AudioProblem(StrEnum):
    """Why a clip cannot be used; each has a friendly reply in :mod:`espaluz.voice.feedback`."""

    EMPTY = "empty"
    UNDECODABLE = "undecodable"
    OVERSIZED = "oversized"
    TOO_LONG = "too_long"
    SILENT = "silent"
    NOISE_ONLY = "noise_only"


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of speech, in seconds from the start of the clip."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class PreparedAudio:
    """A clip ready for recognition: 16 kHz mono float32 in [-1, 1], loudness-normalised.

    ``snr_db`` compares the speech frames' energy with the noise floor; ``segments`` are the VAD's
    speech stretches; ``pauses`` the silences between them (what fluency scoring calls a pause).
    """

    samples: np.ndarray
    sample_rate: int
    duration: float
    snr_db: float
    segments: tuple[Segment, ...]
    source_rate: int

    @property
    def speech_seconds(self) -> float:
        return sum(s.duration for s in self.segments)

    @property
    def pauses(self) -> tuple[Segment, ...]:
        return tuple(Segment(a.end, b.start) for a, b in zip(self.segments, self.segments[1:], strict=False))

    def wav_bytes(self) -> bytes:
        """16-bit PCM WAV of the prepared samples (what the recognisers are sent)."""
        buffer = io.BytesIO()
        sf.write(buffer, self.samples, self.sample_rate, format="WAV", subtype="PCM_16")
        return buffer.getvalue()


def decode(data: bytes) -> tuple[np.ndarray, int]:
    """Decode any container libsndfile knows (OGG/Opus, WAV, FLAC, MP3) to mono float32.

    Raises ``ValueError`` when the bytes are not audio it can read.
    """
    try:
        samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise ValueError(f"undecodable audio: {type(exc).__name__}") from exc
    return samples.mean(axis=1).astype(np.float32), int(rate)


def _lowpass_kernel(cutoff: float, taps: int) -> np.ndarray:
    """Windowed-sinc (Blackman) low-pass; ``cutoff`` as a fraction of the input Nyquist frequency."""
    n = np.arange(taps) - (taps - 1) / 2
    kernel = cutoff * np.sinc(cutoff * n) * np.blackman(taps)
    return np.asarray(kernel / kernel.sum(), dtype=np.float32)


def resample(samples: np.ndarray, source_rate: int, target_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Resample with an anti-aliasing low-pass. Integer down-ratios (48 k → 16 k) filter and keep every
    k-th sample; other ratios filter then interpolate linearly, good enough for speech recognition."""
    if source_rate == target_rate or samples.size == 0:
        return samples.astype(np.float32)
    if source_rate > target_rate:
        ratio = source_rate / target_rate
        kernel = _lowpass_kernel(0.9 / ratio, 8 * math.ceil(ratio) * 4 + 1)
        filtered = np.convolve(samples, kernel, mode="same")
        if float(ratio).is_integer():
            return filtered[:: int(ratio)].astype(np.float32)
    else:
        filtered = samples
    count = round(samples.size * target_rate / source_rate)
    positions = np.arange(count) * (source_rate / target_rate)
    return np.asarray(np.interp(positions, np.arange(samples.size), filtered), dtype=np.float32)


def frame_energies_db(samples: np.ndarray, rate: int = SAMPLE_RATE) -> np.ndarray:
    """Energy (dBFS, RMS) of 25 ms frames every 10 ms."""
    frame = int(FRAME_SECONDS * rate)
    hop = int(HOP_SECONDS * rate)
    if samples.size < frame:
        samples = np.pad(samples, (0, frame - samples.size))
    count = 1 + (samples.size - frame) // hop
    strided = np.lib.stride_tricks.as_strided(
        samples, shape=(count, frame), strides=(samples.strides[0] * hop, samples.strides[0])
    )
    power = np.einsum("ij,ij->i", strided, strided, dtype=np.float64) / frame
    return np.asarray(10.0 * np.log10(power + 1e-12), dtype=np.float64)


def speech_mask(energies_db: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Energy VAD: a frame is speech when it is well above the noise floor.

    The noise floor is the 10th percentile of frame energies (a voice note starts and ends with
    room noise); the threshold sits a third of the way from the floor to the loud frames (90th
    percentile), at least 6 dB above the floor. Returns (mask, noise floor dB, speech level dB).
    """
    floor = float(np.percentile(energies_db, 10))
    loud = float(np.percentile(energies_db, 90))
    threshold = max(floor + 6.0, floor + (loud - floor) / 3.0, SILENCE_DBFS)
    return energies_db > threshold, floor, loud


def segments_from_mask(mask: np.ndarray, hop: float = HOP_SECONDS) -> tuple[Segment, ...]:
    """Runs of speech frames, gaps under 200 ms bridged (hangover) and blips under 150 ms dropped."""
    if not mask.any():
        return ()
    padded = np.concatenate(([False], mask, [False]))
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    runs = [
        [float(a) * hop, float(b) * hop + FRAME_SECONDS - hop]
        for a, b in zip(edges[::2], edges[1::2], strict=True)
    ]
    merged: list[list[float]] = [runs[0]]
    for start, end in runs[1:]:
        if start - merged[-1][1] < MERGE_GAP_SECONDS:
            merged[-1][1] = end
        else:
            merged.append([start, end])
    return tuple(Segment(round(a, 3), round(b, 3)) for a, b in merged if b - a >= MIN_SPEECH_SECONDS)


def snr_db(energies_db: np.ndarray, mask: np.ndarray) -> float:
    """Mean speech-frame power over mean non-speech power, in dB (60 dB when there is no noise to see)."""
    power = 10.0 ** (energies_db / 10.0)
    if not mask.any():
        return 0.0
    speech = float(power[mask].mean())
    noise = float(power[~mask].mean()) if (~mask).any() else 1e-12
    return float(min(60.0, 10.0 * math.log10(max(speech - noise, 1e-12) / max(noise, 1e-12))))


def normalise(samples: np.ndarray, mask: np.ndarray, rate: int = SAMPLE_RATE) -> np.ndarray:
    """Scale so the speech frames' RMS is -20 dBFS, never clipping (peak kept under 0.99)."""
    hop = int(HOP_SECONDS * rate)
    frame = int(FRAME_SECONDS * rate)
    picked = [samples[i * hop : i * hop + frame] for i in np.flatnonzero(mask)]
    speech = np.concatenate(picked) if picked else samples
    rms = float(np.sqrt(np.mean(np.square(speech, dtype=np.float64)))) if speech.size else 0.0
    if rms <= 0.0:
        return samples
    gain = 10.0 ** (TARGET_RMS_DBFS / 20.0) / rms
    peak = float(np.abs(samples).max())
    gain = min(gain, 0.99 / peak) if peak > 0 else gain
    return np.asarray(samples * gain, dtype=np.float32)


def prepare(data: bytes, *, max_bytes: int, max_seconds: float) -> PreparedAudio | AudioProblem:
    """Decode, resample, measure and normalise one clip, or say why it cannot be used."""
    if not data:
        return AudioProblem.EMPTY
    if len(data) > max_bytes:
        return AudioProblem.OVERSIZED
    try:
        raw, rate = decode(data)
    except ValueError:
        return AudioProblem.UNDECODABLE
    if raw.size == 0:
        return AudioProblem.EMPTY
    duration = raw.size / rate
    if duration > max_seconds:
        return AudioProblem.TOO_LONG
    samples = resample(raw, rate)
    energies = frame_energies_db(samples)
    if float(energies.max()) < SILENCE_DBFS:
        return AudioProblem.SILENT
    mask, _floor, _loud = speech_mask(energies)
    segments = segments_from_mask(mask)
    if not segments:
        return AudioProblem.NOISE_ONLY
    return PreparedAudio(
        samples=normalise(samples, mask),
        sample_rate=SAMPLE_RATE,
        duration=round(duration, 3),
        snr_db=round(snr_db(energies, mask), 1),
        segments=segments,
        source_rate=rate,
    )
