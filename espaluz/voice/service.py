"""One voice note in, one :class:`VoiceOutcome` out: the voice path the tutor processor calls.

``VoiceService.handle(learner, message, state)``:

1. download the media at once (``GraphClient.fetch_media``: fresh URL per attempt, backoff), keep it in
   the audio store (S3 or a local folder, with retention);
2. decode and measure it (:mod:`espaluz.voice.audio`); unusable audio ends here with a friendly reply;
3. route it (:mod:`espaluz.voice.routing`): short, clean free speech to the cheaper recogniser (Groq
   Whisper, unless a Modal container answered here a moment ago and the clip is shorter than Groq's
   10-second billing minimum makes worthwhile), the rest and every pronunciation exercise to the Modal
   app, each falling back to the other for free speech;
4. for an exercise (``state.extra["voice_exercise"]``, set by :meth:`VoiceService.start_drill`): the
   feedback message (led by what was heard when the app found the learner said something else), the
   phone skills to review, and the model pronunciation uploaded as a voice note on the second miss of
   the phrase only (see "Model voice notes" below);
   for free speech: the transcript for the conversation (and, when the Modal app scored it, an
   approximate feedback message the tutor may add).

Deadline: download and recognition share ``VOICE_DEADLINE_SECONDS`` (18 s), a part of the tutor's per-turn
budget (espaluz/tutor/batch.py). The download is bounded by its attempts and the Graph timeout; each
recogniser, fallback included, gets the smaller of its own timeout and what is left, and is skipped
(the learner is told to try again) when under a second is left.

Not configured vs. down: a recogniser without credentials (no Groq key, no Modal token) is never called.
When none is configured for a voice note, the learner is told plainly, in their explanation language,
that voice notes (or pronunciation feedback) are not set up here and to write instead
(``NOT_CONFIGURED``, before the download: nothing would come of it); the operator gets one WARNING per
process naming the settings. Only a configured recogniser that times out or fails gives the "try again in
a few minutes" reply (``UNAVAILABLE``). A recogniser handed to the constructor counts as configured.

Model voice notes: each one is a billed outbound message, a speech synthesis and a media upload, so the
feedback of an exercise attempt brings one only on the learner's second miss of that phrase (a miss:
any word of the assessment not at ``Level.GOOD``). The misses are counted in the exercise's own record
(``state.extra["voice_exercise"]["misses"]``), so a new phrase (a new record) or a passed one (the
record removed) starts again from none. Any other miss carries a "🔊 Listen" button (``LISTEN_ID``);
``press`` answers it with the model voice note of the open phrase alone, without scoring anything.

A caller must know: ``handle`` raises nothing for bad audio or a recogniser outage (the outcome carries
the reply); it mutates ``state.extra`` when an exercise is passed, or dropped because nothing here can
score it, and says so in ``state_changed``. Logs carry the learner's uuid and the wamid only.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING

from espaluz.voice import feedback
from espaluz.voice.audio import AudioProblem, prepare
from espaluz.voice.drills import STATE_KEY, Drill, next_drill, phone_performance, skill_for
from espaluz.voice.routing import Route, choose_route
from espaluz.voice.scoring import Level
from espaluz.voice.storage import build_store
from espaluz.voice.transcribers import GroqTranscriber, ModalAssessor, TranscriberUnavailable
from espaluz.voice.tts import SpeechUnavailable, build_speaker
from espaluz.whatsapp.graph import GraphAPIError
from espaluz.whatsapp.models import media_id
from espaluz.whatsapp.outgoing import MAX_INTERACTIVE_BODY, MessageLimitError, Reply

if TYPE_CHECKING:
    from collections.abc import Iterable

    from espaluz.config import Settings
    from espaluz.memory.kinds import Performance
    from espaluz.storage.learners import Learner
    from espaluz.tutor.state import ConversationState
    from espaluz.voice.audio import PreparedAudio
    from espaluz.voice.scoring import Assessment
    from espaluz.voice.storage import AudioStore
    from espaluz.voice.transcribers import Transcript, VoiceResult
    from espaluz.voice.tts import Speaker
    from espaluz.whatsapp.graph import GraphClient
    from espaluz.whatsapp.models import Message

logger = logging.getLogger(__name__)

RETRY_ID = feedback.RETRY_ID
DRILL_ID = feedback.DRILL_ID
LISTEN_ID = feedback.LISTEN_ID
MISSES_KEY = "misses"  # in the exercise's record: the learner's misses of its phrase so far
MODEL_ON_MISS = 2  # the miss whose feedback brings the model voice note unasked
WEAK_KEY = "voice_weak_phones"


class OutcomeKind(StrEnum):
    TRANSCRIPT = "transcript"  # free speech: feed ``transcript.text`` to the conversation
    FEEDBACK = "feedback"  # pronunciation exercise: send ``reply`` (+ ``model_voice_media_id``)
    MODEL_VOICE = "model_voice"  # the listen button: send ``model_voice_media_id`` alone (else ``reply``)
    PROBLEM = "problem"  # unusable audio: send ``reply``
    UNAVAILABLE = "unavailable"  # download or configured recognisers failed: send ``reply``
    NOT_CONFIGURED = "not_configured"  # no recogniser is set up for this voice note: send ``reply``


@dataclass(frozen=True, slots=True)
class VoiceOutcome:
    kind: OutcomeKind
    reply: Reply | None = None
    transcript: Transcript | None = None
    assessment: Assessment | None = None
    model_voice_media_id: str | None = None  # send as ``VoiceNote(media_id)`` right after ``reply``
    approximate_feedback: Reply | None = None  # free speech scored by the GPU app (optional to send)
    route: Route | None = None
    audio_key: str | None = None
    problem: AudioProblem | None = None
    performances: dict[str, Performance] = field(default_factory=dict)  # pron:<phone> skills to review
    state_changed: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    retryable: bool = False  # the download failed for a passing reason: the turn may be retried instead


# What an operator sets to turn each recogniser on (for the log only: never in a learner's text).
_SETTINGS_FOR = {Route.GROQ: "GROQ_API_KEY", Route.MODAL: "MODAL_TOKEN_ID and MODAL_TOKEN_SECRET"}
_USE_OF = {
    Route.GROQ: "fast transcription of short voice notes",
    Route.MODAL: "pronunciation feedback and transcription of long or noisy voice notes",
}
_warned_unconfigured: set[Route] = set()  # one WARNING per process and recogniser


def groq_configured(settings: Settings) -> bool:
    """Groq Whisper can be called: its key is set (what ``GroqTranscriber`` needs)."""
    return bool(settings.groq_api_key.get_secret_value())


def modal_configured(settings: Settings) -> bool:
    """The Modal app can be called: a token id in the settings or the environment (what
    ``ModalAssessor`` checks before it looks the app up)."""
    return bool(settings.modal_token_id.get_secret_value() or os.environ.get("MODAL_TOKEN_ID"))


def _warn_unconfigured(route: Route) -> None:
    """Tell the operator, once per process, which setting turns a missing recogniser on."""
    if route in _warned_unconfigured:
        return
    _warned_unconfigured.add(route)
    logger.warning(
        "voice: %s is not configured (set %s); %s is off", route.value, _SETTINGS_FOR[route], _USE_OF[route]
    )


def dialect_of(learner: Learner) -> str:
    return "spain" if (learner.dialect or "").lower() in ("spain", "es", "es-es", "castilian") else "latam"


def exercise_of(state: ConversationState) -> Drill | None:
    raw = state.extra.get(STATE_KEY)
    if not isinstance(raw, dict):
        return None
    try:
        return Drill.from_state(raw)
    except (KeyError, TypeError):
        return None


def filename_for(mime_type: str) -> str:
    """A file name whose extension tells Groq the container (voice notes are OGG/Opus; files may be
    MP3; AAC/AMR files never get this far: libsndfile cannot decode them, the learner is asked for a
    voice note instead)."""
    kind = mime_type.split(";")[0].strip().lower()
    return {"audio/mpeg": "audio.mp3", "audio/wav": "audio.wav", "audio/x-wav": "audio.wav"}.get(
        kind, "voice.ogg"
    )


def is_voice_button(button_id: str) -> bool:
    return button_id in (RETRY_ID, DRILL_ID, LISTEN_ID)


def misses_of(state: ConversationState) -> int:
    """The learner's misses of the open exercise's phrase so far (0 without an exercise or a count)."""
    raw = state.extra.get(STATE_KEY)
    count = raw.get(MISSES_KEY, 0) if isinstance(raw, dict) else 0
    return count if isinstance(count, int) and count > 0 else 0


class VoiceService:
    def __init__(
        self,
        settings: Settings,
        graph: GraphClient,
        *,
        store: AudioStore | None = None,
        groq: GroqTranscriber | None = None,
        modal: ModalAssessor | None = None,
        speaker: Speaker | None = None,
    ) -> None:
        self.settings = settings
        self.graph = graph
        self.store = store or build_store(settings)
        self.groq = groq or GroqTranscriber(settings)
        self.modal = modal or ModalAssessor(settings)
        self.speaker = speaker or build_speaker(settings, self.store)  # cached on the audio store
        # Which recognisers can answer at all (module docstring: one handed in counts as configured).
        self.configured: dict[Route, bool] = {
            Route.GROQ: groq is not None or groq_configured(settings),
            Route.MODAL: modal is not None or modal_configured(settings),
        }

    # --- the voice note ----------------------------------------------------------------------------

    def handle(self, learner: Learner, message: Message, state: ConversationState) -> VoiceOutcome:
        """Process one inbound voice note or audio file (see the module docstring)."""
        timings: dict[str, float] = {}
        started = time.perf_counter()
        deadline = time.monotonic() + self.settings.voice_deadline_seconds
        ident = media_id(message)
        if not ident:
            return VoiceOutcome(
                OutcomeKind.PROBLEM,
                feedback.problem_reply(AudioProblem.EMPTY, learner.native_language),
                problem=AudioProblem.EMPTY,
            )
        unset = self._not_configured(learner, message, state)
        if unset is not None:
            return unset
        try:
            info, data = self.graph.fetch_media(ident, attempts=self.settings.voice_download_attempts)
        except GraphAPIError as exc:
            logger.warning(
                "voice download failed learner=%s wamid=%s: %s", learner.id, message.id, type(exc).__name__
            )
            return VoiceOutcome(
                OutcomeKind.UNAVAILABLE,
                feedback.download_failed_reply(learner.native_language, reply_to=message.id),
                retryable=exc.retryable,
            )
        timings["download"] = time.perf_counter() - started
        key = self._keep(learner, message.id, data)

        mark = time.perf_counter()
        prepared = prepare(
            data, max_bytes=self.settings.voice_max_bytes, max_seconds=self.settings.voice_max_seconds
        )
        timings["prepare"] = time.perf_counter() - mark
        if isinstance(prepared, AudioProblem):
            logger.info("voice unusable learner=%s wamid=%s problem=%s", learner.id, message.id, prepared)
            return VoiceOutcome(
                OutcomeKind.PROBLEM,
                feedback.problem_reply(prepared, learner.native_language),
                audio_key=key,
                problem=prepared,
                timings=timings,
            )

        exercise = exercise_of(state)
        route = choose_route(
            prepared,
            exercise=exercise is not None,
            settings=self.settings,
            modal_idle_for=self.modal.idle_for(),
        )
        dialect = dialect_of(learner)
        logger.info(
            "voice learner=%s wamid=%s seconds=%.1f snr=%.1f route=%s exercise=%s",
            learner.id,
            message.id,
            prepared.duration,
            prepared.snr_db,
            route,
            exercise is not None,
        )
        if exercise is not None:
            return self._exercise(learner, message, state, exercise, data, dialect, key, timings, deadline)
        return self._free_speech(
            learner, message, prepared, data, info.mime_type, dialect, route, key, timings, deadline
        )

    def _not_configured(
        self, learner: Learner, message: Message, state: ConversationState
    ) -> VoiceOutcome | None:
        """The outcome when no recogniser set up here can answer this voice note, else ``None``.

        An exercise needs the Modal app; free speech needs either recogniser. An exercise nothing here
        can score is dropped from the state (the next voice note is then taken as conversation).
        """
        exercise = exercise_of(state) is not None
        needed = (Route.MODAL,) if exercise else (Route.GROQ, Route.MODAL)
        missing = [route for route in needed if not self.configured[route]]
        for route in missing:
            _warn_unconfigured(route)
        if len(missing) < len(needed):
            return None
        logger.info("voice not configured learner=%s wamid=%s exercise=%s", learner.id, message.id, exercise)
        if exercise:
            state.extra.pop(STATE_KEY, None)
        # Pronunciation alone is missing when Groq could still transcribe free speech.
        pronunciation = exercise and self.configured[Route.GROQ]
        reply = feedback.not_set_up_reply(
            learner.native_language, pronunciation=pronunciation, reply_to=message.id
        )
        return VoiceOutcome(OutcomeKind.NOT_CONFIGURED, reply, state_changed=exercise)

    def _keep(self, learner: Learner, wamid: str, data: bytes) -> str | None:
        try:
            return self.store.save(learner.id, wamid, data)
        except Exception as exc:  # keeping a copy must never cost the learner the reply
            logger.warning(
                "voice store failed learner=%s wamid=%s: %s", learner.id, wamid, type(exc).__name__
            )
            return None

    def _free_speech(
        self,
        learner: Learner,
        message: Message,
        prepared: PreparedAudio,
        data: bytes,
        mime_type: str,
        dialect: str,
        route: Route,
        key: str | None,
        timings: dict[str, float],
        deadline: float,
    ) -> VoiceOutcome:
        order = (Route.GROQ, Route.MODAL) if route is Route.GROQ else (Route.MODAL, Route.GROQ)
        for attempt in order:
            if not self.configured[attempt]:
                continue  # never called (module docstring); the other one was, or handle stopped earlier
            mark = time.perf_counter()
            try:
                result = (
                    self.groq.transcribe(data, filename_for(mime_type), timeout=_left(deadline))
                    if attempt is Route.GROQ
                    else self.modal.assess(data, None, dialect, timeout=_left(deadline))
                )
            except TranscriberUnavailable as exc:
                logger.warning(
                    "voice %s unavailable learner=%s wamid=%s: %s", attempt, learner.id, message.id, exc
                )
                continue
            timings[attempt.value] = time.perf_counter() - mark
            approximate = None
            if result.assessment is not None and result.assessment.words:
                approximate = feedback.assessment_reply(
                    result.assessment, reply_to=message.id, language=learner.native_language, dialect=dialect
                )
            return VoiceOutcome(
                OutcomeKind.TRANSCRIPT,
                transcript=result.transcript,
                assessment=result.assessment,
                approximate_feedback=approximate,
                route=attempt,
                audio_key=key,
                timings={**timings, **result.timings},
            )
        return VoiceOutcome(
            OutcomeKind.UNAVAILABLE,
            feedback.unavailable_reply(learner.native_language, reply_to=message.id),
            route=route,
            audio_key=key,
        )

    def _exercise(
        self,
        learner: Learner,
        message: Message,
        state: ConversationState,
        exercise: Drill,
        data: bytes,
        dialect: str,
        key: str | None,
        timings: dict[str, float],
        deadline: float,
    ) -> VoiceOutcome:
        mark = time.perf_counter()
        try:
            result: VoiceResult = self.modal.assess(data, exercise.text, dialect, timeout=_left(deadline))
        except TranscriberUnavailable as exc:
            logger.warning("voice modal unavailable learner=%s wamid=%s: %s", learner.id, message.id, exc)
            return VoiceOutcome(
                OutcomeKind.UNAVAILABLE,
                feedback.unavailable_reply(learner.native_language, reply_to=message.id),
                route=Route.MODAL,
                audio_key=key,
            )
        timings["modal"] = time.perf_counter() - mark
        assessment = result.assessment
        said = result.transcript.text if result.heard_check else self._heard_by_groq(result, data, deadline)
        language = learner.native_language
        heard = None if said is None else feedback.heard_else_line(language, said, exercise.text)
        if assessment is None or not assessment.words:
            text = feedback.unclear_text(language, exercise.text)
            reply = Reply(f"{heard}\n\n{text}" if heard else text, reply_to=message.id)
            return VoiceOutcome(
                OutcomeKind.FEEDBACK, reply, transcript=result.transcript, route=Route.MODAL, audio_key=key
            )
        weak = assessment.weak_phones()
        state.extra[WEAK_KEY] = weak[:5]
        passed = all(w.level is Level.GOOD for w in assessment.words)
        misses = 0
        if passed:
            state.extra.pop(STATE_KEY, None)
        else:
            misses = misses_of(state) + 1
            record = state.extra.get(STATE_KEY)
            if isinstance(record, dict):
                record[MISSES_KEY] = misses
        voice_id = self.model_voice(learner, exercise.text, dialect) if misses == MODEL_ON_MISS else None
        reply = feedback.assessment_reply(
            assessment,
            reply_to=message.id,
            drill=bool(weak),
            language=learner.native_language,
            dialect=dialect,
            model=voice_id is not None,
            listen=not passed and voice_id is None,  # a failed upload: the button lets them ask again
        )
        if heard:  # said something else: what was heard first, then the scores against the phrase
            reply = replace(reply, text=f"{heard}\n\n{reply.text}"[:MAX_INTERACTIVE_BODY])
        return VoiceOutcome(
            OutcomeKind.FEEDBACK,
            reply,
            transcript=result.transcript,
            assessment=assessment,
            model_voice_media_id=voice_id,
            route=Route.MODAL,
            audio_key=key,
            performances={skill_for(phone): perf for phone, perf in phone_performance(assessment).items()},
            state_changed=True,
            timings={**timings, **result.timings},
        )

    def _heard_by_groq(self, result: VoiceResult, data: bytes, deadline: float) -> str | None:
        """What the learner said instead of the exercise's phrase, from Groq's Whisper, when the voice app
        runs without a GPU and left that check to us (``recheck_wanted``); ``None`` when not wanted, not
        configured or failing (the feedback then goes without the line)."""
        if not (result.recheck_wanted and self.configured[Route.GROQ]):
            return None
        try:
            return self.groq.transcribe(data, timeout=_left(deadline)).transcript.text or None
        except TranscriberUnavailable:
            return None

    def model_voice(self, learner: Learner, text: str, dialect: str) -> str | None:
        """Upload a model pronunciation of ``text`` as a voice note; ``None`` when TTS or upload fails
        (the feedback still goes, without the audio)."""
        try:
            ogg = self.speaker.speak(text, dialect)
            return self.graph.upload_voice_note(
                learner.business_phone_number_id or self.settings.whatsapp_phone_number_id, ogg
            )
        except (SpeechUnavailable, GraphAPIError, MessageLimitError) as exc:
            logger.warning("model voice failed learner=%s: %s", learner.id, type(exc).__name__)
            return None

    # --- drills and buttons ------------------------------------------------------------------------

    def start_drill(
        self,
        learner: Learner,
        state: ConversationState,
        *,
        due_skills: Iterable[str] = (),
        phone: str | None = None,
    ) -> Reply | None:
        """Offer a pronunciation drill (a due ``pron:`` skill, ``phone``, or the learner's weakest phone)
        and remember it as the exercise the next voice note answers. ``None`` when nothing fits."""
        weak = [phone] if phone else list(state.extra.get(WEAK_KEY, ()))
        drill = next_drill(due_skills, weak, dialect_of(learner), language=learner.native_language)
        if drill is None:
            return None
        state.extra[STATE_KEY] = drill.to_state()
        return Reply(drill.prompt)

    def start_exercise(
        self, state: ConversationState, text: str, skill: str = "pron:phrase", language: str = "en"
    ) -> Reply:
        """Ask the learner to read ``text`` aloud (in their explanation ``language``); the next voice note
        is scored against it."""
        drill = Drill(skill, "", "phrase", text, feedback.read_aloud_prompt(language, text))
        state.extra[STATE_KEY] = drill.to_state()
        return Reply(drill.prompt)

    def press(self, button_id: str, learner: Learner, state: ConversationState) -> VoiceOutcome | None:
        """Answer any of the feedback message's buttons, the listen button included; ``None`` for others.

        The listen button (``LISTEN_ID``): the model voice note of the open exercise's phrase, uploaded
        now, as ``model_voice_media_id`` with no ``reply`` (one message: the voice note alone); nothing
        is scored and the miss count stays. With no exercise open, or when the audio cannot be made or
        uploaded, a text ``reply`` instead. The other buttons: :meth:`on_button`'s reply.
        """
        if button_id != LISTEN_ID:
            reply = self.on_button(button_id, learner, state)
            return None if reply is None else VoiceOutcome(OutcomeKind.FEEDBACK, reply)
        exercise = exercise_of(state)
        language = learner.native_language
        if exercise is None:
            return VoiceOutcome(OutcomeKind.MODEL_VOICE, feedback.nothing_to_hear_reply(language))
        voice_id = self.model_voice(learner, exercise.text, dialect_of(learner))
        if voice_id is None:
            return VoiceOutcome(OutcomeKind.MODEL_VOICE, feedback.no_audio_reply(language, exercise.text))
        return VoiceOutcome(OutcomeKind.MODEL_VOICE, model_voice_media_id=voice_id)

    def on_button(self, button_id: str, learner: Learner, state: ConversationState) -> Reply | None:
        """Answer the feedback message's buttons as one text reply; ``None`` for buttons not of the voice
        service.

        "Try again" and "drill this sound" are fully answered here. The listen button needs a voice note,
        which a ``Reply`` cannot carry: a caller that can send one calls :meth:`press` instead; here it
        gets the phrase in stressed syllables (no speech synthesis, no upload), so the tap still answers.
        """
        if button_id == LISTEN_ID:
            exercise = exercise_of(state)
            if exercise is None:
                return feedback.nothing_to_hear_reply(learner.native_language)
            return feedback.no_audio_reply(learner.native_language, exercise.text)
        if button_id == RETRY_ID:
            exercise = exercise_of(state)
            phrase = None if exercise is None else exercise.text
            return feedback.record_again_reply(learner.native_language, phrase)
        if button_id == DRILL_ID:
            drill = self.start_drill(learner, state)
            return drill or feedback.nothing_to_drill_reply(learner.native_language)
        return None


MIN_RECOGNITION_SECONDS = 1.0  # less left than this: the recogniser is not started (see the docstring)


def _left(deadline: float) -> float:
    """Seconds left for a recogniser; raises TranscriberUnavailable when too few to be worth a call."""
    left = deadline - time.monotonic()
    if left < MIN_RECOGNITION_SECONDS:
        raise TranscriberUnavailable(f"the voice deadline leaves {max(left, 0.0):.1f} s")
    return left


def build_voice(settings: Settings, graph: GraphClient) -> VoiceService:
    """The production wiring: S3 or a local folder, Groq, the Modal app, Polly or espeak-ng (behind the
    speech cache on the same audio store, ``tts.CachedSpeaker``)."""
    return VoiceService(settings, graph)
