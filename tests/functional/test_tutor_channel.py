"""The channel rules inside a tutor turn, through the real webhook and tutor handlers: consent keywords,
messages that need no answer, identity changes, late deliveries outside the 24-hour window, and replies
from the business number that received the message."""

from __future__ import annotations

import copy
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
import redis

from espaluz.dev.worker import QueueWorker
from espaluz.queue.local import LocalFifoQueue
from espaluz.whatsapp.signature import sign
from functions.tutor import handler as tutor
from functions.webhook import handler as webhook
from tests.conftest import APP_SECRET, GraphEmulator, load_event
from tests.functional.test_tutor import LEARNER, say, text_of
from tests.functional.test_webhook import api_event


@pytest.fixture
def worker(function_env: Any, redis_client: redis.Redis[bytes]) -> QueueWorker:
    return QueueWorker(LocalFifoQueue(redis_client, "inbound"), tutor.handler)


def deliver(context: Any, payload: dict[str, Any]) -> None:
    body = json.dumps(payload, ensure_ascii=False).encode()
    result = webhook.handler(
        api_event(body, headers={"x-hub-signature-256": sign(body, APP_SECRET)}), context
    )
    assert result["statusCode"] == 200


def text_payload(
    text: str, wamid: str, *, timestamp: int | None = None, pnid: str | None = None
) -> dict[str, Any]:
    payload = copy.deepcopy(load_event("whatsapp_text.json"))
    value = payload["entry"][0]["changes"][0]["value"]
    message = value["messages"][0]
    message.update(id=wamid, text={"body": text}, timestamp=str(timestamp or int(time.time())))
    if pnid:
        value["metadata"]["phone_number_id"] = pnid
    return payload


def learner_row(database_url: str) -> tuple[Any, ...]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT wa_id, bsuid, opted_out_at IS NOT NULL, marketing_opt_out FROM learners"
        ).fetchone()
    assert row is not None
    return tuple(row)


def test_baja_opts_out_and_alta_opts_back_in(
    worker: QueueWorker, graph_emulator: GraphEmulator, database_url: str, lambda_context: Any
) -> None:
    """STOP/BAJA as a whole message (any case, punctuation ignored) records the opt-out and confirms it;
    ALTA (or the confirmation's button) reverses it. The word inside a sentence changes nothing."""
    say(lambda_context, "no puedo parar de estudiar", wamid="wamid.K0")
    worker.run_once()
    assert learner_row(database_url)[2] is False
    say(lambda_context, "  BAJA. ", wamid="wamid.K1")
    worker.run_once()
    assert learner_row(database_url)[2] is True
    confirmation = graph_emulator.messages()[-1]["body"]
    assert "no te enviaré recordatorios" in text_of(confirmation)
    assert confirmation["interactive"]["action"]["buttons"][0]["reply"]["id"] == "consent:start"
    say(lambda_context, button=("consent:start", "Volver a activarlos"), wamid="wamid.K2")
    worker.run_once()
    assert learner_row(database_url)[2] is False
    say(lambda_context, "Stop", wamid="wamid.K3")
    say(lambda_context, "alta", wamid="wamid.K4")
    worker.run_once()
    worker.run_once()
    assert learner_row(database_url)[2] is False
    with psycopg.connect(database_url) as conn:
        routes = [r[0] for r in conn.execute("SELECT route FROM turns ORDER BY received_at, wamid")]
    assert routes.count("consent_stop") == 2
    assert routes.count("consent_start") == 2


def test_reactions_get_no_answer(
    worker: QueueWorker, graph_emulator: GraphEmulator, database_url: str, lambda_context: Any
) -> None:
    """A reaction and its removal are recorded as turns but answered with nothing (no chat noise)."""
    deliver(lambda_context, load_event("updates/reaction.json"))
    deliver(lambda_context, load_event("updates/unreaction.json"))
    worker.run_once()
    worker.run_once()
    assert graph_emulator.messages() == []
    with psycopg.connect(database_url) as conn:
        routes = sorted(r[0] for r in conn.execute("SELECT route FROM turns WHERE status = 'answered'"))
    assert routes == ["reaction", "unreaction"]


def test_changed_number_is_recorded_on_the_same_learner(
    worker: QueueWorker, graph_emulator: GraphEmulator, database_url: str, lambda_context: Any
) -> None:
    """A system message (user changed number) moves the learner to the new wa_id; no reply is sent, and
    the next message from the new number reaches the same learner."""
    say(lambda_context, "hola", wamid="wamid.N1")
    worker.run_once()
    deliver(lambda_context, load_event("updates/system_user_changed_number.json"))
    worker.run_once()
    assert learner_row(database_url)[0] == "15550009877"
    assert len(graph_emulator.messages()) == 1
    payload = text_payload("hola otra vez", "wamid.N2")
    value = payload["entry"][0]["changes"][0]["value"]
    value["messages"][0]["from"] = value["contacts"][0]["wa_id"] = "15550009877"
    deliver(lambda_context, payload)
    worker.run_once()
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM learners").fetchone() == (1,)
    assert graph_emulator.messages()[-1]["to"] == "15550009877"


def test_unsupported_message_gets_a_friendly_answer(
    worker: QueueWorker, graph_emulator: GraphEmulator, lambda_context: Any
) -> None:
    """Bad input from the learner's side (a type Meta cannot pass on, 131051): a friendly reply."""
    deliver(lambda_context, load_event("updates/unsupported.json"))
    worker.run_once()
    [reply] = graph_emulator.messages()
    assert "No puedo abrir ese tipo de mensaje" in text_of(reply["body"])


def test_a_message_redriven_days_later_is_answered_through_the_template(
    worker: QueueWorker, graph_emulator: GraphEmulator, database_url: str, lambda_context: Any
) -> None:
    """Out-of-order/late delivery: a message sent two days ago (say, redriven from the DLQ) does not
    reopen the window: the answer is held behind the re-engagement template."""
    deliver(lambda_context, text_payload("hola", "wamid.L1", timestamp=int(time.time()) - 2 * 86400))
    worker.run_once()
    [message] = graph_emulator.messages()
    assert message["type"] == "template"
    assert message["to"] == LEARNER


def test_reply_goes_out_from_the_number_that_received_the_message(
    worker: QueueWorker, graph_emulator: GraphEmulator, lambda_context: Any
) -> None:
    """Several business numbers in one deployment: each reply leaves from the receiving number."""
    deliver(lambda_context, text_payload("hola", "wamid.P1", pnid="100000000000001"))
    worker.run_once()
    deliver(lambda_context, text_payload("ayuda", "wamid.P2", pnid="100000000000777"))
    worker.run_once()
    assert [m["phone_number_id"] for m in graph_emulator.messages()] == ["100000000000001", "100000000000777"]


def _preference(name: str, *, timestamp: int, value: str | None = None) -> dict[str, Any]:
    payload = copy.deepcopy(load_event(f"updates/{name}"))
    preference = payload["entry"][0]["changes"][0]["value"]["user_preferences"][0]
    preference["timestamp"] = timestamp
    if value:
        preference["value"] = value
    return payload


def test_marketing_preferences_apply_in_the_order_they_were_made(
    worker: QueueWorker, graph_emulator: GraphEmulator, database_url: str, lambda_context: Any
) -> None:
    """Out-of-order deliveries: 'stop promotions' is recorded; an older 'resume' arriving later changes
    nothing; a newer one reverses it. None of them starts a conversation."""
    say(lambda_context, "hola", wamid="wamid.M0")
    worker.run_once()
    now = int(time.time())
    deliver(lambda_context, _preference("user_preferences_stop.json", timestamp=now))
    worker.run_once()
    assert learner_row(database_url)[3] is True
    deliver(lambda_context, _preference("user_preferences_stop.json", timestamp=now - 60, value="resume"))
    worker.run_once()
    assert learner_row(database_url)[3] is True
    deliver(lambda_context, _preference("user_preferences_stop.json", timestamp=now + 60, value="resume"))
    worker.run_once()
    assert learner_row(database_url)[3] is False
    assert len(graph_emulator.messages()) == 1  # only the greeting


def test_preference_of_someone_we_never_met_is_dropped(
    worker: QueueWorker, graph_emulator: GraphEmulator, database_url: str, lambda_context: Any
) -> None:
    """A preference update for an unknown user creates no learner and sends nothing."""
    deliver(lambda_context, load_event("updates/user_preferences_resume_bsuid.json"))
    worker.run_once()
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM learners").fetchone() == (0,)
    assert graph_emulator.messages() == []


def test_bsuid_change_keeps_the_same_learner(
    worker: QueueWorker, graph_emulator: GraphEmulator, database_url: str, lambda_context: Any
) -> None:
    """user_id_update: Mateo's BSUID is replaced; his learner row follows it."""
    deliver(lambda_context, load_event("whatsapp_bsuid_only.json"))
    worker.run_once()
    deliver(lambda_context, load_event("updates/user_id_update.json"))
    worker.run_once()
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT bsuid FROM learners").fetchall() == [("US.13491208655300000002",)]


def test_tutor_logs_carry_no_phone_number_and_no_message_text(
    worker: QueueWorker,
    graph_emulator: GraphEmulator,
    lambda_context: Any,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Privacy: full turns (a greeting, an opt-out, a retried send, a window template) logged at INFO,
    through both the standard logging records and the Powertools JSON lines on stdout, mention neither
    the learner's phone number, nor their name, nor what they wrote."""
    caplog.set_level("INFO")
    graph_emulator.fail_next(code=130429, status=400)
    secret_text = "mi secreto es quesadilla"
    say(lambda_context, secret_text, wamid="wamid.Q1")
    say(lambda_context, "BAJA", wamid="wamid.Q2")
    worker.run_once()
    worker.run_once()
    deliver(
        lambda_context, text_payload("quesadilla otra vez", "wamid.Q3", timestamp=int(time.time()) - 90000)
    )
    worker.run_once()
    logged = "\n".join(
        r.getMessage() + " " + json.dumps(r.__dict__, default=str, ensure_ascii=False) for r in caplog.records
    )
    logged += capsys.readouterr().out
    assert "wamid.Q1" in logged  # the logs are there...
    for private in (LEARNER, "Lucía", "quesadilla", "BAJA"):
        assert private not in logged  # ...without personal data, raw or JSON-escaped
        assert json.dumps(private)[1:-1] not in logged


def test_changed_bsuid_system_message_never_creates_a_second_learner(
    worker: QueueWorker, graph_emulator: GraphEmulator, database_url: str, lambda_context: Any
) -> None:
    """A user_changed_user_id notification carries only the new identifiers: it moves Mateo's learner to
    the new BSUID and creates no second learner; no reply is sent."""
    deliver(lambda_context, load_event("whatsapp_bsuid_only.json"))
    worker.run_once()
    deliver(lambda_context, load_event("updates/system_user_changed_user_id.json"))
    worker.run_once()
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT bsuid FROM learners").fetchall()
    assert rows == [("US.13491208655300000002",)]
    assert len(graph_emulator.messages()) == 1


def test_a_billing_notice_is_delivered_once_through_the_send_policy(
    worker: QueueWorker,
    graph_emulator: GraphEmulator,
    database_url: str,
    redis_client: redis.Redis[bytes],
    lambda_context: Any,
) -> None:
    """Duplicate delivery of a notice (SQS at-least-once): sent once. Outside the window (the learner
    last wrote two days ago) it waits behind the re-engagement template and arrives, merged with the
    answer, when the learner writes again."""
    from espaluz.whatsapp.inbound import notice_message
    from espaluz.whatsapp.outgoing import Reply

    say(lambda_context, "hola", wamid="wamid.S1")
    worker.run_once()
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "UPDATE learners SET last_inbound_at = %s RETURNING id", (datetime.now(UTC) - timedelta(days=2),)
        ).fetchone()
    assert row is not None
    notice = notice_message(
        "notice.evt_1.payment_failed", str(row[0]), Reply("Tu pago no se pudo cobrar.").payload()
    )
    LocalFifoQueue(redis_client, "inbound").send_batch([notice])
    [received] = worker.queue.receive()
    event = {"Records": [received.to_sqs_record(worker.queue.arn)]}
    assert tutor.handler(event, lambda_context) == {"batchItemFailures": []}
    assert tutor.handler(event, lambda_context) == {"batchItemFailures": []}  # redelivered
    sent = graph_emulator.messages()
    assert [m["type"] for m in sent] == ["interactive", "template"]  # greeting, then the template only

    say(lambda_context, "ayuda", wamid="wamid.S2")
    worker.run_once()
    assert text_of(graph_emulator.messages()[-1]["body"]).startswith("Tu pago no se pudo cobrar.")
