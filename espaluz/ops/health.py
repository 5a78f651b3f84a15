"""``GET /healthz``: does each dependency answer, within a short bound.

Where it lives: API Gateway routes ``/healthz`` to the webhook function, so production's health check is
the webhook's, and it checks what the webhook needs to accept Meta's posts: Redis (wamid de-duplication)
and its queue setting. It does not check Postgres: the webhook has no Postgres access by design (no
database on Meta's path, see the architecture note), and a health check must not give a function a
dependency its real path does not have; a database outage shows in the tutor's and billing's own errors
and alarms. The local stack's ``/healthz`` answers for the whole stack (the three functions share one
process), so it adds Postgres to the webhook's answer (``espaluz.dev.app``).

Bounded: the checks run at once on a small pool and get ``HEALTH_TIMEOUT_S`` together; one that has not
answered by then is reported ``timeout`` and left to end on its own (the Redis client's and psycopg's own
timeouts end it). A failure names the dependency and whether it failed or was late, never the error text
(the endpoint is public); the exception's type goes to the log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

logger = logging.getLogger(__name__)

HEALTH_TIMEOUT_S = 1.5
POSTGRES_CONNECT_TIMEOUT_S = 2  # libpq's minimum; the pool's wait below is what bounds the answer
OK, UNAVAILABLE, TIMEOUT = "ok", "unavailable", "timeout"

Check = Callable[[], object]  # returns when the dependency answers, raises when it does not
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="health")


def run_checks(checks: Mapping[str, Check], timeout_s: float = HEALTH_TIMEOUT_S) -> dict[str, str]:
    """Each check's result (``ok``, ``unavailable`` or ``timeout``), all within ``timeout_s``."""
    futures = {name: _POOL.submit(check) for name, check in checks.items()}
    deadline = time.monotonic() + timeout_s
    results: dict[str, str] = {}
    for name, future in futures.items():
        try:
            future.result(timeout=max(0.0, deadline - time.monotonic()))
            results[name] = OK
        except FutureTimeout:
            results[name] = TIMEOUT
            logger.warning("health check %s did not answer in time", name)
        except Exception as exc:
            results[name] = UNAVAILABLE
            logger.warning("health check %s failed", name, extra={"reason": type(exc).__name__})
    return results


def report(results: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
    """The HTTP status and body: 200 when every check is ``ok``, else 503; the body names each check."""
    healthy = all(result == OK for result in results.values())
    body = {"status": "ok" if healthy else UNAVAILABLE, "checks": dict(results)}
    return (200 if healthy else 503), body


def queue_configured(queue_url: str) -> None:
    """The webhook's queue is a setting (no network call: an SQS call per check would cost a request and
    the webhook's sends report SQS trouble as 503s anyway)."""
    if not queue_url:
        raise RuntimeError("QUEUE_URL is not set")


def postgres_answers(database_url: str) -> None:
    """A fresh connection and ``SELECT 1`` (the local stack's check; psycopg imported only here)."""
    import psycopg

    with psycopg.connect(database_url, connect_timeout=POSTGRES_CONNECT_TIMEOUT_S) as conn:
        conn.execute("SELECT 1")
