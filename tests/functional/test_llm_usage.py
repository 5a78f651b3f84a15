"""LLM usage in Postgres, `espaluz costs` and `espaluz report` on constructed data (real Postgres)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from espaluz.cli import main
from espaluz.config import get_settings
from espaluz.llm.types import Usage
from espaluz.llm.usage import record_usage
from espaluz.storage.learners import Learner
from espaluz.storage.postgres import MIGRATIONS_DIR, migrate, yoyo_url
from espaluz.tutor.agents.brain import TutorBrain
from espaluz.tutor.state import ConversationState
from tests.providers import ProviderServers


@pytest.fixture
def db_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv(
        "LLM_PRICES", json.dumps({"c": {"in": 3, "out": 15, "cache_read": 0.3}, "g": {"in": 1, "out": 2}})
    )
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def add_learner(conn: psycopg.Connection[Any], wa_id: str) -> uuid.UUID:
    row = conn.execute("INSERT INTO learners (wa_id) VALUES (%s) RETURNING id", (wa_id,)).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def usage_row(
    conn: psycopg.Connection[Any],
    learner: uuid.UUID,
    wamid: str,
    model: str,
    t_in: int,
    t_out: int,
    when: datetime,
    outcome: str = "ok",
    cache_read: int = 0,
) -> None:
    provider = "claude" if model.startswith("c") else "groq"
    conn.execute(
        """INSERT INTO llm_usage (learner_id, wamid, agent, provider, model, tokens_in, tokens_out,
                                  cache_read_tokens, outcome, created_at)
           VALUES (%s, %s, 'conversation', %s, %s, %s, %s, %s, %s, %s)""",
        (learner, wamid, provider, model, t_in, t_out, cache_read, outcome, when),
    )


def test_brain_usage_is_stored_per_turn_with_tokens_and_provider(database_url: str) -> None:
    """Usage of every call of a real turn (a failed call included: Groq's 500 to the partner, whose route
    then goes to Claude Haiku) lands in llm_usage under its wamid, with each call's model."""
    from tests.providers import Answer

    with psycopg.connect(database_url) as conn:
        learner_id = add_learner(conn, "34611111111")
    learner = Learner(learner_id, "34611111111", None, "", "", "A2", "latam", "en", "free", "none")
    with ProviderServers() as servers:
        servers.groq.push(Answer(status=500, when="conversation partner"))
        answer = TutorBrain.from_settings(servers.settings()).answer(
            learner, ConversationState(), "Hoy yo es muy feliz", deadline=5.0
        )
    with psycopg.connect(database_url) as conn:
        assert record_usage(conn, learner_id, "wamid.TEST1", answer.usages) == len(answer.usages) == 4
        rows = conn.execute(
            "SELECT agent, provider, model, outcome, tokens_in, tokens_out FROM llm_usage WHERE wamid = %s"
            " ORDER BY id",
            ("wamid.TEST1",),
        ).fetchall()
    assert [(a, p, m, o) for a, p, m, o, _, _ in rows] == [
        ("intent", "groq", "llama-3.1-8b-instant", "ok"),
        ("conversation", "groq", "openai/gpt-oss-120b", "server_error"),
        ("conversation", "claude", "claude-haiku-4-5", "ok"),
        ("grammar", "groq", "openai/gpt-oss-120b", "ok"),
    ]
    assert all(t_in > 0 and t_out > 0 for _, _, _, o, t_in, t_out in rows if o == "ok")
    assert rows[1][4:] == (0, 0)  # a failed call costs nothing but is kept


def test_usage_rows_reject_bad_values(database_url: str) -> None:
    """Bad input at the database: negative tokens and an unknown provider are refused."""
    with psycopg.connect(database_url) as conn:
        learner_id = add_learner(conn, "34622222222")
    bad = Usage("x", "groq", "g", -1, 0, 5)
    with psycopg.connect(database_url) as conn, pytest.raises(psycopg.errors.CheckViolation):
        record_usage(conn, learner_id, "wamid.BAD", [bad])


def test_costs_per_learner_per_month(db_env: str) -> None:
    """Costs from constructed usage: per-model prices, cache-read price, failed calls, unpriced models,
    month boundaries in UTC."""
    oct_ = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)
    nov = datetime(2026, 11, 1, 0, 30, tzinfo=UTC)
    with psycopg.connect(db_env) as conn:
        a, b = add_learner(conn, "34633333333"), add_learner(conn, "34644444444")
        usage_row(conn, a, "w1", "c", 1_000_000, 100_000, oct_)  # 3 + 1.5
        usage_row(conn, a, "w1", "g", 0, 0, oct_, outcome="server_error")
        usage_row(conn, a, "w2", "g", 2_000_000, 1_000_000, oct_)  # 2 + 2
        usage_row(conn, a, "w3", "c", 0, 0, nov, cache_read=1_000_000)  # 0.3
        usage_row(conn, a, "w4", "mystery", 10, 10, nov)
        usage_row(conn, b, "w5", "g", 500_000, 0, oct_)  # 0.5
    result = CliRunner().invoke(main, ["costs", "--json"])
    assert result.exit_code == 0, result.output
    rows = {(r["learner_id"], r["month"]): r for r in map(json.loads, result.output.splitlines())}
    a_oct = rows[(str(a), "2026-10")]
    assert a_oct["cost_usd"] == pytest.approx(8.5)
    assert (a_oct["calls"], a_oct["failed_calls"], a_oct["turns"]) == (3, 1, 2)
    assert a_oct["tokens_in"] == 3_000_000
    assert a_oct["by_model"]["c"]["provider"] == "claude"
    a_nov = rows[(str(a), "2026-11")]
    assert a_nov["cost_usd"] == pytest.approx(0.3)
    assert a_nov["unpriced_models"] == ["mystery"]
    assert rows[(str(b), "2026-10")]["cost_usd"] == pytest.approx(0.5)
    assert len(rows) == 3

    only = CliRunner().invoke(main, ["costs", "--json", "--month", "2026-11"])
    assert [json.loads(line)["month"] for line in only.output.splitlines()] == ["2026-11"]
    text = CliRunner().invoke(main, ["costs"])
    assert "total 9.3000 USD" in text.output
    bad = CliRunner().invoke(main, ["costs", "--month", "november"])
    assert bad.exit_code != 0


def add_turn(
    conn: psycopg.Connection[Any], learner: uuid.UUID, when: datetime, ms: int | None, route: str
) -> None:
    conn.execute(
        """INSERT INTO turns (wamid, learner_id, status, route, received_at, latency_ms)
           VALUES (%s, %s, 'answered', %s, %s, %s)""",
        (f"wamid.{uuid.uuid4().hex}", learner, route, when, ms),
    )


def test_report_dau_mau_turns_and_latency(db_env: str) -> None:
    """Activity report on constructed turns: days in UTC, MAU over 30 days, percentiles per day and route,
    an unanswered turn (no latency) counted as a turn but not in the percentiles."""
    day = datetime(2026, 11, 20, 12, tzinfo=UTC)
    with psycopg.connect(db_env) as conn:
        a, b, c = (add_learner(conn, f"3465555555{i}") for i in range(3))
        for ms in (100, 200, 300):
            add_turn(conn, a, day, ms, "engine.check")
        add_turn(conn, b, day, 1000, "llm.conversation")
        add_turn(conn, b, day, None, "llm.conversation")
        add_turn(conn, a, day - timedelta(days=1), 50, "engine.ask")
        add_turn(conn, c, day - timedelta(days=10), 70, "greeting")
        add_turn(conn, c, day - timedelta(days=40), 70, "greeting")  # outside the 30-day window
    result = CliRunner().invoke(main, ["report", "--json", "--date", "2026-11-20", "--days", "2"])
    assert result.exit_code == 0, result.output
    before, last = map(json.loads, result.output.splitlines())
    assert before["date"] == "2026-11-19"
    assert (before["active_learners"], before["mau"], before["dau_mau"]) == (1, 2, 0.5)
    assert last["active_learners"] == 2
    assert last["mau"] == 3
    assert last["dau_mau"] == pytest.approx(0.6667)
    assert last["turns"] == 5
    assert last["turns_per_learner"] == 2.5
    assert last["latency_ms"] == {"p50": 250, "p95": 895, "p99": 979}
    assert last["routes"]["engine.check"] == {"turns": 3, "p50_ms": 200, "p95_ms": 290}
    text = CliRunner().invoke(main, ["report", "--date", "2026-11-20", "--days", "1"])
    assert "2026-11-20" in text.output
    assert "0.67" in text.output
    assert CliRunner().invoke(main, ["report", "--date", "20/11/2026"]).exit_code != 0


def test_migration_rolls_back_and_reapplies(database_url: str) -> None:
    """The 0005 rollback drops llm_usage and the migration applies again cleanly."""
    from yoyo import get_backend, read_migrations

    backend = get_backend(yoyo_url(database_url))
    try:
        ours = read_migrations(str(MIGRATIONS_DIR)).filter(lambda m: m.id == "0005.llm_usage")
        with backend.lock():
            backend.rollback_migrations(backend.to_rollback(ours))
    finally:
        backend.connection.close()
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT to_regclass('llm_usage')").fetchone() == (None,)
    assert migrate(database_url) == ["0005.llm_usage"]
