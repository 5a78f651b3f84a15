"""The two recognisers behind a voice note: Groq's hosted Whisper and the Modal GPU app.

Both return a :class:`VoiceResult`: the transcript with its confidence, the detected language and the
processing time, and (Modal only) a pronunciation :class:`~espaluz.voice.scoring.Assessment`.

- Groq: ``whisper-large-v3-turbo`` through the official SDK (OpenAI-compatible multipart
  ``POST /openai/v1/audio/transcriptions``), language forced to Spanish, ``verbose_json`` with word and
  segment timestamps. Confidence is the exponent of the segments' mean token log-probability, times
  the chance the segment is speech at all.
- Modal: ``modal.Cls.from_name(MODAL_APP_NAME, MODAL_CLASS_NAME)`` and its ``assess`` method, spawned
  and awaited with a deadline (``.remote`` has none): ``VOICE_MODAL_TIMEOUT_SECONDS``, at most 25 s, so
  that a turn fits the tutor's per-turn budget (espaluz/tutor/batch.py). Every call left running without
  anyone waiting (its deadline passed, the connection was lost, or the caller was interrupted) is cancelled
  (``FunctionCall.cancel``): nobody reads its answer, and a GPU left working on it is billed and holds a
  container another learner could use. The ``modal`` client is imported only here, on first use, so the
  webhook never pays for it. The assessor remembers when the app last answered this process
  (``idle_for``): routing uses it to price a call to a container that is up (espaluz/voice/costs.py).
- Groq: one request, no SDK retry (``max_retries=0``): its clips are under 5 s and answered in well under
  a second, and a second try would double the recognition's share of the per-turn budget; the Modal app
  is the fallback.

A caller must know: both raise :class:`TranscriberUnavailable` for a missing key, a timeout or a
provider error, and the service answers the learner with a friendly "try again later".
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from espaluz.voice.scoring import Assessment

if TYPE_CHECKING:
    from espaluz.config import Settings

logger = logging.getLogger(__name__)

_LANGUAGE_CODES = {"spanish": "es", "english": "en", "portuguese": "pt", "french": "fr", "italian": "it"}


class TranscriberUnavailable(RuntimeError):
    """The recogniser could not answer (no key, timeout, provider error)."""


@dataclass(frozen=True, slots=True)
class WordTiming:
    word: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    confidence: float
    language: str  # ISO 639-1 ("es")
    processing_seconds: float
    route: str
    words: tuple[WordTiming, ...] = ()


@dataclass(frozen=True, slots=True)
class VoiceResult:
    transcript: Transcript
    assessment: Assessment | None = None
    timings: dict[str, float] = field(default_factory=dict)
    # An exercise's clip was checked with Whisper because its alignment said the learner said something
    # else: ``transcript`` is then what Whisper heard (else, on an exercise, the expected text).
    heard_check: bool = False
    # ...or should have been, and the (CPU-only) voice app left it to the tutor, which asks Groq.
    recheck_wanted: bool = False


def language_code(name: str) -> str:
    """Whisper answers with a language name ("Spanish") or a code ("es"); we keep codes."""
    lowered = name.strip().lower()
    return _LANGUAGE_CODES.get(lowered, lowered[:2] if len(lowered) > 2 else lowered)


def _confidence(segments: list[dict[str, Any]]) -> float:
    if not segments:
        return 0.0
    weights = [max(float(s.get("end", 0)) - float(s.get("start", 0)), 1e-3) for s in segments]
    logprob = sum(w * float(s.get("avg_logprob", -1.0)) for w, s in zip(weights, segments, strict=True))
    speech = sum(
        w * (1.0 - float(s.get("no_speech_prob", 0.0))) for w, s in zip(weights, segments, strict=True)
    )
    total = sum(weights)
    return round(max(0.0, min(1.0, math.exp(logprob / total) * speech / total)), 3)


class GroqTranscriber:
    """Groq Whisper for short, clean free-speech clips."""

    def __init__(self, settings: Settings, client: Any | None = None) -> None:
        self.model = settings.voice_groq_model
        self._client = client
        self._settings = settings

    def _groq(self) -> Any:
        if self._client is None:
            key = self._settings.groq_api_key.get_secret_value()
            if not key:
                raise TranscriberUnavailable("GROQ_API_KEY is not set")
            from groq import Groq

            self._client = Groq(
                api_key=key,
                base_url=self._settings.groq_base_url or None,
                timeout=self._settings.voice_groq_timeout_seconds,
                max_retries=0,  # see the module docstring (the per-turn budget)
            )
        return self._client

    def transcribe(
        self, data: bytes, filename: str = "voice.ogg", *, timeout: float | None = None
    ) -> VoiceResult:
        """Transcribe the learner's original clip (OGG/Opus is accepted as is: smaller than WAV).
        ``timeout``: at most this many seconds (capped by ``VOICE_GROQ_TIMEOUT_SECONDS``)."""
        import groq

        limit = self._settings.voice_groq_timeout_seconds
        started = time.perf_counter()
        try:
            response = self._groq().audio.transcriptions.create(
                timeout=limit if timeout is None else min(limit, timeout),
                file=(filename, data),
                model=self.model,
                language="es",
                response_format="verbose_json",
                timestamp_granularities=["word", "segment"],
                temperature=0.0,
            )
        except groq.APIError as exc:
            raise TranscriberUnavailable(f"Groq transcription failed: {type(exc).__name__}") from exc
        body: dict[str, Any] = response.model_dump()
        elapsed = time.perf_counter() - started
        words = tuple(
            WordTiming(str(w.get("word", "")).strip(), float(w.get("start", 0.0)), float(w.get("end", 0.0)))
            for w in body.get("words") or ()
        )
        transcript = Transcript(
            text=str(body.get("text", "")).strip(),
            confidence=_confidence(list(body.get("segments") or ())),
            language=language_code(str(body.get("language") or "es")),
            processing_seconds=round(elapsed, 3),
            route="groq",
            words=words,
        )
        return VoiceResult(transcript)


AssessCall = Callable[[bytes, "str | None", str], dict[str, Any]]


class SpawnedCall(Protocol):
    """What ``.spawn()`` returns (``modal.FunctionCall``): its answer, waited for, and its cancellation."""

    def get(self, timeout: float | None = None) -> Any: ...

    def cancel(self, terminate_containers: bool = False) -> None: ...


SpawnCall = Callable[[bytes, "str | None", str], SpawnedCall]


class ModalAssessor:
    """The GPU app: Whisper large + the phoneme model + scoring, for exercises and hard clips.

    ``call`` runs ``assess(audio, expected_text, dialect)`` and returns its JSON dict; by default it is
    the deployed class looked up by name (tests pass the class's ``.local`` call instead). ``spawn``
    replaces only the lookup and ``.spawn()``: the deadline and the cancellation stay this class's.
    """

    def __init__(
        self, settings: Settings, call: AssessCall | None = None, *, spawn: SpawnCall | None = None
    ) -> None:
        self._settings = settings
        self._call = call
        self._spawn = spawn
        self._answered_at: float | None = None  # time.monotonic() of the app's last answer here

    def idle_for(self) -> float | None:
        """Seconds since the app last answered this process; ``None`` before its first answer."""
        return None if self._answered_at is None else max(time.monotonic() - self._answered_at, 0.0)

    def _spawn_deployed(self, data: bytes, expected_text: str | None, dialect: str) -> SpawnedCall:
        configured = self._settings.modal_token_id.get_secret_value() or os.environ.get("MODAL_TOKEN_ID")
        if not configured:
            raise TranscriberUnavailable("MODAL_TOKEN_ID is not set")
        import modal

        try:
            cls = modal.Cls.from_name(self._settings.modal_app_name, self._settings.modal_class_name)
            handle: SpawnedCall = cls().assess.spawn(data, expected_text, dialect)
        except (modal.exception.Error, OSError) as exc:
            raise TranscriberUnavailable(f"Modal assessment failed: {type(exc).__name__}") from exc
        return handle

    def _remote(
        self, data: bytes, expected_text: str | None, dialect: str, timeout: float | None = None
    ) -> dict[str, Any]:
        limit = self._settings.voice_modal_timeout_seconds
        handle = (self._spawn or self._spawn_deployed)(data, expected_text, dialect)
        import modal

        # The call has ended once ``get`` returns or raises the app's own error (it failed over there);
        # a timeout, a lost connection or an interrupted wait leave it running for nobody: cancel those.
        finished = False
        try:
            result: dict[str, Any] = handle.get(timeout=limit if timeout is None else min(limit, timeout))
            finished = True
        except (modal.exception.TimeoutError, TimeoutError, modal.exception.ConnectionError, OSError) as exc:
            raise TranscriberUnavailable(f"Modal assessment failed: {type(exc).__name__}") from exc
        except modal.exception.Error as exc:
            finished = True
            raise TranscriberUnavailable(f"Modal assessment failed: {type(exc).__name__}") from exc
        finally:
            if not finished:
                self._cancel(handle)
        return result

    @staticmethod
    def _cancel(handle: SpawnedCall) -> None:
        """Cancel an abandoned call (module docstring); a failed cancellation costs GPU time, not the turn."""
        try:
            handle.cancel()
        except Exception as exc:
            logger.warning("modal call not cancelled: %s", type(exc).__name__)

    def assess(
        self, data: bytes, expected_text: str | None, dialect: str, *, timeout: float | None = None
    ) -> VoiceResult:
        """Assess the clip; ``timeout`` caps the wait below ``VOICE_MODAL_TIMEOUT_SECONDS`` (the voice
        deadline's remainder). A ``call`` given at construction runs as is (tests: the class's local)."""
        started = time.perf_counter()
        body = (
            self._call(data, expected_text, dialect)
            if self._call
            else self._remote(data, expected_text, dialect, timeout)
        )
        self._answered_at = time.monotonic()
        elapsed = time.perf_counter() - started
        return result_from_json(body, elapsed)


def result_from_json(body: dict[str, Any], elapsed: float) -> VoiceResult:
    """Rebuild a result from the Modal app's JSON answer (see gpu/app.py ``assess``)."""
    words = tuple(
        WordTiming(str(w["word"]), float(w["start"]), float(w["end"])) for w in body.get("words", ())
    )
    transcript = Transcript(
        text=str(body.get("transcript", "")).strip(),
        confidence=float(body.get("confidence", 0.0)),
        language=language_code(str(body.get("language", "es"))),
        processing_seconds=round(float(body.get("processing_seconds", elapsed)), 3),
        route="modal",
        words=words,
    )
    raw = body.get("assessment")
    assessment = Assessment.from_json(raw) if raw else None
    timings = {k: float(v) for k, v in body.get("timings", {}).items()}
    return VoiceResult(
        transcript,
        assessment,
        timings,
        heard_check=bool(body.get("heard_check")),
        recheck_wanted=bool(body.get("recheck_wanted")),
    )
