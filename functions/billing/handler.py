"""Lambda entry point for Stripe webhooks (API Gateway HTTP API, payload v2): POST /webhooks/stripe.

The service (``espaluz.billing.events``) is built on first use: Postgres pool, the Stripe client (for
re-reading subscriptions and portal links) and the WhatsApp client for chat notices. It needs
``STRIPE_WEBHOOK_SECRET``, ``STRIPE_API_KEY`` and ``DATABASE_URL``; without the first two every event is
answered 500 so that Stripe keeps it and retries (for up to three days). ``WHATSAPP_ACCESS_TOKEN`` is
optional: without it the notices are skipped and logged.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from espaluz.config import get_settings
from espaluz.httpapi import dispatch
from espaluz.ops.observability import http_request_id, invocation

if TYPE_CHECKING:
    from espaluz.billing.events import StripeWebhookService

logger = Logger(service="espaluz-billing", log_uncaught_exceptions=True)


@lru_cache(maxsize=1)
def service() -> StripeWebhookService:
    from espaluz.billing.events import build_service

    return build_service(get_settings())


ROUTES = {("POST", "/webhooks/stripe"): lambda r: service().receive(r)}


@invocation(logger, http_request_id)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return dispatch(event, ROUTES)
