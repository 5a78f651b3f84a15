"""The turn ledger under faults, through the real tutor Lambda handler on real Postgres and Redis (a
cluster in the cluster pass): nothing lost, nothing twice.

Each test names its fault. A redelivery is the same SQS record handed to the handler again, as SQS does
after a failure or a visibility timeout; "time passing" (a claim's lease running out, a pacing slot
coming due) is written into the database and Redis rather than slept through.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from espaluz.billing.notify import QueueNotifier
from espaluz.dev.gateway import LambdaContext
from espaluz.dev.worker import QueueWorker
from espaluz.llm.types import Usage
from espaluz.llm.usage import record_late_usage
from espaluz.queue.local import LocalFifoQueue
from espaluz.storage.postgres import get_pool
from espaluz.storage.redis import RedisClient
from espaluz.tutor.agents.brain import LateUsage, enrichment_key
from espaluz.whatsapp.outgoing import Reply
from espaluz.whatsapp.sender import pace_key
from functions.tutor import handler as tutor
from tests.conftest import GraphEmulator, fail_once
from tests.functional.test_tutor import _group, replies, say, text_of, worker  # noqa: F401 (the fixture)

REPO = Path(__file__).resolve().parents[2]


def received_event(queue_worker: QueueWorker) -> dict[str, Any]:
    """The next message on the queue as the SQS event the tutor Lambda gets (kept for redelivery)."""
    [message] = queue_worker.queue.receive()
    return {"Records": [message.to_sqs_record(queue_worker.queue.arn)]}


def ledger(database_url: str, wamid: str) -> tuple[str, list[tuple[int, str]]]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT status FROM turns WHERE wamid = %s", (wamid,)).fetchone()
        parts = conn.execute(
            "SELECT part, status FROM turn_parts WHERE wamid = %s ORDER BY part", (wamid,)
        ).fetchall()
    return (str(row[0]) if row else "", [(int(p), str(s)) for p, s in parts])


def learner_id(database_url: str) -> uuid.UUID:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT id FROM learners").fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def test_a_graph_5xx_on_part_two_resends_only_part_two(
    worker: QueueWorker,  # noqa: F811
    graph_emulator: GraphEmulator,
    database_url: str,
    lambda_context: Any,
) -> None:
    """Provider fault: the data export is two messages (the text, then the document); the Graph API
    answers 500 to the document through every retry. The turn is released with the text recorded as
    sent, and the redelivery sends the document only: the learner gets each part once."""
    say(lambda_context, "exportar", wamid="wamid.P1")
    event = received_event(worker)
    graph_emulator.fail_next(code=131000, status=500, count=4, after=1)
    with pytest.raises(BatchProcessingError):
        tutor.handler(event, lambda_context)
    first = replies(graph_emulator)
    assert [b["type"] for b in first] in (["text"], ["interactive"])
    assert ledger(database_url, "wamid.P1") == ("released", [(0, "sent"), (1, "pending")])

    assert tutor.handler(event, lambda_context) == {"batchItemFailures": []}  # the redelivery
    sent = replies(graph_emulator)
    assert sent[:1] == first
    assert [b["type"] for b in sent[1:]] == ["document"]
    assert ledger(database_url, "wamid.P1") == ("answered", [(0, "sent"), (1, "sent")])
    assert tutor.handler(event, lambda_context) == {"batchItemFailures": []}  # a duplicate: nothing
    assert len(replies(graph_emulator)) == 2


@pytest.mark.parametrize(
    ("table", "status"),
    [("turns", "answered"), ("turn_parts", "sent")],
    ids=["turn-update-fails", "part-update-fails"],
)
def test_a_postgres_error_after_the_send_is_completed_without_a_second_send(
    worker: QueueWorker,  # noqa: F811
    graph_emulator: GraphEmulator,
    database_url: str,
    lambda_context: Any,
    table: str,
    status: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Database fault after the Graph call: the update that records the part as sent, or the one that
    marks the turn answered, fails once (a trigger). The delivery fails; the redelivery finds the reply
    already out (or in flight: it may have arrived) and completes the turn without sending it again."""
    fail_once(database_url, table, "UPDATE", f"NEW.status = '{status}'")
    say(lambda_context, "hola", wamid="wamid.PG1")
    event = received_event(worker)
    with pytest.raises(BatchProcessingError):
        tutor.handler(event, lambda_context)
    assert len(replies(graph_emulator)) == 1
    assert ledger(database_url, "wamid.PG1")[0] == "released"
    with psycopg.connect(database_url) as conn:  # the Graph call's start is recorded before it leaves
        [(sending_at,)] = conn.execute("SELECT sending_at FROM turn_parts WHERE wamid = 'wamid.PG1'")
    assert sending_at is not None

    with caplog.at_level(logging.WARNING, logger="espaluz.tutor.processor"):
        assert tutor.handler(event, lambda_context) == {"batchItemFailures": []}
    assert len(replies(graph_emulator)) == 1
    assert ledger(database_url, "wamid.PG1")[0] == "answered"
    # Only a part left in flight (its 'sent' update failed) is reported as possibly missing.
    in_flight = [r for r in caplog.records if r.getMessage().startswith("parts in flight")]
    assert [getattr(r, "parts", None) for r in in_flight] == ([[0]] if status == "sent" else [])


CHILD = """
import json, sys
from espaluz.dev.gateway import LambdaContext
from functions.tutor import handler as tutor
tutor.handler(json.load(open(sys.argv[1])), LambdaContext("espaluz-tutor"))
"""


def test_a_crash_while_waiting_for_the_pacing_slot_loses_nothing(
    worker: QueueWorker,  # noqa: F811
    graph_emulator: GraphEmulator,
    database_url: str,
    redis_client: RedisClient,
    lambda_context: Any,
    tmp_path: Path,
) -> None:
    """Crash: a tutor process (a real subprocess) sends the export's text, then waits for the learner's
    next pacing slot (30 s) before the document, and is killed with SIGKILL during that wait. Once its
    lease and the slot have run out, the redelivery sends the document (recorded as not sent, since
    the wait comes before a part is marked in flight) and the learner has both parts, each once."""
    say(lambda_context, "exportar", wamid="wamid.K1")
    event = received_event(worker)
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(event))
    env = {**os.environ, "WHATSAPP_LEARNER_INTERVAL_SECONDS": "30", "WHATSAPP_SEND_MAX_WAIT_SECONDS": "60"}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(event_file)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        waiting = [(0, "sent"), (1, "pending")]  # the text is out, the document waits for its slot
        for _ in range(1200):  # a condition polled, not a timing asserted
            if ledger(database_url, "wamid.K1")[1] == waiting or child.poll() is not None:
                break
            time.sleep(0.05)
        assert child.poll() is None, child.communicate()[0].decode(errors="replace")[-3000:]
        assert ledger(database_url, "wamid.K1") == ("sending", waiting)
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate()
    assert len(replies(graph_emulator)) == 1

    with psycopg.connect(database_url) as conn:  # the dead attempt's lease runs out
        conn.execute("UPDATE turns SET claimed_at = claimed_at - interval '10 minutes'")
    redis_client.delete(pace_key(str(learner_id(database_url))))  # and so does its reserved slot
    assert tutor.handler(event, lambda_context) == {"batchItemFailures": []}
    sent = replies(graph_emulator)
    assert [b["type"] for b in sent][1:] == ["document"]
    assert ledger(database_url, "wamid.K1") == ("answered", [(0, "sent"), (1, "sent")])


def test_a_late_correction_survives_a_failed_turn_and_is_shown_once(
    worker: QueueWorker,  # noqa: F811
    graph_emulator: GraphEmulator,
    database_url: str,
    redis_client: RedisClient,
    lambda_context: Any,
) -> None:
    """Provider fault: a correction that missed the learner's last turn waits in Redis for the next
    answer; that answer's send fails (a Graph outage through every retry). The correction is not lost
    with the failed attempt: the redelivery's answer carries it, and the answer after does not repeat it."""
    say(lambda_context, "hola", wamid="wamid.E1")
    assert worker.run_once() == 1
    key = enrichment_key(learner_id(database_url))
    redis_client.rpush(key, "✏️ *Soy de Madrid.*")  # what the brain keeps when a check lands late

    graph_emulator.fail_next(code=131000, status=500, count=4)
    say(lambda_context, "ayuda", wamid="wamid.E2")
    assert worker.run_once() == 1  # fails: the message goes back to the queue
    assert len(replies(graph_emulator)) == 1
    worker.queue.redis.delete(f"{worker.queue.prefix}lock:" + _group(worker))  # skip the retry delay
    assert worker.run_once() == 1
    assert "Soy de Madrid" in text_of(replies(graph_emulator)[-1])
    assert redis_client.lrange(key, 0, -1) == []

    say(lambda_context, "gracias", wamid="wamid.E3")
    assert worker.run_once() == 1
    texts = [text_of(b) for b in replies(graph_emulator) if b["type"] in ("text", "interactive")]
    assert sum("Soy de Madrid" in t for t in texts) == 1


def test_late_usage_is_kept_under_its_own_learner_and_an_erased_learner_breaks_nothing(
    database_url: str,
) -> None:
    """Database fault (a row gone): a provider call finished after its turn, and its learner was erased
    meanwhile. The late usage of the learner still there is stored under that learner's own message,
    the erased learner's is dropped, and nothing raises into the turn that happens to store them."""
    pool = get_pool(database_url)
    with pool.connection() as conn:
        rows = conn.execute("INSERT INTO learners (wa_id) VALUES ('1555000001'), ('1555000002') RETURNING id")
        kept, erased = (uuid.UUID(str(r[0])) for r in rows.fetchall())
        conn.execute("DELETE FROM learners WHERE id = %s", (erased,))
    usage = Usage("conversation", "claude", "claude-haiku", 10, 5, 100)
    stored = record_late_usage(
        pool, [LateUsage(erased, usage, "wamid.GONE"), LateUsage(kept, usage, "wamid.KEPT")]
    )
    assert stored == 1
    with pool.connection() as conn:
        assert conn.execute("SELECT learner_id, wamid FROM llm_usage").fetchall() == [(kept, "wamid.KEPT")]


def test_a_billing_notice_joins_the_learners_message_group(
    worker: QueueWorker,  # noqa: F811
    graph_emulator: GraphEmulator,
    database_url: str,
    redis_client: RedisClient,
    lambda_context: Any,
) -> None:
    """Out-of-order delivery: a billing notice queued while the learner's message waits must be answered
    after it, not beside it. The notice goes in the learner's own FIFO group (the learner key the
    webhook used), so the queue hands both over in order, in one group."""
    say(lambda_context, "hola", wamid="wamid.N1")
    assert worker.run_once() == 1
    say(lambda_context, "ayuda", wamid="wamid.N2")
    notify = QueueNotifier(LocalFifoQueue(redis_client, "inbound"), get_pool(database_url))
    notify(learner_id(database_url), Reply("Gracias por tu pago."), "notice.evt_1.paid")
    received = worker.queue.receive()
    assert [json.loads(m.body)["wamid"] for m in received] == ["wamid.N2", "notice.evt_1.paid"]
    assert len({m.group_id for m in received}) == 1


BURST = [
    "hola",
    "hoy estoy cansada",
    "ayer fui al mercado",
    "me gusta el café con leche",
    "mi hermano vive en Sevilla",
    "¿cómo se dice 'window'?",
    "tengo dos gatos",
    "mañana trabajo en casa",
    "el libro es muy interesante",
    "gracias",
]


def test_a_burst_of_ten_messages_is_answered_once_addressing_each(
    worker: QueueWorker,  # noqa: F811
    graph_emulator: GraphEmulator,
    database_url: str,
    lambda_context: Any,
) -> None:
    """Duplicate delivery after a burst: the learner sends ten messages before the tutor answers; SQS
    hands them over in one batch. They are read together and answered in one message that quotes each,
    every wamid is answered in the ledger as part of that turn, and a redelivery of any of them (here the
    fifth, then the whole batch) sends nothing."""
    for i, text in enumerate(BURST):
        say(lambda_context, text, wamid=f"wamid.B{i}")
    received = worker.queue.receive()
    assert len(received) == len(BURST)
    event = {"Records": [m.to_sqs_record(worker.queue.arn) for m in received]}
    # An invocation long enough for the batch under the per-turn budget (espaluz/tutor/batch.py): with
    # less, the records after the first are handed back untaken and acknowledged when redelivered.
    roomy = LambdaContext("espaluz-tutor", timeout_s=600)
    assert tutor.handler(event, roomy) == {"batchItemFailures": []}
    sent = replies(graph_emulator)
    assert len(sent) == 1
    answer = text_of(sent[0])
    for text in BURST:
        assert f"_{text}_" in answer
    with psycopg.connect(database_url) as conn:
        turns = conn.execute("SELECT wamid, status, answered_by FROM turns ORDER BY received_at").fetchall()
    assert {w for w, _, _ in turns} == {f"wamid.B{i}" for i in range(len(BURST))}
    assert {s for _, s, _ in turns} == {"answered"}
    assert {by for w, _, by in turns if w != "wamid.B0"} == {"wamid.B0"}

    assert tutor.handler({"Records": [event["Records"][4]]}, roomy) == {"batchItemFailures": []}
    assert tutor.handler(event, roomy) == {"batchItemFailures": []}
    assert len(replies(graph_emulator)) == 1


def test_a_burst_whose_send_fails_is_answered_once_on_redelivery(
    worker: QueueWorker,  # noqa: F811
    graph_emulator: GraphEmulator,
    database_url: str,
    lambda_context: Any,
) -> None:
    """Provider fault on a burst: the Graph API answers 500 to the burst's one message through every
    retry. The turn is released with its plan; a redelivery of a later message of the burst alone waits
    (the turn is not its own to answer), and the redelivery of the batch sends the answer once."""
    for i, text in enumerate(BURST[:3]):
        say(lambda_context, text, wamid=f"wamid.F{i}")
    received = worker.queue.receive()
    event = {"Records": [m.to_sqs_record(worker.queue.arn) for m in received]}
    roomy = LambdaContext("espaluz-tutor", timeout_s=600)
    graph_emulator.fail_next(code=131000, status=500, count=4)
    with pytest.raises(BatchProcessingError):
        tutor.handler(event, roomy)
    assert replies(graph_emulator) == []
    assert ledger(database_url, "wamid.F0") == ("released", [(0, "pending")])
    with pytest.raises(BatchProcessingError):  # TurnInProgress: it follows its burst's fate
        tutor.handler({"Records": [event["Records"][2]]}, roomy)

    assert tutor.handler(event, roomy) == {"batchItemFailures": []}
    [answer] = replies(graph_emulator)
    assert all(f"_{text}_" in text_of(answer) for text in BURST[:3])
    assert tutor.handler(event, roomy) == {"batchItemFailures": []}
    assert len(replies(graph_emulator)) == 1


def test_a_send_whose_answer_never_came_is_not_retried() -> None:
    """Provider timeout: a Graph call that timed out after the request was written may have reached Meta,
    so the ledger's send does not retry it (it stays in flight: never sent twice); a refused or timed-out
    connection, or an error answered by Meta, means it did not go out and is retried."""
    from espaluz.whatsapp.graph import ServerError
    from espaluz.whatsapp.sender import in_doubt

    def error(cause: Exception | None) -> ServerError:
        try:
            raise ServerError("Graph API timeout") from cause
        except ServerError as exc:
            return exc

    assert in_doubt(error(httpx.ReadTimeout("read")))
    assert in_doubt(error(httpx.RemoteProtocolError("closed")))
    assert not in_doubt(error(httpx.ConnectTimeout("connect")))
    assert not in_doubt(error(httpx.ConnectError("refused")))
    assert not in_doubt(error(None))
