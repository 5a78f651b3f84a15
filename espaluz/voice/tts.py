"""A model pronunciation, as a WhatsApp voice note (OGG/Opus, at most 512 KB).

- Production (``VOICE_TTS=polly``): Amazon Polly's neural Spanish voices (``POLLY_VOICE_LATAM`` for the
  Americas, ``POLLY_VOICE_SPAIN`` for Spain), asked for raw 16 kHz PCM so that we do the Opus encoding
  ourselves, the same way for both engines.
- Locally (default): espeak-ng, the Debian package the system-deps script installs (``es-419`` or
  ``es`` voice), slowed down a little for learners.

Both are encoded with soundfile (libsndfile's Opus encoder) at 16 kHz mono: a few seconds of speech
is ~10 KB, far under WhatsApp's 512 KB voice-note limit, which :func:`encode_voice_note` checks anyway.
"""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import soundfile as sf  # type: ignore[import-untyped]

from espaluz.voice.audio import SAMPLE_RATE, resample
from espaluz.whatsapp.outgoing import MAX_VOICE_BYTES

if TYPE_CHECKING:
    from espaluz.config import Settings

logger = logging.getLogger(__name__)

ESPEAK_VOICES = {"latam": "es-419", "spain": "es"}
ESPEAK_WORDS_PER_MINUTE = 140


class SpeechUnavailable(RuntimeError):
    """No model pronunciation could be made (engine missing or failing); feedback goes without one."""


class Speaker(Protocol):
    def speak(self, text: str, dialect: str) -> bytes:
        """OGG/Opus bytes of ``text`` said in ``dialect``."""
        ...


def encode_voice_note(samples: np.ndarray, rate: int) -> bytes:
    """Mono float samples to OGG/Opus at 16 kHz; raises ``SpeechUnavailable`` above 512 KB."""
    mono = resample(np.asarray(samples, dtype=np.float32), rate, SAMPLE_RATE)
    peak = float(np.abs(mono).max()) if mono.size else 0.0
    if peak > 0:
        mono = mono * (0.9 / peak)
    buffer = io.BytesIO()
    sf.write(buffer, mono, SAMPLE_RATE, format="OGG", subtype="OPUS")
    data = buffer.getvalue()
    if len(data) > MAX_VOICE_BYTES:
        raise SpeechUnavailable(
            f"model pronunciation is {len(data)} bytes; a voice note holds {MAX_VOICE_BYTES}"
        )
    return data


class EspeakSpeaker:
    def __init__(self, binary: str = "espeak-ng") -> None:
        self.binary = binary

    def speak(self, text: str, dialect: str) -> bytes:
        path = shutil.which(self.binary)
        if path is None:
            raise SpeechUnavailable("espeak-ng is not installed (scripts/system-deps.sh)")
        voice = ESPEAK_VOICES.get(dialect, "es-419")
        try:
            done = subprocess.run(  # noqa: S603 - fixed binary, text passed as one argument
                [path, "-v", voice, "-s", str(ESPEAK_WORDS_PER_MINUTE), "--stdout", "--", text],
                capture_output=True,
                timeout=10,
                check=True,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            raise SpeechUnavailable(f"espeak-ng failed: {type(exc).__name__}") from exc
        samples, rate = sf.read(io.BytesIO(done.stdout), dtype="float32", always_2d=True)
        return encode_voice_note(samples.mean(axis=1), int(rate))


class PollySpeaker:
    """Amazon Polly (neural engine). boto3 takes its endpoint from AWS_ENDPOINT_URL_POLLY if set."""

    def __init__(self, settings: Settings, client: Any | None = None) -> None:
        self.voices = {"latam": settings.polly_voice_latam, "spain": settings.polly_voice_spain}
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("polly")
        return self._client

    def speak(self, text: str, dialect: str) -> bytes:
        import botocore.exceptions

        voice = self.voices.get(dialect, self.voices["latam"])
        try:
            response = self.client.synthesize_speech(
                Engine="neural",
                OutputFormat="pcm",
                SampleRate=str(SAMPLE_RATE),
                Text=text,
                TextType="text",
                VoiceId=voice,
            )
            pcm = response["AudioStream"].read()
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise SpeechUnavailable(f"Polly failed: {type(exc).__name__}") from exc
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        return encode_voice_note(samples, SAMPLE_RATE)


def build_speaker(settings: Settings) -> Speaker:
    return PollySpeaker(settings) if settings.voice_tts == "polly" else EspeakSpeaker()
