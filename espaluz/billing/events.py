"""Stripe webhook events: verified, recorded, applied once.

The event id is inserted in the same transaction as the entitlement change, so a crash in the middle
rolls both back and Stripe's retry applies the event exactly once; a repeat of an applied event gets 200
and changes nothing. Event types we do not use are acknowledged and ignored.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import stripe

from espaluz.httpapi import Request, Response

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

logger = logging.getLogger(__name__)

SIGNATURE_TOLERANCE_SECONDS = 300
PAID_PLAN = "premium"


class StripeWebhookService:
    def __init__(self, webhook_secret: str, pool: ConnectionPool) -> None:
        self.webhook_secret = webhook_secret
        self.pool = pool

    def receive(self, request: Request) -> Response:
        header = request.header("stripe-signature")
        if not header:
            return Response.error(400, "missing Stripe-Signature")
        if not self.webhook_secret:
            logger.error("STRIPE_WEBHOOK_SECRET is not set")
            return Response.error(500, "billing not configured")
        try:
            event = stripe.Webhook.construct_event(  # type: ignore[no-untyped-call]
                request.body, header, self.webhook_secret, tolerance=SIGNATURE_TOLERANCE_SECONDS
            )
        except stripe.SignatureVerificationError:
            return Response.error(400, "bad signature")
        except ValueError:
            return Response.error(400, "body is not a Stripe event")
        try:
            applied = self._apply_once(event)
        except Exception:
            logger.exception("stripe event failed; Stripe will retry", extra={"event_id": event.id})
            return Response.error(500, "processing failed")
        return Response.json(200, {"received": True, "duplicate": not applied})

    def _apply_once(self, event: stripe.Event) -> bool:
        with self.pool.connection() as conn, conn.transaction():
            inserted = conn.execute(
                "INSERT INTO stripe_events (id, type, created_at) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                (event.id, event.type, datetime.fromtimestamp(event.created, UTC)),
            ).rowcount
            if not inserted:
                logger.info("stripe event repeated", extra={"event_id": event.id})
                return False
            handler = _HANDLERS.get(event.type)
            if handler is not None:
                handler(conn, event.data.object)
            logger.info("stripe event applied", extra={"event_id": event.id, "type": event.type})
            return True


def _checkout_completed(conn: psycopg.Connection[Any], session: Any) -> None:
    ref = session.get("client_reference_id")
    try:
        learner_id = UUID(str(ref))
    except ValueError:
        logger.warning("checkout without a learner reference", extra={"session": session.get("id")})
        return
    conn.execute(
        "UPDATE learners SET plan = %s, plan_status = 'active' WHERE id = %s", (PAID_PLAN, learner_id)
    )


_HANDLERS = {"checkout.session.completed": _checkout_completed}


def build_service(settings: Any) -> StripeWebhookService:
    from espaluz.storage.postgres import get_pool

    return StripeWebhookService(
        settings.stripe_webhook_secret.get_secret_value(), get_pool(settings.database_url)
    )
