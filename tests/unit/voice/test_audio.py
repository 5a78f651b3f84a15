"""The audio pipeline on espeak-ng speech, noise-only and silent clips, and bad inputs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from espaluz.voice.audio import (
    SAMPLE_RATE,
    AudioProblem,
    PreparedAudio,
    decode,
    frame_energies_db,
    prepare,
    resample,
)
from tests.voice_samples import noise_ogg, ogg_opus, silent_ogg, speech_ogg

LIMITS: dict[str, Any] = {"max_bytes": 2_000_000, "max_seconds": 60.0}


def test_synthesised_speech_is_prepared_and_measured() -> None:
    """espeak-ng speech with 0.4 s of quiet noise either side: one speech segment inside the clip,
    clean (SNR well above 20 dB), resampled to 16 kHz and normalised to about -20 dBFS."""
    prepared = prepare(speech_ogg("el perro de mi vecino"), **LIMITS)
    assert isinstance(prepared, PreparedAudio)
    assert prepared.source_rate == 48_000
    assert prepared.sample_rate == SAMPLE_RATE
    assert prepared.samples.size == pytest.approx(prepared.duration * SAMPLE_RATE, rel=0.01)
    assert prepared.snr_db > 20
    from tests.voice_samples import espeak

    raw, rate = espeak("el perro de mi vecino")
    voiced = np.flatnonzero(np.abs(raw) > 0.01)
    first, last = prepared.segments[0], prepared.segments[-1]
    assert first.start == pytest.approx(0.4 + voiced[0] / rate, abs=0.06)
    assert last.end == pytest.approx(0.4 + voiced[-1] / rate, abs=0.08)
    speech = prepared.samples[int(first.start * SAMPLE_RATE) : int(last.end * SAMPLE_RATE)]
    rms_db = 20 * np.log10(np.sqrt(np.mean(speech**2)))
    assert -26 < rms_db < -17
    assert float(np.abs(prepared.samples).max()) <= 0.99


def test_a_pause_in_speech_splits_segments() -> None:
    """Two phrases with a second of silence between them: two segments and one pause (fluency)."""
    from tests.voice_samples import espeak

    one, rate = espeak("hola")
    gap = np.zeros(rate, dtype=np.float32)
    clip = resample(np.concatenate([gap[: rate // 3], one, gap, one, gap[: rate // 3]]), rate, 48_000)
    clip += np.random.default_rng(0).normal(0, 0.001, clip.size).astype(np.float32)
    prepared = prepare(ogg_opus(clip), **LIMITS)
    assert isinstance(prepared, PreparedAudio)
    assert len(prepared.segments) == 2
    voiced = np.flatnonzero(np.abs(one) > 0.01)
    silent_inside = 1.0 + (one.size - voiced[-1] + voiced[0]) / rate  # espeak pads its output
    assert prepared.pauses[0].duration == pytest.approx(silent_inside, abs=0.1)


def test_noise_only_clip_is_not_speech() -> None:
    """Noise without a voice: a friendly 'only noise' outcome, not a transcript of nothing."""
    assert prepare(noise_ogg(), **LIMITS) is AudioProblem.NOISE_ONLY


def test_silent_clip() -> None:
    """A muted microphone: digital silence."""
    assert prepare(silent_ogg(), **LIMITS) is AudioProblem.SILENT


@pytest.mark.parametrize(
    ("data", "limits", "problem"),
    [
        (b"", LIMITS, AudioProblem.EMPTY),
        (b"OggS" + b"\x00" * 200, LIMITS, AudioProblem.UNDECODABLE),
        (b"not audio at all" * 10, LIMITS, AudioProblem.UNDECODABLE),
        (b"x" * 101, {"max_bytes": 100, "max_seconds": 60.0}, AudioProblem.OVERSIZED),
    ],
)
def test_bad_inputs_have_a_named_problem(
    data: bytes, limits: dict[str, float], problem: AudioProblem
) -> None:
    """Bad input: empty, truncated or non-audio bytes, or a file over the size limit."""
    assert prepare(data, max_bytes=int(limits["max_bytes"]), max_seconds=limits["max_seconds"]) is problem


def test_too_long_clip() -> None:
    assert prepare(noise_ogg(seconds=3.0), max_bytes=10**7, max_seconds=2.0) is AudioProblem.TOO_LONG


def test_resampling_keeps_speech_band_and_removes_aliases() -> None:
    """48 kHz -> 16 kHz: a 1 kHz tone stays at 1 kHz; a 10 kHz tone (above the new Nyquist, 8 kHz)
    is filtered out instead of folding back to 6 kHz."""
    t = np.arange(48_000) / 48_000
    low = resample(np.sin(2 * np.pi * 1000 * t).astype(np.float32), 48_000)
    spectrum = np.abs(np.fft.rfft(low))
    assert abs(int(spectrum.argmax()) - 1000) <= 1
    high = resample(np.sin(2 * np.pi * 10_000 * t).astype(np.float32), 48_000)
    assert float(np.sqrt(np.mean(high[200:-200] ** 2))) < 0.01
    odd = resample(np.ones(22_050, dtype=np.float32), 22_050)
    assert odd.size == 16_000


def test_decode_mixes_stereo_to_mono() -> None:
    stereo = np.stack([np.full(4800, 0.5), np.full(4800, -0.5)], axis=1).astype(np.float32)
    import io

    import soundfile as sf  # type: ignore[import-untyped]

    buffer = io.BytesIO()
    sf.write(buffer, stereo, 48_000, format="WAV")
    mono, rate = decode(buffer.getvalue())
    assert rate == 48_000
    assert float(np.abs(mono).max()) < 1e-3


def test_frame_energies_of_a_short_clip() -> None:
    """A clip shorter than one frame still gives one energy value (padded), not an error."""
    assert frame_energies_db(np.ones(10, dtype=np.float32)).shape == (1,)
