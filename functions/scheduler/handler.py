"""Lambda entry point of the scheduler: one pass of ``espaluz.scheduler.tick`` per invocation.

EventBridge invokes it every 5 minutes (serverless.yml). A pass selects what is due, claims it in
``proactive_messages`` and puts the envelopes on the tutor's inbound FIFO queue, which composes and sends
them. The pass runs at the invocation's clock (``datetime.now(UTC)``), not the event's ``time``: a late or
retried delivery then works from the present. An operator's manual invoke may name another time:

    npx osls invoke --function scheduler --data '{"at": "2026-12-04T19:00:00+01:00"}'

When the queue refuses, the pass raises: its claims roll back, so nothing is lost and the next pass (or the
async invocation's one retry) tries again. Settings: ``DATABASE_URL`` (from ``DATABASE_HOST`` and the
database secret) and ``QUEUE_URL``, the tutor's inbound queue.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from espaluz.config import get_settings
from espaluz.ops.observability import configure_logging, invocation
from espaluz.scheduler.tick import parse_at, tick_from_settings

logger = Logger(service="espaluz-scheduler", log_uncaught_exceptions=True)
configure_logging(logger)


def requested_time(event: dict[str, Any] | None) -> datetime:
    """The pass's time: ``{"at": ISO8601}`` from a manual invoke (a naive time is taken as UTC), else now.

    Raises ``ValueError`` for an ``at`` that is not an ISO 8601 time, so a mistyped invoke fails loudly
    instead of running at the wrong hour."""
    at = (event or {}).get("at")
    return datetime.now(UTC) if at is None else parse_at(at)


@invocation(logger)
def handler(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    result = tick_from_settings(get_settings(), requested_time(event)).to_json()
    logger.info("scheduler pass done", extra={"result": result})
    return result
