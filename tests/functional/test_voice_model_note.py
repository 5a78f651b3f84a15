"""The model pronunciation voice note goes only when it is asked for or on the second miss (issue 19:
fewer billed messages per learner).

Each voice note is one more outbound message, a speech synthesis and a media upload. The feedback of a
pronunciation attempt brings one unasked only on the second miss of the same phrase; any other miss
carries a "🔊 Listen" button that sends it alone, without scoring anything. Through the voice service
with the Graph API emulator (uploads counted there), the Modal app replaced by a stand-in that scores
scripted phone sequences with the real scorer, and espeak-ng speaking the model; then through the real
webhook and tutor handlers on Postgres and Redis.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from pydantic import SecretStr

from espaluz.config import Settings
from espaluz.dev.worker import QueueWorker
from espaluz.storage.learners import Learner
from espaluz.tutor.state import ConversationState
from espaluz.voice import service as voice_service
from espaluz.voice.drills import STATE_KEY
from espaluz.voice.feedback import LISTEN_ID, RETRY_ID, retry_button
from espaluz.voice.scoring import Vocabulary, score
from espaluz.voice.service import MISSES_KEY, OutcomeKind, VoiceOutcome, VoiceService, misses_of
from espaluz.voice.transcribers import ModalAssessor
from espaluz.voice.tts import EspeakSpeaker
from espaluz.whatsapp.graph import GraphClient
from espaluz.whatsapp.models import Message
from espaluz.whatsapp.signature import sign
from functions.webhook import handler as webhook
from tests.conftest import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID, GraphEmulator, load_event
from tests.functional.test_tutor import LEARNER, replies, say, text_of, worker  # noqa: F401
from tests.functional.test_voice import GroqTranscriptionServer
from tests.functional.test_webhook import api_event
from tests.voice_samples import VOCAB, posteriorgram, speech_ogg

PERFECT = ("e", "l", "p", "e", "r", "o")  # "el perro" said well: every word at Level.GOOD
TAP = ("e", "l", "p", "e", "ɾ", "o")  # "el pero": the trill as a tap, *perro* only FAIR (a miss)


class Assessor:
    """The Modal app's stand-in: each call scores the next scripted phone sequence against the phrase it
    was asked about, with the real scorer; the calls are recorded (the phrase of each)."""

    def __init__(self, scripts: Sequence[Sequence[str]]) -> None:
        self.scripts = list(scripts)
        self.asked: list[str | None] = []

    def __call__(self, audio: bytes, text: str | None, dialect: str) -> dict[str, Any]:
        self.asked.append(text)
        assessment = score(posteriorgram(list(self.scripts.pop(0))), Vocabulary(VOCAB), text or "")
        return {
            "transcript": text,
            "confidence": 0.9,
            "language": "es",
            "assessment": assessment.to_json(),
            "whisper": False,
            "heard_check": False,
            "timings": {"prepare": 0.01, "phonemes": 0.01, "scoring": 0.01},
        }


def settings_for(tmp_path: Path) -> Settings:
    return Settings(
        groq_api_key="",
        modal_token_id="",
        espaluz_data_dir=tmp_path / "data",
        audio_bucket="",
        whatsapp_phone_number_id=PHONE_NUMBER_ID,
    )


def learner(language: str) -> Learner:
    return Learner(
        uuid4(), None, "US.1234", "Ana", PHONE_NUMBER_ID, "A2", "latam", language, "free", "active"
    )


def uploads(graph: GraphEmulator) -> int:
    return sum(1 for item in graph.outbox() if item["kind"] == "media_upload")


def delivered(outcome: VoiceOutcome) -> list[str]:
    """What the learner receives for this outcome, as the tutor sends it (processor ``_voice_turn``):
    the reply when there is one, then the model voice note when there is one."""
    kinds = ["text"] if outcome.reply is not None else []
    return kinds + (["voice_note"] if outcome.model_voice_media_id else [])


class Session:
    """One learner's pronunciation exercise on the voice service, clip by clip."""

    def __init__(self, graph_emulator: GraphEmulator, tmp_path: Path, scripts: Sequence[Sequence[str]]):
        self.emulator = graph_emulator
        self.graph = GraphClient(graph_emulator.graph_url, ACCESS_TOKEN)
        settings = settings_for(tmp_path)
        self.assessor = Assessor(scripts)
        self.service = VoiceService(
            settings, self.graph, modal=ModalAssessor(settings, call=self.assessor), speaker=EspeakSpeaker()
        )
        self.state = ConversationState()
        self.clip = self.graph.upload_media(PHONE_NUMBER_ID, speech_ogg("el perro"), "audio/ogg")
        self.sent = 0

    def record(self, who: Learner) -> VoiceOutcome:
        self.sent += 1
        message = Message.model_validate(
            {
                "id": f"wamid.TRY{self.sent}",
                "type": "audio",
                "from": "15550001111",
                "timestamp": "1700000000",
                "audio": {"id": self.clip, "mime_type": "audio/ogg; codecs=opus", "voice": True},
            }
        )
        return self.service.handle(who, message, self.state)


LISTEN_TITLE = {"es": "🔊 Escuchar", "en": "🔊 Listen"}
RETRY_TITLE = {"es": "🔁 Otra vez", "en": "🔁 Try again"}
ON_REQUEST_LINE = {
    "es": "🔊 Toca *Escuchar* para oír cómo suena y después *Otra vez* para volver a grabarla.",
    "en": "🔊 Tap *Listen* to hear how it sounds, then *Try again* and record it once more.",
}
WITH_MODEL_LINE = {
    "es": "🔊 Escucha el modelo y después toca *Otra vez* para volver a grabarla.",
    "en": "🔊 Listen to the model, then tap *Try again* and record it once more.",
}


@pytest.mark.parametrize("language", ["es", "en"])
def test_first_miss_offers_the_button_and_the_second_brings_the_voice_note(
    graph_emulator: GraphEmulator, tmp_path: Path, language: str
) -> None:
    """A miss, then a second miss of the same phrase, then a third: the first feedback carries the
    listen button in the learner's language and no voice note is made or uploaded; the second brings the
    model voice note (one upload) and no button; the third offers the button again."""
    session = Session(graph_emulator, tmp_path, [TAP, TAP, TAP])
    session.service.start_exercise(session.state, "el perro", skill="pron:r")
    base = uploads(graph_emulator)  # the learner's clip

    first = session.record(learner(language))
    assert first.kind is OutcomeKind.FEEDBACK
    assert first.reply is not None
    assert delivered(first) == ["text"]
    assert first.reply.buttons[0] == retry_button(language)
    assert first.reply.buttons[0].title == RETRY_TITLE[language]
    assert f"*{RETRY_TITLE[language].removeprefix('🔁 ')}*" in first.reply.text  # the line names that button
    assert (first.reply.buttons[-1].id, first.reply.buttons[-1].title) == (LISTEN_ID, LISTEN_TITLE[language])
    assert first.reply.text.endswith(ON_REQUEST_LINE[language])
    assert uploads(graph_emulator) == base  # no speech synthesis uploaded for nothing
    assert misses_of(session.state) == 1

    second = session.record(learner(language))
    assert second.reply is not None
    assert delivered(second) == ["text", "voice_note"]
    assert LISTEN_ID not in [b.id for b in second.reply.buttons]
    assert second.reply.text.endswith(WITH_MODEL_LINE[language])
    assert uploads(graph_emulator) == base + 1
    assert misses_of(session.state) == 2

    third = session.record(learner(language))
    assert third.reply is not None
    assert delivered(third) == ["text"]
    assert LISTEN_ID in [b.id for b in third.reply.buttons]
    assert uploads(graph_emulator) == base + 1
    assert session.assessor.asked == ["el perro"] * 3


@pytest.mark.parametrize("language", ["es", "en"])
def test_a_perfect_attempt_brings_no_voice_note_and_no_button(
    graph_emulator: GraphEmulator, tmp_path: Path, language: str
) -> None:
    """A miss then the phrase said well: the pass brings neither the voice note nor the listen button,
    and closes the exercise (its miss count with it)."""
    session = Session(graph_emulator, tmp_path, [TAP, PERFECT])
    session.service.start_exercise(session.state, "el perro", skill="pron:r")
    base = uploads(graph_emulator)
    session.record(learner(language))
    passed = session.record(learner(language))
    assert passed.reply is not None
    assert passed.assessment is not None
    assert {w.level.value for w in passed.assessment.words} == {"good"}
    assert delivered(passed) == ["text"]
    assert [b.id for b in passed.reply.buttons] == [RETRY_ID]
    assert "🔊" not in passed.reply.text
    assert uploads(graph_emulator) == base
    assert STATE_KEY not in session.state.extra
    assert misses_of(session.state) == 0


@pytest.mark.parametrize("language", ["es", "en"])
def test_tapping_listen_sends_one_voice_note_of_the_phrase_without_scoring(
    graph_emulator: GraphEmulator, tmp_path: Path, language: str
) -> None:
    """After a first miss the learner taps "Listen": the answer is the model voice note alone (one
    upload of the phrase spoken), the Modal app is not called again, and the miss count and the phrase
    stay as they were (a tap is not an attempt)."""
    session = Session(graph_emulator, tmp_path, [TAP, TAP])
    session.service.start_exercise(session.state, "el perro", skill="pron:r")
    who = learner(language)
    session.record(who)
    base = uploads(graph_emulator)
    pressed = session.service.press(LISTEN_ID, who, session.state)
    assert pressed is not None
    assert pressed.kind is OutcomeKind.MODEL_VOICE
    assert delivered(pressed) == ["voice_note"]
    assert uploads(graph_emulator) == base + 1
    upload = [i for i in graph_emulator.outbox() if i["kind"] == "media_upload"][-1]
    assert "audio/ogg" in json.dumps(upload)
    assert session.assessor.asked == ["el perro"]  # not scored again
    assert misses_of(session.state) == 1
    assert session.state.extra[STATE_KEY]["text"] == "el perro"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("es", "Ahora no hay ninguna frase que escuchar. Escribe *pronunciar* para practicar una 🎙️"),
        ("en", "There's no phrase to listen to right now. Write *pronunciar* to practise one 🎙️"),
    ],
)
def test_tapping_listen_with_no_exercise_open_says_so(
    graph_emulator: GraphEmulator, tmp_path: Path, language: str, expected: str
) -> None:
    """Bad input: an old listen button tapped after the phrase was passed: a text, nothing uploaded."""
    session = Session(graph_emulator, tmp_path, [])
    base = uploads(graph_emulator)
    pressed = session.service.press(LISTEN_ID, learner(language), session.state)
    assert pressed is not None
    assert delivered(pressed) == ["text"]
    assert pressed.reply is not None
    assert pressed.reply.text == expected
    assert uploads(graph_emulator) == base


def test_the_count_starts_again_on_a_new_phrase(graph_emulator: GraphEmulator, tmp_path: Path) -> None:
    """A miss of "el perro", then a new phrase ("pero") missed once: that is its first miss (button, no
    voice note), not the learner's second miss overall; its second miss brings the voice note."""
    session = Session(graph_emulator, tmp_path, [TAP, ("p", "e", "r", "o"), ("p", "e", "r", "o")])
    service, state = session.service, session.state
    service.start_exercise(state, "el perro", skill="pron:r")
    assert delivered(session.record(learner("en"))) == ["text"]
    service.start_exercise(state, "pero", skill="pron:ɾ")
    assert MISSES_KEY not in state.extra[STATE_KEY]
    first = session.record(learner("en"))
    assert first.assessment is not None
    assert any(w.level.value != "good" for w in first.assessment.words)
    assert delivered(first) == ["text"]
    assert misses_of(state) == 1
    assert delivered(session.record(learner("en"))) == ["text", "voice_note"]
    assert session.assessor.asked == ["el perro", "pero", "pero"]


def test_a_failed_upload_on_the_second_miss_keeps_the_button(
    graph_emulator: GraphEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Provider fault: the model voice cannot be uploaded on the second miss; the feedback still goes,
    with the listen button (so the learner can ask again) and no line about a model that is not there."""
    session = Session(graph_emulator, tmp_path, [TAP, TAP])
    session.service.start_exercise(session.state, "el perro", skill="pron:r")
    session.record(learner("es"))
    monkeypatch.setattr(session.service, "model_voice", lambda *_: None)
    second = session.record(learner("es"))
    assert second.reply is not None
    assert delivered(second) == ["text"]
    assert second.reply.buttons[-1].id == LISTEN_ID
    assert WITH_MODEL_LINE["es"] not in second.reply.text


# --- through the real webhook and tutor handlers ------------------------------------------------------


@pytest.fixture
def assessor(monkeypatch: pytest.MonkeyPatch) -> Assessor:
    """The tutor's voice service, built on first use, with the Modal stand-in and espeak-ng."""
    scripted = Assessor([TAP, TAP, PERFECT])

    def build(settings: Settings, graph: GraphClient) -> VoiceService:
        return VoiceService(
            settings, graph, modal=ModalAssessor(settings, call=scripted), speaker=EspeakSpeaker()
        )

    monkeypatch.setattr(voice_service, "build_voice", build)
    return scripted


def send_voice_note(context: Any, graph: GraphEmulator, wamid: str) -> None:
    """The learner records a voice note: its audio is on Meta's side, the webhook names its media id."""
    media = GraphClient(graph.graph_url, ACCESS_TOKEN).upload_media(
        PHONE_NUMBER_ID, speech_ogg("el perro"), "audio/ogg"
    )
    payload = copy.deepcopy(load_event("whatsapp_text.json"))
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message.pop("text")
    message.update(
        id=wamid, type="audio", audio={"id": media, "mime_type": "audio/ogg; codecs=opus", "voice": True}
    )
    body = json.dumps(payload).encode()
    result = webhook.handler(
        api_event(body, headers={"x-hub-signature-256": sign(body, APP_SECRET)}), context
    )
    assert result["statusCode"] == 200


def answered(worker: QueueWorker, graph: GraphEmulator) -> list[dict[str, Any]]:  # noqa: F811
    """Run the queued turn; the messages it sent the learner (texts and voice notes, in order)."""
    before = len(replies(graph))
    assert worker.run_once() == 1
    return replies(graph)[before:]


def kinds(sent: list[dict[str, Any]]) -> list[str]:
    return ["voice_note" if b["type"] == "audio" and b["audio"].get("voice") else "text" for b in sent]


def open_exercise(
    worker: QueueWorker,  # noqa: F811
    graph: GraphEmulator,
    context: Any,
    database_url: str,
    language: str,
) -> None:
    """The learner says hello, is set to explain in ``language``, and asks to pronounce *el perro*."""
    say(context, "hola", wamid="wamid.M0")
    answered(worker, graph)
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE learners SET native_language = %s WHERE wa_id = %s", (language, LEARNER))
    say(context, "pronunciar el perro", wamid="wamid.M1")
    [prompt] = answered(worker, graph)
    assert "el perro" in text_of(prompt)


@pytest.mark.parametrize("language", ["es", "en"])
def test_a_three_attempt_drill_through_the_tutor(
    worker: QueueWorker,  # noqa: F811
    assessor: Assessor,
    graph_emulator: GraphEmulator,
    database_url: str,
    lambda_context: Any,
    language: str,
) -> None:
    """The messages a learner receives for a typical drill, miss, miss, pass, through the real handlers:
    one feedback message with the listen button; the feedback then the model voice note; one feedback
    message. Four messages for three attempts (six before issue 19), two model uploads fewer."""
    open_exercise(worker, graph_emulator, lambda_context, database_url, language)
    base = uploads(graph_emulator)

    send_voice_note(lambda_context, graph_emulator, "wamid.V1")
    first = answered(worker, graph_emulator)
    assert kinds(first) == ["text"]
    buttons = [(b["reply"]["id"], b["reply"]["title"]) for b in first[0]["interactive"]["action"]["buttons"]]
    assert buttons[0] == (RETRY_ID, RETRY_TITLE[language])
    assert buttons[-1] == (LISTEN_ID, LISTEN_TITLE[language])
    assert text_of(first[0]).endswith(ON_REQUEST_LINE[language])

    send_voice_note(lambda_context, graph_emulator, "wamid.V2")
    second = answered(worker, graph_emulator)
    assert kinds(second) == ["text", "voice_note"]
    assert text_of(second[0]).endswith(WITH_MODEL_LINE[language])

    send_voice_note(lambda_context, graph_emulator, "wamid.V3")
    third = answered(worker, graph_emulator)
    assert kinds(third) == ["text"]
    assert "🔊" not in text_of(third[0])

    assert assessor.asked == ["el perro"] * 3
    assert uploads(graph_emulator) == base + 3 + 1  # the learner's three clips, one model voice


def test_tapping_listen_through_the_tutor_sends_one_voice_note(
    worker: QueueWorker,  # noqa: F811
    assessor: Assessor,
    graph_emulator: GraphEmulator,
    database_url: str,
    lambda_context: Any,
) -> None:
    """A first miss, then a tap on "🔊 Escuchar": exactly one message, the model voice note, and the
    Modal app is not asked again."""
    open_exercise(worker, graph_emulator, lambda_context, database_url, "es")
    send_voice_note(lambda_context, graph_emulator, "wamid.V1")
    answered(worker, graph_emulator)
    say(lambda_context, wamid="wamid.L1", button=(LISTEN_ID, LISTEN_TITLE["es"]))
    tapped = answered(worker, graph_emulator)
    assert assessor.asked == ["el perro"]
    assert kinds(tapped) == ["voice_note"]


class CpuAppAssessor(Assessor):
    """A CPU-only voice app: it scores, runs no Whisper, and says what was heard is the tutor's to ask."""

    def __call__(self, audio: bytes, text: str | None, dialect: str) -> dict[str, Any]:
        return {**super().__call__(audio, text, dialect), "recheck_wanted": True}


@pytest.mark.parametrize(("language", "heard"), [("en", "🎧 I heard: _hola"), ("es", "🎧 Escuché: _hola")])
def test_a_cpu_voice_app_leaves_what_was_heard_to_groq(
    graph_emulator: GraphEmulator, tmp_path: Path, language: str, heard: str
) -> None:
    """The learner read something else: the app (no GPU, no Whisper) asks for a recheck, Groq's Whisper
    (its local server, through the SDK) says what was heard, and the feedback opens with it. With Groq
    down, the feedback still comes, without that line (provider failure loses nothing)."""
    server = GroqTranscriptionServer()
    server.transcript = "hola, ¿qué tal?"
    try:
        settings = settings_for(tmp_path).model_copy(
            update={"groq_api_key": SecretStr("gsk_test"), "groq_base_url": server.url}
        )
        session = Session(graph_emulator, tmp_path, [TAP, TAP])
        session.service = VoiceService(
            settings,
            session.graph,
            modal=ModalAssessor(settings, call=CpuAppAssessor([TAP, TAP])),
            speaker=EspeakSpeaker(),
        )
        who = learner(language)
        session.service.start_exercise(session.state, "el perro", skill="pron:r")
        first = session.record(who)
        assert first.reply is not None
        assert first.reply.text.startswith(heard), first.reply.text
        assert len(server.requests) == 1
        server.status = 500
        second = session.record(who)
        assert second.reply is not None
        assert "🎧" not in second.reply.text
        assert second.assessment is not None
    finally:
        server.shutdown()
