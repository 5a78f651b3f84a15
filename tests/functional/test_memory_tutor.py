"""The memory feature through the real tutor Lambda handler: every answered turn leaves a memory, the
"memoria" command lists it with rows to forget it, and a memory failure never costs the learner a turn."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
import redis

from espaluz.dev.worker import QueueWorker
from espaluz.memory.store import EmbeddingSchemaError
from espaluz.queue.local import LocalFifoQueue
from functions.tutor import handler as tutor
from tests.conftest import GraphEmulator
from tests.functional.test_tutor import say

LEARNER = "15550009876"


@pytest.fixture
def worker(function_env: Any, redis_client: redis.Redis[bytes]) -> QueueWorker:
    return QueueWorker(LocalFifoQueue(redis_client, "inbound"), tutor.handler)


def last_reply(graph: GraphEmulator) -> dict[str, Any]:
    """The last message with text (a listening exercise's voice note follows its text)."""
    sent = [m["body"] for m in graph.messages() if m["to"] == LEARNER]
    body: dict[str, Any] = [b for b in sent if b["type"] in ("text", "interactive")][-1]
    return body


def body_text(body: dict[str, Any]) -> str:
    return str(body["text"]["body"] if body["type"] == "text" else body["interactive"]["body"]["text"])


def memories(database_url: str) -> list[tuple[int, str, str]]:
    with psycopg.connect(database_url) as conn:
        return [
            (int(r[0]), r[1], r[2])
            for r in conn.execute("SELECT id, kind, content FROM memories ORDER BY id")
        ]


def practise_once_wrong(context: Any, worker: QueueWorker) -> None:
    say(context, wamid="wamid.M1", button=("practice", "Practicar"))
    worker.run_once()
    say(context, wamid="wamid.M2", text="zzz")
    worker.run_once()


def test_answers_become_memories_and_memoria_lists_them_with_rows_to_forget(
    worker: QueueWorker, graph_emulator: GraphEmulator, database_url: str, lambda_context: Any
) -> None:
    """Forged or stale row ids forget nothing; a forgotten memory is gone from the list and the table;
    the "memoria" exchange itself is not remembered."""
    practise_once_wrong(lambda_context, worker)
    stored = memories(database_url)
    wrong = [m for m in stored if "«zzz»" in m[2]]
    assert len(wrong) == 1
    assert wrong[0][1] == "new_concept"
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM review_items").fetchone() == (1,)

    say(lambda_context, wamid="wamid.M3", text="Memoria")
    worker.run_once()
    reply = last_reply(graph_emulator)
    assert reply["interactive"]["type"] == "list"
    rows = reply["interactive"]["action"]["sections"][0]["rows"]
    ids = [r["id"] for r in rows]
    assert f"mem:forget:{wrong[0][0]}" in ids
    assert ids[-1] == "mem:forget-all"
    assert len(rows) <= 10
    assert all(len(r["title"]) <= 24 for r in rows)
    assert "zzz" in body_text(reply)

    say(lambda_context, wamid="wamid.M4", row=("mem:forget:999999", "Olvidar 1"))  # someone else's / stale
    worker.run_once()
    assert body_text(last_reply(graph_emulator)).startswith("No encuentro")
    say(lambda_context, wamid="wamid.M5", row=(f"mem:forget:{wrong[0][0]}", "Olvidar 1"))
    worker.run_once()
    assert body_text(last_reply(graph_emulator)).startswith("🗑️ Listo")
    assert all(m[0] != wrong[0][0] for m in memories(database_url))
    assert not any("emoria" in m[2] for m in memories(database_url))

    say(lambda_context, wamid="wamid.M6", row=("mem:forget-all", "Olvidar todo"))
    worker.run_once()
    buttons = last_reply(graph_emulator)["interactive"]["action"]["buttons"]
    assert [b["reply"]["id"] for b in buttons] == ["mem:forget-all:yes", "mem:list"]
    say(lambda_context, wamid="wamid.M7", button=("mem:forget-all:yes", "Sí, olvidar todo"))
    worker.run_once()
    assert memories(database_url) == []
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM review_items").fetchone() == (0,)


def test_a_memory_failure_never_fails_the_turn(
    worker: QueueWorker,
    graph_emulator: GraphEmulator,
    database_url: str,
    lambda_context: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Memory table gone (a broken migration, a locked table): the learner is answered, the turn is
    recorded as answered, and the log says so without the message text."""
    say(lambda_context, wamid="wamid.X0", text="hola")
    worker.run_once()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE memories RENAME TO memories_away")
    caplog.set_level(logging.WARNING, logger="espaluz.memory.service")
    say(lambda_context, wamid="wamid.X1", button=("practice", "Practicar"))
    worker.run_once()
    say(lambda_context, wamid="wamid.X2", text="zzzsecreto")
    worker.run_once()
    assert body_text(last_reply(graph_emulator)).startswith("❌ No exactamente: la respuesta es")
    with psycopg.connect(database_url) as conn:
        statuses = [r[0] for r in conn.execute("SELECT status FROM turns ORDER BY received_at")]
    assert statuses == ["answered"] * 3
    failures = [r for r in caplog.records if r.getMessage() == "memory not recorded"]
    assert failures
    assert all("zzzsecreto" not in str(r.__dict__) for r in caplog.records)


def test_a_tutor_configured_with_another_dimension_refuses_to_start(function_env: Any) -> None:
    """EMBEDDING_DIM differing from the schema's vector(512): a clear startup error, not silent writes."""
    function_env(EMBEDDING_DIM="1024")
    with pytest.raises(EmbeddingSchemaError, match=r"vector\(512\)"):
        tutor.processor()


def test_a_wrong_answer_comes_back_as_a_review_when_the_learner_asks_to_practise(
    worker: QueueWorker, graph_emulator: GraphEmulator, database_url: str, lambda_context: Any
) -> None:
    """The correction becomes a drill: once due (the clock moved on), "Practicar" brings back the item the
    learner got wrong; answering it right is a review rated Good that moves it out."""
    practise_once_wrong(lambda_context, worker)
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute("SELECT id, prompt, expected, due FROM review_items").fetchone()
        assert row is not None
        item_id, prompt, expected, first_due = row
        # Not due yet (FSRS's first step is 10 minutes): a fresh drill, not the review.
        say(lambda_context, wamid="wamid.R0", text="otra")
        worker.run_once()
        assert "Repaso" not in body_text(last_reply(graph_emulator))
        say(lambda_context, wamid="wamid.R0b", text="zzz")  # answer that drill (wrong) to clear it
        worker.run_once()
        due = datetime.now(UTC) - timedelta(minutes=1)
        conn.execute("UPDATE review_items SET due = %s WHERE id = %s", (due, item_id))
    say(lambda_context, wamid="wamid.R1", button=("practice", "Practicar"))
    worker.run_once()
    question = body_text(last_reply(graph_emulator))
    assert question.startswith("🔁 *Repaso*: la última vez escribiste «zzz»")
    assert prompt.replace("___", "……") in question  # the blank shown as WhatsApp shows it
    say(lambda_context, wamid="wamid.R2", text=expected.split("|")[0])
    worker.run_once()
    assert body_text(last_reply(graph_emulator)).startswith("✅")
    with psycopg.connect(database_url) as conn:
        reviews, due = conn.execute(
            "SELECT reviews, due FROM review_items WHERE id = %s", (item_id,)
        ).fetchone()  # type: ignore[misc]
        kinds = [
            r[0] for r in conn.execute("SELECT kind FROM memories WHERE content LIKE 'Acierto%' ORDER BY id")
        ]
    assert reviews >= 1
    assert due > first_due
    assert kinds[-1] == "complex_success"  # right after an error on the skill: a breakthrough
