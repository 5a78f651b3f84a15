"""How ``espaluz costs --simulate`` counts speech (espaluz.dev.costsim): requests in front of the speech
cache, syntheses behind it, and Polly's characters split into shared phrases and one-off texts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from espaluz.dev.costsim import _CountingSpeaker, speech_chars
from espaluz.voice.tts import CachedSpeaker


class _Engine:
    """A speaker that returns a fixed playable note: the cache stores and serves it."""

    def __init__(self, note: bytes) -> None:
        self.note = note

    def speak(self, text: str, dialect: str) -> bytes:
        return self.note


def test_a_shared_phrase_is_billed_once_per_retention_period_and_a_one_off_per_request() -> None:
    """Two requests of one text: shared (its length once per period, twice a month at a 15-day retention);
    a text asked once: its length per request."""
    asked = Counter(
        {("latam", "El perro corre."): 5, ("spain", "El perro corre."): 2, ("latam", "Único."): 1}
    )
    per_request, shared_month = speech_chars(asked, retention_days=30)
    assert per_request == len("Único.")
    assert shared_month == 2 * len("El perro corre.")
    assert speech_chars(asked, retention_days=15)[1] == 2 * shared_month
    assert speech_chars(Counter(), retention_days=30) == (0.0, 0.0)


def test_the_counters_see_every_request_but_only_the_cache_misses_reach_the_engine(tmp_path: Path) -> None:
    """The costsim wiring: a counter in front of the real CachedSpeaker and one behind it. Three requests
    of one phrase are one synthesis; another dialect is another voice, so another synthesis."""
    import numpy as np

    from espaluz.voice.storage import LocalAudioStore
    from espaluz.voice.tts import encode_voice_note

    note = encode_voice_note(np.sin(np.linspace(0, 400, 16000)).astype(np.float32), 16000)
    asked: Counter[tuple[str, str]] = Counter()
    made: Counter[tuple[str, str]] = Counter()
    cached = CachedSpeaker(
        _CountingSpeaker(_Engine(note), made), LocalAudioStore(tmp_path, retention_days=30)
    )
    speaker = _CountingSpeaker(cached, asked)
    for dialect in ("latam", "latam", "latam", "spain"):
        assert speaker.speak("Pero ahora no puedo.", dialect) == note
    assert asked == Counter({("latam", "Pero ahora no puedo."): 3, ("spain", "Pero ahora no puedo."): 1})
    assert made == Counter({("latam", "Pero ahora no puedo."): 1, ("spain", "Pero ahora no puedo."): 1})
