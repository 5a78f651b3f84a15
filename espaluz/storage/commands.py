"""``espaluz migrate`` and ``espaluz learner show|delete``: database commands for operators and the local
stack.

Both use ``DATABASE_URL`` when set, else the local stack's embedded database under ``ESPALUZ_DATA_DIR``
(started for the command and stopped after it)."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from espaluz.config import default_data_dir


@contextlib.contextmanager
def _database_url() -> Iterator[str]:
    url = os.environ.get("DATABASE_URL", "")
    if url:
        yield url
        return
    from espaluz.dev.services import StartupError, check_data_dir, start_services

    data_dir = Path(os.environ.get("ESPALUZ_DATA_DIR") or default_data_dir()).expanduser()
    try:
        check_data_dir(data_dir)
        services = start_services(data_dir, with_redis=False)
    except StartupError as exc:
        click.echo(f"espaluz: {exc}", err=True)
        sys.exit(1)
    try:
        yield services.database_url
    finally:
        services.stop()


@click.command()
def migrate() -> None:
    """Apply pending database migrations (idempotent)."""
    from espaluz.storage.postgres import migrate as run_migrations

    with _database_url() as url:
        applied = run_migrations(url)
    click.echo(json.dumps({"applied": applied}))


@click.group()
def learner() -> None:
    """Inspect learners, and delete them on request."""


@learner.command("show")
@click.argument("whatsapp_id")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def show(whatsapp_id: str, as_json: bool) -> None:
    """Show a learner by phone number (wa_id) or business-scoped user id."""
    import psycopg

    from espaluz.storage import learners
    from espaluz.storage.postgres import migrate as run_migrations

    with _database_url() as url:
        run_migrations(url)
        with psycopg.connect(url) as conn:
            found = learners.find(conn, whatsapp_id)
    if found is None:
        click.echo(json.dumps({"error": "no such learner"}) if as_json else "no such learner", err=True)
        sys.exit(1)
    data = found.to_json()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
    else:
        for key, value in data.items():
            click.echo(f"{key:16} {value}")


@learner.command("delete")
@click.argument("whatsapp_id")
@click.option("--yes", is_flag=True, help="Delete without asking (required when not on a terminal).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def delete(whatsapp_id: str, yes: bool, as_json: bool) -> None:
    """Delete a learner and everything keyed to them (a data-deletion request).

    The learner row goes, and with it (ON DELETE CASCADE) their turns, drill attempts, billing rows,
    offers and preferences; their conversation state in Redis too when ``REDIS_URL`` is set (it expires
    within 24 hours otherwise). Stripe keeps its own customer record: cancel or delete it in Stripe."""
    import psycopg

    from espaluz.storage import learners

    with _database_url() as url, psycopg.connect(url) as conn:
        found = learners.find(conn, whatsapp_id)
        if found is None:
            click.echo(json.dumps({"error": "no such learner"}) if as_json else "no such learner", err=True)
            sys.exit(1)
        if not yes and not click.confirm(f"Delete learner {found.id} and all their data?", default=False):
            click.echo("not deleted", err=True)
            sys.exit(1)
        conn.execute("DELETE FROM learners WHERE id = %s", (found.id,))
    state_deleted = False
    redis_url = os.environ.get("REDIS_URL", "")
    if redis_url:
        from espaluz.config import Settings
        from espaluz.storage.redis import get_redis
        from espaluz.tutor.state import StateStore

        # Read now, not from the cached get_settings(): like REDIS_URL above, the environment of this call.
        cluster = Settings().redis_cluster
        StateStore(get_redis(redis_url, cluster=cluster), 0).delete(found.id)
        state_deleted = True
    result = {"deleted": str(found.id), "conversation_state_deleted": state_deleted}
    click.echo(json.dumps(result) if as_json else f"deleted learner {found.id}")
