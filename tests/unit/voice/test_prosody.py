"""Stress from pitch and intensity (parselmouth) on a constructed three-syllable "word": the syllable
that is louder and higher is found, and scoring flags a word stressed on the wrong syllable."""

from __future__ import annotations

import numpy as np

from espaluz.voice.prosody import stressed_syllable, track
from espaluz.voice.scoring import ErrorType, Vocabulary, score
from tests.voice_samples import VOCAB, posteriorgram

RATE = 16_000


def vowels(pitches: list[float], loudness: list[float], seconds: float = 0.2) -> np.ndarray:
    """Harmonic "vowels" separated by 100 ms of quiet: each with its own pitch and amplitude."""
    parts = [np.zeros(int(0.1 * RATE), dtype=np.float32)]
    t = np.arange(int(seconds * RATE)) / RATE
    for f0, amp in zip(pitches, loudness, strict=True):
        tone = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))
        parts += [(amp * tone * np.hanning(t.size)).astype(np.float32), np.zeros(int(0.1 * RATE), np.float32)]
    return np.concatenate(parts)


def spans(count: int, seconds: float = 0.2) -> list[tuple[float, float]]:
    return [(0.1 + i * (seconds + 0.1), 0.1 + i * (seconds + 0.1) + seconds) for i in range(count)]


def test_the_louder_higher_syllable_is_the_stressed_one() -> None:
    prosody = track(vowels([120, 170, 115], [0.2, 0.5, 0.2]), RATE)
    assert stressed_syllable(prosody, spans(3)) == 1
    first = track(vowels([180, 120, 110], [0.5, 0.2, 0.15]), RATE)
    assert stressed_syllable(first, spans(3)) == 0


def test_one_syllable_or_unvoiced_words_have_no_stress_reading() -> None:
    """Nothing to compare: one nucleus, or silence where the nuclei should be."""
    prosody = track(vowels([150], [0.3]), RATE)
    assert stressed_syllable(prosody, spans(1)) is None
    silent = track(np.zeros(RATE, dtype=np.float32), RATE)
    assert stressed_syllable(silent, spans(2)) is None


def test_scoring_flags_a_misplaced_stress() -> None:
    """*casa* is stressed on the first syllable; audio louder and higher on the second is a stress error."""
    # Frames at 20 ms: put [a] nuclei at 0.1-0.3 s and 0.4-0.6 s to match the constructed audio.
    script = ["_"] * 3 + ["k", "a"] + ["_"] * 13 + ["s", "a"] + ["_"] * 10
    gram = posteriorgram(script, blanks=0)
    wrong = track(vowels([120, 175], [0.2, 0.5]), RATE)
    result = score(gram, Vocabulary(VOCAB), "casa", prosody=wrong)
    assert result.words[0].stress_expected == 0
    assert result.words[0].stress_found == 1
    assert ErrorType.STRESS in result.words[0].errors
    right = track(vowels([175, 120], [0.5, 0.2]), RATE)
    assert ErrorType.STRESS not in score(gram, Vocabulary(VOCAB), "casa", prosody=right).words[0].errors
