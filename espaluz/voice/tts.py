"""A model pronunciation, as a WhatsApp voice note (OGG/Opus, at most 512 KB).

- Production (``VOICE_TTS=polly``): Amazon Polly's neural Spanish voices (``POLLY_VOICE_LATAM`` for the
  Americas, ``POLLY_VOICE_SPAIN`` for Spain), asked for raw 16 kHz PCM so that we do the Opus encoding
  ourselves, the same way for both engines.
- Locally (default): espeak-ng, the Debian package the system-deps script installs (``es-419`` or
  ``es`` voice), slowed down a little for learners.

Both are encoded with soundfile (libsndfile's Opus encoder) at 16 kHz mono: a few seconds of speech
is ~10 KB, far under WhatsApp's 512 KB voice-note limit, which :func:`encode_voice_note` checks anyway.

:func:`build_speaker` wraps the engine in :class:`CachedSpeaker`: the audio depends only on the engine,
the voice and the text, and the course's phrases repeat across learners, so each is synthesised (and, with
Polly, billed per character) once per retention period instead of once per send.
"""

from __future__ import annotations

import hashlib
import io
import json
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
    from espaluz.voice.storage import AudioStore

logger = logging.getLogger(__name__)

ESPEAK_VOICES = {"latam": "es-419", "spain": "es"}
ESPEAK_WORDS_PER_MINUTE = 140


class SpeechUnavailable(RuntimeError):
    """No model pronunciation could be made (engine missing or failing); feedback goes without one."""


class Speaker(Protocol):
    def speak(self, text: str, dialect: str) -> bytes:
        """OGG/Opus bytes of ``text`` said in ``dialect``."""
        ...


class CacheStore(Protocol):
    """Bytes by key (``espaluz.voice.storage``'s stores: S3 or a local folder)."""

    def load(self, key: str) -> bytes: ...

    def put(self, key: str, data: bytes) -> None: ...


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

    def voice_of(self, dialect: str) -> str:
        """What, besides the text, decides the audio (the speech cache's key)."""
        return f"espeak-ng:{ESPEAK_VOICES.get(dialect, 'es-419')}:{ESPEAK_WORDS_PER_MINUTE}wpm"

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

    def voice_of(self, dialect: str) -> str:
        """What, besides the text, decides the audio (the speech cache's key)."""
        return f"polly-neural:{self.voices.get(dialect, self.voices['latam'])}"

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


# Bump when the audio for the same engine, voice and text changes (encode_voice_note, sample rate, the
# engines' parameters that voice_of does not name): the old entries are then never read again, and expire.
TTS_CACHE_VERSION = "1"
TTS_CACHE_PREFIX = "tts/"
_QUIET_MISSES = {"NoSuchKey", "404", "NotFound", "AccessDenied", "403"}


class CachedSpeaker:
    """A :class:`Speaker` that keeps each synthesised voice note in ``store`` and reuses it.

    Why: Polly bills per character ($16 per million, neural), and the texts spoken are the course's phrases,
    the same for every learner; the audio depends only on (engine, voice, text), never on the learner.

    What a caller must know:

    - The key is ``<key_prefix><sha256>.ogg``, the hash of the engine and voice (the engine's ``voice_of``
      when it has one, else its class name and the dialect), the exact text and :data:`TTS_CACHE_VERSION`.
      Nothing in it names a learner, so a learner's erasure has nothing to delete here: only text that the
      tutor itself wrote should be spoken (course phrases, exercises), never a learner's own words.
    - Entries expire with the store's retention: the audio bucket's lifecycle rule (``audioRetentionDays``
      in serverless.yml: 30 days in prod, 7 in dev; the rule has no prefix filter, so it covers ``tts/``) or
      the local folder's purge. An expired phrase is synthesised (and billed) once more, then cached again.
    - The cache never makes speech fail: an entry that cannot be read, or is not a playable voice note, is a
      miss; a failure to store is logged and the audio returned all the same. Engine errors
      (:class:`SpeechUnavailable`) pass through, and nothing is stored for them.
    - Two concurrent misses of the same text both call the engine (both store the same bytes): rare, and
      cheaper than a lock.
    """

    def __init__(self, speaker: Speaker, store: CacheStore, key_prefix: str = TTS_CACHE_PREFIX) -> None:
        self.speaker = speaker
        self.store = store
        self.key_prefix = key_prefix

    def key(self, text: str, dialect: str) -> str:
        voice_of = getattr(self.speaker, "voice_of", None)
        voice = voice_of(dialect) if callable(voice_of) else f"{type(self.speaker).__qualname__}:{dialect}"
        fields = json.dumps([TTS_CACHE_VERSION, str(voice), text], ensure_ascii=False)
        digest = hashlib.sha256(fields.encode()).hexdigest()
        return f"{self.key_prefix}{digest}.ogg"

    def speak(self, text: str, dialect: str) -> bytes:
        key = self.key(text, dialect)
        cached = self._read(key)
        if cached is not None:
            return cached
        data = self.speaker.speak(text, dialect)
        try:
            self.store.put(key, data)
        except Exception as exc:  # the audio is made: a cache that cannot keep it must not lose it
            logger.warning("speech cache not stored key=%s: %s", key, type(exc).__name__)
        return data

    def _read(self, key: str) -> bytes | None:
        """The cached voice note, or None (absent, unreadable, or not a playable OGG/Opus voice note)."""
        try:
            data = self.store.load(key)
        except FileNotFoundError:
            return None
        except Exception as exc:  # a store that fails to read is a miss, never a failed pronunciation
            response = getattr(exc, "response", None)  # botocore's ClientError: {"Error": {"Code": ...}}
            code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
            if code not in _QUIET_MISSES:
                logger.warning("speech cache unreadable key=%s: %s", key, type(exc).__name__)
            return None
        if _playable(data):
            return data
        logger.warning("speech cache entry is not a voice note key=%s (%d bytes)", key, len(data))
        return None


def _whole_ogg(data: bytes) -> bool:
    """Whether ``data`` is a sequence of complete Ogg pages whose last one ends the stream (EOS flag):
    libsndfile plays a stream cut short after its headers without complaint, so it is checked here."""
    offset, last_flags = 0, 0
    while offset < len(data):
        if data[offset : offset + 4] != b"OggS" or offset + 27 > len(data):
            return False
        segments = data[offset + 26]
        table_end = offset + 27 + segments
        if table_end > len(data):
            return False
        last_flags = data[offset + 5]
        offset = table_end + sum(data[offset + 27 : table_end])
    return offset == len(data) and bool(last_flags & 0x04)


def _playable(data: bytes) -> bool:
    """Whether ``data`` is a whole OGG/Opus stream that decodes, within the voice-note limit."""
    if not data or len(data) > MAX_VOICE_BYTES or not _whole_ogg(data):
        return False
    try:
        samples, _ = sf.read(io.BytesIO(data), dtype="float32")
    except Exception:  # libsndfile's errors (and anything a truncated stream raises)
        return False
    return len(samples) > 0


def build_speaker(settings: Settings, store: AudioStore | None = None) -> Speaker:
    """Polly or espeak-ng (``VOICE_TTS``), behind :class:`CachedSpeaker` on ``store`` (by default the
    voice audio store of ``settings``: S3 or the local folder)."""
    from espaluz.voice.storage import build_store

    engine: Speaker = PollySpeaker(settings) if settings.voice_tts == "polly" else EspeakSpeaker()
    return CachedSpeaker(engine, store if store is not None else build_store(settings))
