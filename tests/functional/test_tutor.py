"""Full turns through the real tutor Lambda handler: webhook -> local FIFO queue -> SQS-shaped event ->
tutor handler -> Graph API emulator, on real Postgres and Redis."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
import redis
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from espaluz.dev.worker import QueueWorker
from espaluz.queue.local import LocalFifoQueue
from espaluz.tutor.state import StateStore
from espaluz.whatsapp.signature import sign
from functions.tutor import handler as tutor
from functions.webhook import handler as webhook
from tests.conftest import APP_SECRET, GraphEmulator, load_event
from tests.functional.test_webhook import api_event

LEARNER = "15550009876"


def say(
    context: Any,
    text: str | None = None,
    *,
    wamid: str,
    button: tuple[str, str] | None = None,
    row: tuple[str, str] | None = None,
    payload_name: str = "whatsapp_text.json",
) -> None:
    """The learner sends a message, taps a button or picks a list row (through the real webhook)."""
    payload = load_event(payload_name)
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message["id"] = wamid
    if row is not None:
        message["type"] = "interactive"
        message.pop("text", None)
        message["interactive"] = {"type": "list_reply", "list_reply": {"id": row[0], "title": row[1]}}
    elif button is not None:
        message["type"] = "interactive"
        message.pop("text", None)
        message["interactive"] = {
            "type": "button_reply",
            "button_reply": {"id": button[0], "title": button[1]},
        }
    elif text is not None:
        message["text"] = {"body": text}
    body = json.dumps(payload, ensure_ascii=False).encode()
    result = webhook.handler(
        api_event(body, headers={"x-hub-signature-256": sign(body, APP_SECRET)}), context
    )
    assert result["statusCode"] == 200


@pytest.fixture
def worker(function_env: Any, redis_client: redis.Redis[bytes]) -> QueueWorker:
    return QueueWorker(LocalFifoQueue(redis_client, "inbound"), tutor.handler)


def replies(graph: GraphEmulator, to: str = LEARNER) -> list[dict[str, Any]]:
    return [m["body"] for m in graph.messages() if m["to"] == to]


def text_of(body: dict[str, Any]) -> str:
    if body["type"] == "text":
        return str(body["text"]["body"])
    return str(body["interactive"]["body"]["text"])


def test_greeting_creates_the_learner_and_answers_once_with_buttons(
    worker: QueueWorker, graph_emulator: GraphEmulator, database_url: str, lambda_context: Any
) -> None:
    say(lambda_context, "hola", wamid="wamid.T1")
    assert worker.run_once() == 1
    [reply] = replies(graph_emulator)
    assert reply["type"] == "interactive"
    assert "Hola, Lucía" in text_of(reply)
    assert [b["reply"]["id"] for b in reply["interactive"]["action"]["buttons"]] == ["practice", "help"]
    reads = [i["body"] for i in graph_emulator.outbox() if i["kind"] == "read"]
    assert reads == [
        {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": "wamid.T1",
            "typing_indicator": {"type": "text"},
        }
    ]
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT wa_id, display_name, level, plan FROM learners").fetchone()
        turn = conn.execute("SELECT status, route, cardinality(reply_wamids) FROM turns").fetchone()
    assert row == (LEARNER, "Lucía", "A1", "free")
    assert turn == ("answered", "greeting", 1)


def test_a_course_exercise_and_its_answers_are_checked_by_the_engine(
    worker: QueueWorker,
    graph_emulator: GraphEmulator,
    database_url: str,
    redis_client: redis.Redis[bytes],
    lambda_context: Any,
) -> None:
    say(lambda_context, wamid="wamid.P1", button=("practice", "Practicar"))
    worker.run_once()
    question = text_of(replies(graph_emulator)[-1])
    with psycopg.connect(database_url) as conn:
        learner_id = conn.execute("SELECT id FROM learners").fetchone()[0]  # type: ignore[index]
    pending = StateStore(redis_client, 3600).load(learner_id).pending
    assert pending is not None
    assert pending.exercise["unit"] == "A1.1"
    assert pending.exercise["content"] in question
    if pending.exercise["type"] == "cloze":  # a verb in context: its answers are the conjugator's
        from espaluz.spanish.conjugation import conjugate_table

        ex = pending.exercise
        assert "……" in question
        assert pending.expected[0] in conjugate_table(ex["verb"]).forms[ex["tense"]][ex["person"]]
    right = pending.expected[0]

    say(lambda_context, right, wamid="wamid.P2")
    worker.run_once()
    assert text_of(replies(graph_emulator)[-1]).startswith("✅ ¡Correcto!")

    following = StateStore(redis_client, 3600).load(learner_id).pending  # the next one is asked at once
    assert following is not None
    from tests.functional.test_course import wrong_answer

    say(lambda_context, wrong_answer(following.exercise), wamid="wamid.P3")
    worker.run_once()
    wrong = text_of(replies(graph_emulator)[-1])
    assert wrong.startswith("❌ ")
    assert len(wrong.split("\n")[0]) > 10
    with psycopg.connect(database_url) as conn:
        verdicts = [r[0] for r in conn.execute("SELECT verdict FROM drill_attempts ORDER BY id")]
    assert verdicts == ["correct", "wrong"]


def test_duplicate_delivery_is_answered_once(
    worker: QueueWorker, graph_emulator: GraphEmulator, redis_client: redis.Redis[bytes], lambda_context: Any
) -> None:
    """Duplicate delivery reaching the tutor (SQS at-least-once): the turn is not answered twice."""
    say(lambda_context, "hola", wamid="wamid.D1")
    [message] = LocalFifoQueue(redis_client, "inbound").receive()
    event = {"Records": [message.to_sqs_record("arn:aws:sqs:us-east-1:000000000000:q.fifo")]}
    assert tutor.handler(event, lambda_context) == {"batchItemFailures": []}
    assert tutor.handler(event, lambda_context) == {"batchItemFailures": []}
    assert len(replies(graph_emulator)) == 1


def test_one_provider_5xx_is_retried_in_place(
    worker: QueueWorker, graph_emulator: GraphEmulator, database_url: str, lambda_context: Any
) -> None:
    """Provider blip: the Graph API answers 500 once; the sender retries with backoff and the learner
    gets exactly one answer from the first delivery."""
    graph_emulator.fail_next(code=131000, status=500)
    say(lambda_context, "hola", wamid="wamid.F0")
    assert worker.run_once() == 1
    assert len(replies(graph_emulator)) == 1
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT status FROM turns").fetchone() == ("answered",)


def test_provider_outage_fails_the_record_and_the_retry_answers_once(
    worker: QueueWorker, graph_emulator: GraphEmulator, database_url: str, lambda_context: Any
) -> None:
    """Provider outage: every attempt of the sender gets a 500; the message goes back to the queue (the
    turn released with its planned reply still pending), and the redelivery answers once."""
    graph_emulator.fail_next(code=131000, status=500, count=4)
    say(lambda_context, "hola", wamid="wamid.F1")
    worker.run_once()
    assert replies(graph_emulator) == []
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT status FROM turns").fetchall() == [("released",)]
        assert conn.execute("SELECT status FROM turn_parts").fetchall() == [("pending",)]
    worker.queue.redis.delete(f"{worker.queue.prefix}lock:" + _group(worker))  # skip the retry delay
    assert worker.run_once() == 1
    assert len(replies(graph_emulator)) == 1


def test_meta_says_outside_window_so_the_answer_waits_behind_a_template(
    worker: QueueWorker, graph_emulator: GraphEmulator, database_url: str, lambda_context: Any
) -> None:
    """Meta answers 131047 (its clock says the window closed): no retry loop; the re-engagement
    template goes out instead, and the held answer is delivered, merged with the next reply, when the
    learner writes again."""
    graph_emulator.fail_next(code=131047, status=400, message="Re-engagement message")
    say(lambda_context, "hola", wamid="wamid.W1")
    worker.run_once()
    assert worker.queue.depth() == 0
    [template] = replies(graph_emulator)
    assert template["type"] == "template"
    assert template["template"]["name"] == "espaluz_seguimos"
    assert template["template"]["components"][-1]["parameters"] == [
        {"type": "payload", "payload": "window:continue"}
    ]
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT status, route FROM turns").fetchone() == ("answered", "greeting")

    say(lambda_context, "ayuda", wamid="wamid.W2")
    worker.run_once()
    say(lambda_context, "ayuda", wamid="wamid.W3")
    worker.run_once()
    [_, merged, help_alone] = replies(graph_emulator)
    # One message: the held greeting, then the answer to "ayuda"; held content goes out only once.
    assert text_of(merged).startswith("¡Hola, Lucía")
    assert text_of(merged).endswith("\n\n" + text_of(help_alone))
    assert "Hola, Lucía" not in text_of(help_alone)


def test_permanent_error_is_recorded_and_not_retried(
    worker: QueueWorker, graph_emulator: GraphEmulator, database_url: str, lambda_context: Any
) -> None:
    """A permanent Graph API error (131026, the recipient cannot receive) must not loop through
    retries: the turn is recorded as undeliverable."""
    graph_emulator.fail_next(code=131026, status=400, message="Message undeliverable")
    say(lambda_context, "hola", wamid="wamid.U1")
    worker.run_once()
    assert worker.queue.depth() == 0
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT status, route FROM turns").fetchone() == ("answered", "undeliverable")


def test_a_failed_message_holds_back_the_rest_of_its_group_only(
    worker: QueueWorker, graph_emulator: GraphEmulator, lambda_context: Any
) -> None:
    """Per-learner order: when Lucía's first message fails, her second is not answered before it;
    Mateo, another learner in the same batch, is answered at once."""
    graph_emulator.fail_next(code=131000, status=500, count=4)
    say(lambda_context, "hola", wamid="wamid.G1")
    say(lambda_context, "ayuda", wamid="wamid.G2")
    say(lambda_context, "hola", wamid="wamid.M1", payload_name="whatsapp_bsuid_only.json")
    received = worker.queue.receive()
    event = {"Records": [m.to_sqs_record(worker.queue.arn) for m in received]}
    result = tutor.handler(event, lambda_context)
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    by_wamid = {json.loads(m.body)["wamid"]: m.message_id for m in received}
    assert failed == {by_wamid["wamid.G1"], by_wamid["wamid.G2"]}
    [mateo] = graph_emulator.messages()
    # Mateo has no phone number: the reply goes to his business-scoped user id.
    assert mateo["body"]["recipient"] == "US.13491208655300000001"
    assert "to" not in mateo["body"]


def test_database_outage_fails_the_batch_without_losing_it(
    function_env: Any,
    worker: QueueWorker,
    graph_emulator: GraphEmulator,
    database_url: str,
    tmp_path: Any,
    lambda_context: Any,
) -> None:
    """The database goes away: the invocation fails as a whole (SQS keeps the batch), no reply is sent,
    and once the database is back the message is answered."""
    say(lambda_context, "hola", wamid="wamid.DB1")
    function_env(DATABASE_URL=f"postgresql://postgres@/postgres?host={tmp_path}&connect_timeout=1")
    [message] = worker.queue.receive()
    event = {"Records": [message.to_sqs_record(worker.queue.arn)]}
    with pytest.raises(BatchProcessingError):
        tutor.handler(event, lambda_context)
    assert replies(graph_emulator) == []
    function_env(DATABASE_URL=database_url)
    assert tutor.handler(event, lambda_context) == {"batchItemFailures": []}
    assert len(replies(graph_emulator)) == 1


def _group(worker: QueueWorker) -> str:
    groups = worker.queue.redis.zrange(worker.queue.prefix + "ready", 0, -1)
    return groups[0].decode()


@pytest.mark.parametrize(("left_behind", "answers"), [("claimed", 1), ("sending", 0)])
def test_redelivery_after_a_crash_answers_at_most_once(
    worker: QueueWorker,
    graph_emulator: GraphEmulator,
    database_url: str,
    lambda_context: Any,
    left_behind: str,
    answers: int,
) -> None:
    """A crash left the turn 'claimed' (nothing sent: the redelivery answers) or 'sending' (the reply may
    have gone out: the redelivery must not answer again)."""
    say(lambda_context, "hola", wamid="wamid.C1")
    with psycopg.connect(database_url) as conn:
        learner = conn.execute("INSERT INTO learners (wa_id) VALUES (%s) RETURNING id", (LEARNER,)).fetchone()
        assert learner is not None
        conn.execute(  # left by an attempt that died two minutes ago (past the claim timeout)
            """INSERT INTO turns (wamid, learner_id, status, claimed_at)
               VALUES ('wamid.C1', %s, %s, now() - interval '2 minutes')""",
            (learner[0], left_behind),
        )
    assert worker.run_once() == 1
    assert len(replies(graph_emulator)) == answers
    assert worker.queue.depth() == 0
