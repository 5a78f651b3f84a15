"""PostgreSQL access: one small pool per process, and schema migrations.

In Lambda the pool holds one connection that a warm container reuses (``max_size=1``); the local stack
shares a few between the HTTP threads and the queue worker. ``check_connection`` replaces a connection
the server closed (Aurora scaling, a restart) before handing it out, so a database that went away and came
back costs one reconnect, not an error.

Migrations are the SQL files under ``infra/migrations``, applied in order by yoyo (versioned, recorded in
the database, safe to run again).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from psycopg_pool import ConnectionPool

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "infra" / "migrations"


_POOLS: dict[tuple[str, int], ConnectionPool] = {}
_LOCK = threading.Lock()


def get_pool(url: str, max_size: int = 4) -> ConnectionPool:
    """The process's pool for ``url`` (created on first use)."""
    if not url:
        raise RuntimeError("DATABASE_URL is not set")
    with _LOCK:
        pool = _POOLS.get((url, max_size))
        if pool is None:
            pool = ConnectionPool(
                url,
                min_size=1,
                max_size=max_size,
                open=True,
                timeout=10.0,
                check=ConnectionPool.check_connection,
                kwargs=connection_kwargs(),
            )
            _POOLS[(url, max_size)] = pool
        return pool


def connection_kwargs() -> dict[str, Any]:
    """psycopg connection options. Behind RDS Proxy (``DATABASE_BEHIND_PROXY``), automatic prepared
    statements are off (``prepare_threshold=None``): a prepared statement pins the client to one backend
    connection, which defeats the proxy's multiplexing."""
    from espaluz.config import get_settings

    kwargs: dict[str, Any] = {"connect_timeout": 5}
    if get_settings().database_behind_proxy:
        kwargs["prepare_threshold"] = None
    return kwargs


def close_pools() -> None:
    """Close every pool (tests and the local stack call this on shutdown)."""
    with _LOCK:
        for pool in _POOLS.values():
            pool.close()
        _POOLS.clear()


def yoyo_url(url: str) -> str:
    """yoyo names the psycopg 3 driver in the URL scheme."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def migrate(url: str, migrations_dir: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply pending migrations; returns the ids applied (empty when up to date)."""
    from yoyo import get_backend, read_migrations

    backend = get_backend(yoyo_url(url))
    try:
        migrations = read_migrations(str(migrations_dir))
        with backend.lock():
            pending = backend.to_apply(migrations)
            backend.apply_migrations(pending)
        return [m.id for m in pending]
    finally:
        backend.connection.close()
