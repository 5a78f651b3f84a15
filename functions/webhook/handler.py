"""Lambda entry point for Meta's WhatsApp webhooks (API Gateway HTTP API, payload v2).

Routes: GET /webhooks/whatsapp (subscription check), POST /webhooks/whatsapp (updates), GET /healthz.
The service is built on first use, not at import, so a cold start pays only for what it runs.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from espaluz.config import get_settings
from espaluz.httpapi import Request, Response, dispatch
from espaluz.ops.observability import configure_logging, http_request_id, invocation

if TYPE_CHECKING:
    from collections.abc import Callable

    from espaluz.whatsapp.inbound import WebhookService

logger = Logger(service="espaluz-webhook", log_uncaught_exceptions=True)
configure_logging(logger)  # the library's records as JSON lines too (no personal data: see inbound.py)


@lru_cache(maxsize=1)
def service() -> WebhookService:
    from espaluz.whatsapp.inbound import build_service

    return build_service(get_settings())


def health(_: Request) -> Response:
    """Redis and the queue setting, what this function needs (espaluz/ops/health.py says why not
    Postgres): 200 when both answer, 503 naming the one that did not, within about 1.5 s. The checks
    are imported here, off the cold start of the path Meta waits on."""
    from espaluz.ops import health as checks

    settings = get_settings()

    def redis_answers() -> None:
        from espaluz.storage.redis import get_redis

        get_redis(settings.redis_url, cluster=settings.redis_cluster).ping()

    status, body = checks.report(
        checks.run_checks(
            {"redis": redis_answers, "queue": lambda: checks.queue_configured(settings.queue_url)}
        )
    )
    return Response.json(status, body)


def with_service(call: Callable[[WebhookService], Response]) -> Response:
    """A service that cannot be built answers 503, like Redis failing later, so that Meta retries (an
    update) or the operator sees why (the subscription check). That happens with ``REDIS_CLUSTER=true``:
    the cluster client reads the slot map when it is created."""
    try:
        built = service()
    except Exception as exc:
        reason = type(exc).__name__
        logger.error("webhook service unavailable; asking Meta to retry", extra={"reason": reason})
        return Response.error(503, "state unavailable")
    return call(built)


ROUTES = {
    ("GET", "/webhooks/whatsapp"): lambda r: with_service(lambda s: s.verify_subscription(r)),
    ("POST", "/webhooks/whatsapp"): lambda r: with_service(lambda s: s.receive(r)),
    ("GET", "/healthz"): health,
}


@invocation(logger, http_request_id)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return dispatch(event, ROUTES)
