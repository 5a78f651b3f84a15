"""Commands, onboarding and voice notes through the real webhook and tutor handlers, on real Postgres and
Redis, with the Graph API emulator (media uploads and downloads included) and, for voice, a local server
speaking Groq's transcription API through the official SDK."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
import redis

from espaluz.dev.worker import QueueWorker
from espaluz.queue.local import LocalFifoQueue
from espaluz.whatsapp.signature import sign
from functions.tutor import handler as tutor
from functions.webhook import handler as webhook
from tests.conftest import APP_SECRET, PHONE_NUMBER_ID, GraphEmulator, load_event
from tests.functional.test_tutor import LEARNER, say, text_of
from tests.functional.test_voice import GroqTranscriptionServer
from tests.functional.test_webhook import api_event
from tests.voice_samples import speech_ogg


@pytest.fixture
def worker(function_env: Any, redis_client: redis.Redis[bytes]) -> QueueWorker:
    return QueueWorker(LocalFifoQueue(redis_client, "inbound"), tutor.handler)


def turn(worker: QueueWorker, context: Any, text: str | None = None, **kwargs: Any) -> dict[str, Any]:
    """The learner writes (or taps); returns the last message the tutor sent."""
    say(context, text, **kwargs)
    assert worker.run_once() == 1
    return messages(worker)[-1]


def messages(worker: QueueWorker) -> list[dict[str, Any]]:
    graph = httpx.get(f"{_graph_root()}/dev/outbox").json()
    return [m["body"] for m in graph if m["kind"] == "message"]


def _graph_root() -> str:
    from espaluz.config import get_settings

    return get_settings().whatsapp_graph_url.removesuffix("/graph/v23.0")


def ids(body: dict[str, Any]) -> list[str]:
    action = body.get("interactive", {}).get("action", {})
    rows = [r["id"] for s in action.get("sections", []) for r in s.get("rows", [])]
    return [b["reply"]["id"] for b in action.get("buttons", [])] + rows


def test_onboarding_walks_a_new_learner_through_setup(
    function_env: Any, worker: QueueWorker, database_url: str, lambda_context: Any
) -> None:
    """A new learner is asked, step by step, for their language, level, dialect, goal and reminder
    consent; each answer is stored; an unknown list id (bad input) re-asks the step instead of failing."""
    function_env(TUTOR_ONBOARDING="true")
    first = turn(worker, lambda_context, "hola", wamid="wamid.O1")
    assert ids(first)
    junk = turn(worker, lambda_context, wamid="wamid.O2", button=("onb:nonsense", "??"))
    assert ids(junk) == ids(first)
    step, answers = first, 0
    while (options := [i for i in ids(step) if i.startswith("onb:")]) and answers < 8:
        # the last option of each step: Spanish, "from zero", a dialect, a goal, no reminders
        step = turn(worker, lambda_context, wamid=f"wamid.O{answers + 3}", button=(options[-1], "x"))
        answers += 1
    assert answers == 5
    assert ids(step) == ["practice", "help"]  # onboarding over: the tutor's first invitation
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT onboarded_at IS NOT NULL, native_language, level, reminders_consent FROM learners"
        ).fetchone()
    assert row == (True, "es", "A1", False)


def test_progress_sends_a_chart_image_and_export_a_document(
    worker: QueueWorker, graph_emulator: GraphEmulator, lambda_context: Any
) -> None:
    """ "progreso" answers with numbers and a PNG chart uploaded to (and sent through) the Graph API;
    "exportar" sends the learner's data as a JSON document whose bytes come back intact."""
    turn(worker, lambda_context, "hola", wamid="wamid.P0")
    turn(worker, lambda_context, "practicar", wamid="wamid.P1")
    turn(worker, lambda_context, "soy", wamid="wamid.P2")
    turn(worker, lambda_context, "progreso", wamid="wamid.P3")
    sent = messages(worker)
    assert sent[-1]["type"] == "image"
    chart = httpx.get(f"{graph_emulator.base_url}/dev/media/{sent[-1]['image']['id']}").content
    assert chart.startswith(b"\x89PNG\r\n\x1a\n")
    turn(worker, lambda_context, "exportar", wamid="wamid.P4")
    document = messages(worker)[-1]
    assert document["type"] == "document"
    data = json.loads(httpx.get(f"{graph_emulator.base_url}/dev/media/{document['document']['id']}").content)
    assert data["format"] == "espaluz-export/1"
    assert data["learner"]["wa_id"] == LEARNER
    assert [a["answer"] for a in data["drill_attempts"]] == ["soy"]
    assert {t["wamid"] for t in data["turns"]} >= {"wamid.P0", "wamid.P1", "wamid.P2", "wamid.P3"}


def test_delete_my_data_needs_confirmation_and_then_erases_everything(
    worker: QueueWorker, database_url: str, lambda_context: Any
) -> None:
    """ "borrar" alone deletes nothing (a typed "sí" is not a confirmation: bad input); the confirm button
    erases the learner and every row that hangs from them, after the goodbye is sent."""
    turn(worker, lambda_context, "hola", wamid="wamid.D0")
    ask = turn(worker, lambda_context, "borrar", wamid="wamid.D1")
    confirm = [i for i in ids(ask) if i.startswith("del:") and i != "del:no"]
    assert confirm
    turn(worker, lambda_context, "sí", wamid="wamid.D2")
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM learners").fetchone() == (1,)
    turn(worker, lambda_context, wamid="wamid.D3", button=(confirm[0], "Sí, borrar todo"))
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM learners").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM turns").fetchone() == (0,)


@pytest.fixture
def groq_voice(function_env: Any) -> Iterator[GroqTranscriptionServer]:
    server = GroqTranscriptionServer()
    function_env(GROQ_API_KEY="gsk_test", GROQ_BASE_URL=server.url)
    yield server
    server.shutdown()


def send_voice_note(context: Any, graph: GraphEmulator, wamid: str, clip: bytes) -> None:
    """The learner records a voice note: its audio is on Meta's side, the webhook names its media id."""
    from espaluz.whatsapp.graph import GraphClient
    from tests.conftest import ACCESS_TOKEN

    media_id = GraphClient(graph.graph_url, ACCESS_TOKEN).upload_media(PHONE_NUMBER_ID, clip, "audio/ogg")
    payload = copy.deepcopy(load_event("whatsapp_text.json"))
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message.pop("text")
    message.update(
        id=wamid, type="audio", audio={"id": media_id, "mime_type": "audio/ogg; codecs=opus", "voice": True}
    )
    body = json.dumps(payload).encode()
    result = webhook.handler(
        api_event(body, headers={"x-hub-signature-256": sign(body, APP_SECRET)}), context
    )
    assert result["statusCode"] == 200


def test_a_short_clean_voice_note_is_transcribed_and_answered_like_text(
    groq_voice: GroqTranscriptionServer,
    worker: QueueWorker,
    graph_emulator: GraphEmulator,
    database_url: str,
    lambda_context: Any,
) -> None:
    """Free speech under 5 s goes to Groq Whisper (Spanish forced); the transcript is shown and answered
    as if typed ("hola" -> the greeting)."""
    groq_voice.transcript = "hola"
    turn(worker, lambda_context, "hola", wamid="wamid.V0")
    send_voice_note(lambda_context, graph_emulator, "wamid.V1", speech_ogg("hola"))
    assert worker.run_once() == 1
    reply = messages(worker)[-1]
    assert text_of(reply).startswith("🎙️ _hola_")
    assert groq_voice.requests[0]["fields"]["language"] == ["es"]
    with psycopg.connect(database_url) as conn:
        route = conn.execute("SELECT route FROM turns WHERE wamid = 'wamid.V1'").fetchone()
    assert route is not None
    assert str(route[0]).startswith("voice.")


def test_unusable_voice_note_gets_a_friendly_answer(
    groq_voice: GroqTranscriptionServer,
    worker: QueueWorker,
    graph_emulator: GraphEmulator,
    lambda_context: Any,
) -> None:
    """Bad input: a silent clip is not sent to any recogniser; the learner is told kindly."""
    from tests.voice_samples import silent_ogg

    turn(worker, lambda_context, "hola", wamid="wamid.S0")
    send_voice_note(lambda_context, graph_emulator, "wamid.S1", silent_ogg())
    worker.run_once()
    assert groq_voice.requests == []
    assert "hear" in text_of(messages(worker)[-1]).lower() or "oír" in text_of(messages(worker)[-1]).lower()
