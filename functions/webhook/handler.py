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
from espaluz.ops.observability import configure_logging

if TYPE_CHECKING:
    from espaluz.whatsapp.inbound import WebhookService

logger = Logger(service="espaluz-webhook", log_uncaught_exceptions=True)
configure_logging(logger)  # the library's records as JSON lines too (no personal data: see inbound.py)


@lru_cache(maxsize=1)
def service() -> WebhookService:
    from espaluz.whatsapp.inbound import build_service

    return build_service(get_settings())


def health(_: Request) -> Response:
    return Response.json(200, {"status": "ok"})


ROUTES = {
    ("GET", "/webhooks/whatsapp"): lambda r: service().verify_subscription(r),
    ("POST", "/webhooks/whatsapp"): lambda r: service().receive(r),
    ("GET", "/healthz"): health,
}


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return dispatch(event, ROUTES)
