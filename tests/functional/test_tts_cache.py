"""The speech cache on the production store: moto's S3 (endpoint from boto3's AWS_ENDPOINT_URL_S3), with
espeak-ng as the engine, wired the way ``build_speaker`` wires it."""

from __future__ import annotations

import logging
from typing import Any

import boto3
import pytest

from espaluz.config import Settings
from espaluz.voice.storage import S3AudioStore
from espaluz.voice.tts import CachedSpeaker, EspeakSpeaker, build_speaker


class CountingEngine(EspeakSpeaker):
    """espeak-ng, counting the texts it is asked to say (what Polly would bill)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def speak(self, text: str, dialect: str) -> bytes:
        self.calls.append(text)
        return super().speak(text, dialect)


def test_s3_cache_hits_across_speakers(
    aws_env: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A first send misses quietly (S3's NoSuchKey is no warning), stores the voice note under ``tts/``;
    a second speaker on the same bucket (another Lambda, another learner) reuses it without the engine."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", aws_env)
    s3: Any = boto3.client("s3")
    s3.create_bucket(Bucket="espaluz-audio-tts")
    settings = Settings(audio_bucket="espaluz-audio-tts", audio_retention_days=30, voice_tts="espeak")
    first = build_speaker(settings)
    assert isinstance(first, CachedSpeaker)
    assert isinstance(first.store, S3AudioStore)
    first.speaker = first_engine = CountingEngine()
    with caplog.at_level(logging.WARNING, logger="espaluz.voice.tts"):
        audio = first.speak("¿Dónde está la estación?", "latam")
    assert [r.getMessage() for r in caplog.records if r.name == "espaluz.voice.tts"] == []
    assert first_engine.calls == ["¿Dónde está la estación?"]
    listed = s3.list_objects_v2(Bucket="espaluz-audio-tts")["Contents"]
    assert [obj["Key"] for obj in listed] == [first.key("¿Dónde está la estación?", "latam")]
    assert listed[0]["Key"].startswith("tts/")
    head = s3.head_object(Bucket="espaluz-audio-tts", Key=listed[0]["Key"])
    assert head["ContentType"] == "audio/ogg"

    second_engine = CountingEngine()
    second = CachedSpeaker(second_engine, S3AudioStore("espaluz-audio-tts", 30))
    assert second.speak("¿Dónde está la estación?", "latam") == audio
    assert second_engine.calls == []
    second.speak("¿Dónde está la estación?", "spain")
    assert second_engine.calls == ["¿Dónde está la estación?"]


def test_s3_missing_bucket_still_speaks(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bad input: a bucket that does not exist (misconfiguration): read and write fail, the audio goes."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", aws_env)
    engine = CountingEngine()
    speaker = CachedSpeaker(engine, S3AudioStore("espaluz-audio-absent", 30))
    assert speaker.speak("hola", "latam").startswith(b"OggS")
    assert speaker.speak("hola", "latam").startswith(b"OggS")
    assert engine.calls == ["hola", "hola"]
