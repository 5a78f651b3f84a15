"""The migration deploy step and the data-request command, on a real PostgreSQL with pgvector.

Failures covered: a deploy step run twice (or two at once: a retried invoke racing the first) must
apply each migration exactly once; a learner deletion must take every row keyed to the learner with it
(a table added without ON DELETE CASCADE would make it fail); an unconfirmed or unknown deletion must
change nothing; RDS Proxy mode must turn psycopg's prepared statements off.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from espaluz.config import get_settings
from espaluz.storage import learners
from espaluz.storage.commands import learner
from espaluz.storage.postgres import MIGRATIONS_DIR, close_pools, get_pool, migrate
from espaluz.storage.redis import RedisClient

ALL_MIGRATIONS = sorted(
    p.name.removesuffix(".sql") for p in Path(MIGRATIONS_DIR).glob("*.sql") if ".rollback" not in p.name
)


@pytest.fixture
def empty_database(pg_server: Any) -> Iterator[str]:
    admin = pg_server.get_uri()
    name = "m_" + uuid.uuid4().hex[:12]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    head, _, tail = admin.partition("@/")
    yield f"{head}@/{name}?{tail.partition('?')[2]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_the_migrate_function_is_idempotent(
    empty_database: str, monkeypatch: pytest.MonkeyPatch, lambda_context: Any
) -> None:
    from functions.migrate import handler

    monkeypatch.setenv("DATABASE_URL", empty_database)
    monkeypatch.delenv("ESPALUZ_SECRETS", raising=False)
    get_settings.cache_clear()
    try:
        first = handler.handler({}, lambda_context)
        second = handler.handler({}, lambda_context)
    finally:
        get_settings.cache_clear()
    assert first == {"applied": ALL_MIGRATIONS}
    assert second == {"applied": []}
    with psycopg.connect(empty_database) as conn:
        vector = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone()
        applied = conn.execute("SELECT count(*) FROM _yoyo_migration").fetchone()
    assert vector is not None
    assert applied == (len(ALL_MIGRATIONS),)


def test_the_migrate_function_reads_its_database_from_secrets_manager(
    empty_database: str, aws_env: str, monkeypatch: pytest.MonkeyPatch, lambda_context: Any
) -> None:
    """The deployed path: no DATABASE_URL in the environment, only ESPALUZ_SECRETS naming a secret."""
    import boto3

    from espaluz.ops import secrets
    from functions.migrate import handler

    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", aws_env)
    arn = boto3.client("secretsmanager").create_secret(
        Name=f"espaluz/test/database-{uuid.uuid4().hex[:8]}",
        SecretString=json.dumps({"DATABASE_URL": empty_database}),
    )["ARN"]
    monkeypatch.setenv("DATABASE_URL", "")  # restored afterwards, whatever the loader writes
    monkeypatch.setenv("ESPALUZ_SECRETS", arn)
    secrets.clear_cache()
    get_settings.cache_clear()
    try:
        assert handler.handler({}, lambda_context) == {"applied": ALL_MIGRATIONS}
    finally:
        get_settings.cache_clear()
        secrets.clear_cache()


def test_concurrent_deploy_steps_apply_each_migration_once(empty_database: str) -> None:
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(migrate(empty_database))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert sorted(m for r in results for m in r) == ALL_MIGRATIONS
    assert migrate(empty_database) == []


@pytest.fixture
def db_env(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """The database, and no Redis: no REDIS_URL, and a data folder where no `espaluz dev` runs (the
    default one may hold a developer's running stack, which the CLI would otherwise reach)."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("ESPALUZ_DATA_DIR", str(tmp_path))
    return database_url


def _learner_with_history(url: str, wa_id: str) -> uuid.UUID:
    with psycopg.connect(url) as conn:
        found = learners.upsert(conn, learners.Identity(bsuid=None, wa_id=wa_id, name="Ana"), "100")
        conn.execute("INSERT INTO turns (wamid, learner_id) VALUES (%s, %s)", (f"wamid.{wa_id}", found.id))
        conn.execute(
            """INSERT INTO drill_attempts (learner_id, skill, prompt, expected, answer, verdict)
               VALUES (%s, 'ser', 'yo ...', 'soy', 'soy', 'correct')""",
            (found.id,),
        )
    return found.id


def _rows_for(url: str, learner_id: uuid.UUID) -> int:
    with psycopg.connect(url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                """SELECT DISTINCT tc.table_name FROM information_schema.table_constraints tc
                   JOIN information_schema.constraint_column_usage ccu USING (constraint_name)
                   WHERE tc.constraint_type = 'FOREIGN KEY' AND ccu.table_name = 'learners'"""
            )
        ]
        total = conn.execute("SELECT count(*) FROM learners WHERE id = %s", (learner_id,)).fetchone()
        count = total[0] if total else 0
        for table in tables:
            query = sql.SQL("SELECT count(*) FROM {} WHERE learner_id = %s").format(sql.Identifier(table))
            row = conn.execute(query, (learner_id,)).fetchone()
            count += row[0] if row else 0
    return int(count)


def test_learner_delete_removes_every_row_keyed_to_the_learner(db_env: str) -> None:
    gone = _learner_with_history(db_env, "15550001111")
    kept = _learner_with_history(db_env, "15550002222")
    assert _rows_for(db_env, gone) == 3
    result = CliRunner().invoke(learner, ["delete", "15550001111", "--yes", "--json"])
    assert result.exit_code == 0, result.output
    assert f'"deleted": "{gone}"' in result.output
    assert '"dead_letters_deleted": null' in result.output  # no Redis reachable: said, not failed
    assert "no local Redis data in" in result.output  # said, and the rows still went
    assert _rows_for(db_env, gone) == 0
    assert _rows_for(db_env, kept) == 3
    # Every table keyed to a learner goes with it: a new one without ON DELETE CASCADE fails here.
    with psycopg.connect(db_env) as conn:
        rules = conn.execute(
            """SELECT conrelid::regclass::text, confdeltype FROM pg_constraint
               WHERE contype = 'f' AND confrelid = 'learners'::regclass"""
        ).fetchall()
    assert rules
    assert {rule for _, rule in rules} == {"c"}, rules  # c: ON DELETE CASCADE


def test_learner_delete_needs_confirmation_and_an_existing_learner(db_env: str) -> None:
    kept = _learner_with_history(db_env, "15550003333")
    declined = CliRunner().invoke(learner, ["delete", "15550003333"], input="n\n")
    assert declined.exit_code == 1
    assert _rows_for(db_env, kept) == 3
    unknown = CliRunner().invoke(learner, ["delete", "15559999999", "--yes"])
    assert unknown.exit_code == 1
    assert "no such learner" in unknown.output


def test_learner_delete_also_drops_conversation_state(
    db_env: str, redis_url: str, redis_client: RedisClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI builds its own Redis client from REDIS_URL and REDIS_CLUSTER (set by the ``redis_url``
    fixture): with ESPALUZ_TEST_REDIS=cluster a single-node client would be refused (MOVED)."""
    from espaluz.tutor.state import StateStore

    learner_id = _learner_with_history(db_env, "15550004444")
    key = StateStore.key(learner_id)
    redis_client.set(key, "{}")
    monkeypatch.setenv("REDIS_URL", redis_url)
    result = CliRunner().invoke(learner, ["delete", "15550004444", "--yes", "--json"])
    assert result.exit_code == 0, result.output
    assert '"conversation_state_deleted": true' in result.output
    assert redis_client.get(key) is None


@pytest.mark.parametrize(("behind_proxy", "expected"), [("true", None), ("false", 5)])
def test_prepared_statements_are_off_behind_rds_proxy(
    database_url: str, monkeypatch: pytest.MonkeyPatch, behind_proxy: str, expected: int | None
) -> None:
    monkeypatch.setenv("DATABASE_BEHIND_PROXY", behind_proxy)
    get_settings.cache_clear()
    close_pools()
    try:
        with get_pool(database_url, max_size=1).connection() as conn:
            assert conn.prepare_threshold == expected
            for _ in range(6):  # past psycopg's default threshold: nothing prepared behind a proxy
                conn.execute("SELECT %s::int", (1,))
            prepared = conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
    finally:
        close_pools()
        get_settings.cache_clear()
    assert prepared is not None
    assert (prepared[0] == 0) == (expected is None)
