"""The speech cache (``espaluz.voice.tts.CachedSpeaker``) on the real local audio store, with espeak-ng.

The engine is wrapped in a counting double (it speaks with the real espeak-ng and counts its calls), so a
test sees whether the engine ran, as Polly would have billed it.
"""

from __future__ import annotations

import io
import logging
import os
import time
from pathlib import Path

import pytest
import soundfile as sf  # type: ignore[import-untyped]

from espaluz.config import Settings
from espaluz.voice.storage import LocalAudioStore
from espaluz.voice.tts import CachedSpeaker, EspeakSpeaker, SpeechUnavailable, build_speaker


class CountingSpeaker:
    """The engine, counting what it is asked to say (what Polly would bill)."""

    def __init__(self, engine: EspeakSpeaker | None = None) -> None:
        self.engine = engine or EspeakSpeaker()
        self.calls: list[tuple[str, str]] = []

    def voice_of(self, dialect: str) -> str:
        return self.engine.voice_of(dialect)

    def speak(self, text: str, dialect: str) -> bytes:
        self.calls.append((text, dialect))
        return self.engine.speak(text, dialect)


class PutFails(LocalAudioStore):
    """A store that reads but cannot write (S3 refusing PutObject, a full disk)."""

    def put(self, key: str, data: bytes) -> None:
        raise PermissionError("read-only store")


class HttpError(Exception):
    """An HTTP library's error: a ``response`` attribute that is no botocore dict (here None)."""

    response = None


class LoadFails(LocalAudioStore):
    """A store whose reads fail (S3 throttling or down), writes still work."""

    failure: Exception = ConnectionError("store unreachable")

    def load(self, key: str) -> bytes:
        raise self.failure


class LoadFailsHttp(LoadFails):
    failure = HttpError("502")


def cached(tmp_path: Path, store: LocalAudioStore | None = None) -> tuple[CachedSpeaker, CountingSpeaker]:
    engine = CountingSpeaker()
    return CachedSpeaker(engine, store or LocalAudioStore(tmp_path, retention_days=30)), engine


def test_second_send_of_a_phrase_reuses_the_audio_without_the_engine(tmp_path: Path) -> None:
    speaker, engine = cached(tmp_path)
    first = speaker.speak("el perro corre", "latam")
    second = speaker.speak("el perro corre", "latam")
    assert engine.calls == [("el perro corre", "latam")]
    assert second == first  # byte for byte (a fresh encoding would carry another Ogg stream serial)
    assert sf.read(io.BytesIO(second))[1] == 16_000  # a real voice note came back, not a marker
    entries = list((tmp_path / "tts").iterdir())
    assert [p.name for p in entries] == [speaker.key("el perro corre", "latam").removeprefix("tts/")]


def test_the_cache_is_shared_by_speakers_on_the_same_store(tmp_path: Path) -> None:
    """Another Lambda (another learner's send) on the same bucket: a hit, no engine call."""
    store = LocalAudioStore(tmp_path, retention_days=30)
    one, first_engine = cached(tmp_path, store)
    other, second_engine = cached(tmp_path, store)
    audio = one.speak("buenos días", "spain")
    assert other.speak("buenos días", "spain") == audio
    assert len(first_engine.calls) == 1
    assert second_engine.calls == []


def test_another_dialect_or_text_is_a_miss(tmp_path: Path) -> None:
    speaker, engine = cached(tmp_path)
    latam = speaker.speak("la calle", "latam")
    spain = speaker.speak("la calle", "spain")
    other_text = speaker.speak("la calle.", "latam")
    assert engine.calls == [("la calle", "latam"), ("la calle", "spain"), ("la calle.", "latam")]
    assert len({latam, spain, other_text}) == 3
    assert len(set((tmp_path / "tts").iterdir())) == 3


def test_the_key_names_engine_voice_and_text_never_a_learner(tmp_path: Path) -> None:
    """Bad input: a text with the separator-like characters of a naive join must not collide."""
    speaker, _ = cached(tmp_path)
    key = speaker.key("hola", "latam")
    assert key.startswith("tts/")
    assert key.endswith(".ogg")
    assert len(key) == len("tts/") + 64 + len(".ogg")
    assert speaker.key("hola", "latam") == key
    assert speaker.key("hola", "spain") != key
    assert speaker.key('hola", "x', "latam") != speaker.key("hola", 'latam", "x')
    polly_like = CachedSpeaker(CountingSpeaker(), LocalAudioStore(tmp_path, 30), key_prefix="other/")
    assert polly_like.key("hola", "latam").startswith("other/")


def test_a_store_that_cannot_write_still_gives_the_audio(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Bad input: a store that raises on put; the voice note still goes, and the failure is logged."""
    speaker, engine = cached(tmp_path, PutFails(tmp_path, 30))
    with caplog.at_level(logging.WARNING, logger="espaluz.voice.tts"):
        audio = speaker.speak("gracias", "latam")
        again = speaker.speak("gracias", "latam")
    assert audio.startswith(b"OggS")
    assert again.startswith(b"OggS")
    assert len(engine.calls) == 2  # nothing kept: each send synthesises
    assert "not stored" in caplog.text
    assert "PermissionError" in caplog.text


@pytest.mark.parametrize("store_class", [LoadFails, LoadFailsHttp])
def test_a_store_that_cannot_read_is_a_miss(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, store_class: type[LoadFails]
) -> None:
    """Bad input: a store that raises on load (also an error whose ``response`` is not botocore's); the
    engine speaks, and the failure is logged."""
    speaker, engine = cached(tmp_path, store_class(tmp_path, 30))
    with caplog.at_level(logging.WARNING, logger="espaluz.voice.tts"):
        audio = speaker.speak("gracias", "spain")
    assert audio.startswith(b"OggS")
    assert engine.calls == [("gracias", "spain")]
    assert "unreadable" in caplog.text
    assert type(store_class.failure).__name__ in caplog.text


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda good: b"", id="empty"),
        pytest.param(lambda good: b"<html>Access Denied</html>", id="not-ogg"),
        pytest.param(lambda good: good[:60], id="truncated-header"),
        pytest.param(lambda good: good[: len(good) // 2], id="cut-in-half"),
        pytest.param(lambda good: good[:-1], id="last-byte-missing"),  # libsndfile alone would play it
        pytest.param(lambda good: good + b"OggS", id="trailing-garbage"),
        pytest.param(lambda good: b"OggS" + bytes(200), id="ogg-magic-then-zeros"),
    ],
)
def test_a_corrupt_entry_is_a_miss_and_is_replaced(tmp_path: Path, damage: object) -> None:
    """Bad input: an entry that is not a playable voice note (empty, another file, cut short)."""
    speaker, engine = cached(tmp_path)
    good = speaker.speak("hasta mañana", "latam")
    path = tmp_path / speaker.key("hasta mañana", "latam")
    path.write_bytes(damage(good))  # type: ignore[operator]
    fresh = speaker.speak("hasta mañana", "latam")
    assert len(engine.calls) == 2
    assert len(sf.read(io.BytesIO(fresh))[0]) > 0
    assert path.read_bytes() == fresh  # the miss rewrote the entry: the next send hits again
    assert speaker.speak("hasta mañana", "latam") == fresh
    assert len(engine.calls) == 2


def test_engine_failure_passes_through_and_nothing_is_stored(tmp_path: Path) -> None:
    """Bad input: no espeak-ng binary; the caller still sees SpeechUnavailable (the feedback goes without
    audio), and no entry is written for it."""
    engine = CountingSpeaker(EspeakSpeaker(binary="espeak-ng-not-installed"))
    speaker = CachedSpeaker(engine, LocalAudioStore(tmp_path, 30))
    with pytest.raises(SpeechUnavailable):
        speaker.speak("hola", "latam")
    assert not (tmp_path / "tts").exists()


def test_cached_speech_expires_with_the_local_retention(tmp_path: Path) -> None:
    """The local folder purges cache entries like clips, so it cannot grow without end."""
    store = LocalAudioStore(tmp_path, retention_days=30)
    speaker, engine = cached(tmp_path, store)
    speaker.speak("adiós", "latam")
    path = tmp_path / speaker.key("adiós", "latam")
    old = time.time() - 31 * 86400
    os.utime(path, (old, old))
    assert store.purge() == 1
    assert not path.exists()
    speaker.speak("adiós", "latam")
    assert len(engine.calls) == 2


def test_build_speaker_caches_by_default(tmp_path: Path) -> None:
    speaker = build_speaker(Settings(espaluz_data_dir=tmp_path, voice_tts="espeak"))
    assert isinstance(speaker, CachedSpeaker)
    assert isinstance(speaker.speaker, EspeakSpeaker)
    audio = speaker.speak("uno", "latam")
    assert (tmp_path / "audio" / speaker.key("uno", "latam")).read_bytes() == audio
