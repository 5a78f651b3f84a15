"""Migrations through yoyo on a real PostgreSQL: versioned, recorded, safe to run again."""

from __future__ import annotations

import psycopg

from espaluz.storage.postgres import migrate


def test_migrations_are_recorded_and_idempotent(database_url: str) -> None:
    # The template was migrated once; running again applies nothing and changes nothing.
    assert migrate(database_url) == []
    assert migrate(database_url) == []
    with psycopg.connect(database_url) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        vector = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
    assert {"learners", "turns", "drill_attempts", "stripe_events"} <= tables
    assert vector is not None
