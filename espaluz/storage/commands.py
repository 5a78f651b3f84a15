"""``espaluz migrate`` and ``espaluz learner show``: database commands for operators and the local stack.

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
    """Inspect learners."""


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
