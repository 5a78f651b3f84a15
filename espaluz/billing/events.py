"""Stripe webhook events: verified, recorded, applied once, in any order.

- Verification: ``Stripe-Signature`` over the raw body with Stripe's scheme (``t=..,v1=HMAC-SHA256``),
  by the ``stripe`` package's own ``WebhookSignature.verify_header``, with a 300 s tolerance both ways:
  the package refuses only timestamps too far in the past, so a timestamp more than 300 s ahead of our
  clock is refused here (a signature minted for later is as replayable as an old one).
- Signed but pathological bodies never get a 5xx, which Stripe retries for three days before disabling
  the endpoint. Not a Stripe event, 400, nothing recorded: not JSON, nested deeper than
  ``httpapi.MAX_DEPTH``, or an event id or type outside Stripe's alphabet (printable ASCII, no spaces, at
  most 255 characters: a NUL or lone surrogate there is not Stripe's, and Postgres would refuse it).
  Stripe's event but unusable, 200, recorded and ignored with a warning: a subscription event whose object
  has no id (Stripe will never send another version of it; a retry cannot help). Every other string is
  cleaned (``httpapi.clean_text``: NUL removed, lone surrogates replaced) before it reaches Postgres.
- Exactly once: the event id is inserted in the same transaction as its effect, so a crash in the middle
  rolls both back (answer 500, Stripe retries) and the retry applies the event once; a repeat of an applied
  event gets 200 and changes nothing.
- Order: handlers never trust an event's copy of a subscription. They take a per-subscription lock and
  read the subscription back from Stripe's API, then store that; whatever order the events arrive in, the
  last one applied leaves the state Stripe has now.
- Notices (thanks, payment failed with a portal link, cancellation scheduled, ended) go out through the
  ``notify`` port after the commit; a failed notice is logged, never turned into a 5xx.
- Event types we do not use are acknowledged (200) and recorded.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import stripe

from espaluz.billing import messages
from espaluz.billing.entitlements import (
    link_customer,
    lock_learner,
    lock_subscription,
    parse_learner_id,
    sync_subscription,
)
from espaluz.billing.plans import FREE, PREMIUM, Catalog
from espaluz.billing.stripe_client import PaymentsError
from espaluz.httpapi import Request, Response, TooDeep, clean_document

if TYPE_CHECKING:
    from collections.abc import Callable
    from uuid import UUID

    import psycopg
    from psycopg_pool import ConnectionPool

    from espaluz.billing.notify import Notify
    from espaluz.billing.stripe_client import Payments
    from espaluz.config import Settings
    from espaluz.whatsapp.outgoing import Reply

logger = logging.getLogger(__name__)

SIGNATURE_TOLERANCE_SECONDS = 300
# Stripe's ids ("evt_1Q...", "sub_...") and event types ("customer.subscription.updated").
_STRIPE_ID = re.compile(r"[!-~]{1,255}")
PAID_PLAN = PREMIUM


@dataclass(frozen=True, slots=True)
class Notice:
    """A chat message owed to a learner once the event is committed."""

    learner_id: UUID
    kind: str  # thanks | payment_failed | trial_ending | cancel_scheduled | ended
    customer_id: str = ""
    until: datetime | None = None


@dataclass
class _Ctx:
    conn: psycopg.Connection[Any]
    event: dict[str, Any]
    obj: dict[str, Any]
    payments: Payments
    catalog: Catalog

    @property
    def event_id(self) -> str:
        return str(self.event["id"])


class StripeWebhookService:
    def __init__(
        self,
        webhook_secret: str,
        pool: ConnectionPool,
        payments: Payments | None = None,
        catalog: Catalog | None = None,
        *,
        notify: Notify | None = None,
        portal_return_url: str = "https://wa.me/",
        clock: Callable[[], float] = time.time,
    ) -> None:
        from espaluz.config import Settings

        self.webhook_secret = webhook_secret
        self.pool = pool
        self.payments = payments
        self.catalog = catalog or Catalog.from_settings(Settings())
        self.notify = notify
        self.portal_return_url = portal_return_url
        self.clock = clock

    def receive(self, request: Request) -> Response:
        header = request.header("stripe-signature")
        if not header:
            return Response.error(400, "missing Stripe-Signature")
        if not self.webhook_secret:
            logger.error("STRIPE_WEBHOOK_SECRET is not set")
            return Response.error(500, "billing not configured")
        try:
            payload = request.body.decode("utf-8")
            stripe.WebhookSignature.verify_header(  # type: ignore[no-untyped-call]
                payload, header, self.webhook_secret, tolerance=SIGNATURE_TOLERANCE_SECONDS
            )
        except UnicodeDecodeError:
            return Response.error(400, "body is not UTF-8")
        except stripe.SignatureVerificationError:
            return Response.error(400, "bad signature")
        ahead = _signed_at(header) - self.clock()
        if ahead > SIGNATURE_TOLERANCE_SECONDS:
            logger.warning("stripe signature from the future refused", extra={"ahead_s": int(ahead)})
            return Response.error(400, "bad signature")
        try:
            event, obj = _parse_event(payload)
        except TooDeep:
            logger.warning("stripe event nested too deep refused")
            return Response.error(400, "body nested too deep")
        except (ValueError, KeyError, TypeError, OverflowError, OSError):
            return Response.error(400, "body is not a Stripe event")
        if self.payments is None:
            logger.error("STRIPE_API_KEY is not set; events are left for Stripe to retry")
            return Response.error(500, "billing not configured")
        try:
            notices = self._apply_once(event, obj)
        except Exception:
            logger.exception("stripe event failed; Stripe will retry", extra={"event_id": event["id"]})
            return Response.error(500, "processing failed")
        for notice in notices or ():
            self._deliver(notice, f"notice.{event['id']}.{notice.kind}")
        return Response.json(200, {"received": True, "duplicate": notices is None})

    def _apply_once(self, event: dict[str, Any], obj: dict[str, Any]) -> list[Notice] | None:
        assert self.payments is not None
        with self.pool.connection() as conn, conn.transaction():
            inserted = conn.execute(
                "INSERT INTO stripe_events (id, type, created_at) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                (event["id"], event["type"], event["created_at"]),
            ).rowcount
            if not inserted:
                logger.info("stripe event repeated", extra={"event_id": event["id"]})
                return None
            handler = HANDLERS.get(str(event["type"]))
            notices = handler(_Ctx(conn, event, obj, self.payments, self.catalog)) if handler else []
            logger.info("stripe event applied", extra={"event_id": event["id"], "type": event["type"]})
            return notices

    def _deliver(self, notice: Notice, notice_id: str) -> None:
        """Hand a notice over; never raises (the event is committed already)."""
        if self.notify is None:
            return
        try:
            self.notify(notice.learner_id, self._reply(notice), notice_id)
        except Exception as exc:
            logger.warning(
                "billing notice not sent",
                extra={
                    "learner_id": str(notice.learner_id),
                    "kind": notice.kind,
                    "error": type(exc).__name__,
                },
            )

    def _portal(self, customer_id: str) -> str | None:
        if not customer_id or self.payments is None:
            return None
        try:
            return self.payments.create_portal(customer_id, self.portal_return_url)
        except Exception as exc:
            logger.warning("portal link failed", extra={"error": type(exc).__name__})
            return None

    def _reply(self, notice: Notice) -> Reply:
        language = self._language(notice.learner_id)
        if notice.kind == "thanks":
            return messages.thanks(self.catalog, language)
        if notice.kind == "payment_failed":
            return messages.payment_failed(language, self._portal(notice.customer_id))
        if notice.kind == "trial_ending":
            return messages.trial_ending(language, self._portal(notice.customer_id))
        if notice.kind == "cancel_scheduled":
            return messages.cancel_scheduled(self.catalog, language, notice.until)
        return messages.subscription_ended(self.catalog, language)

    def _language(self, learner_id: UUID) -> str:
        """The learner's explanation language (``learners.native_language``); Spanish if unreadable."""
        try:
            with self.pool.connection() as conn:
                row = conn.execute(
                    "SELECT native_language FROM learners WHERE id = %s", (learner_id,)
                ).fetchone()
        except Exception as exc:
            logger.warning("notice language unknown", extra={"error": type(exc).__name__})
            return "es"
        return str(row[0]) if row else "es"


def _signed_at(header: str) -> int:
    """The ``t=`` of a ``Stripe-Signature`` that ``verify_header`` accepted (the last one, as the
    ``stripe`` package reads it)."""
    return int(dict(item.split("=", 1) for item in header.split(",") if "=" in item)["t"])


def _stripe_id(value: Any) -> str:
    """``value`` when it is an id as Stripe writes them, else "" (absent, not a string, or text no
    Stripe id holds)."""
    return value if isinstance(value, str) and _STRIPE_ID.fullmatch(value) else ""


def _parse_event(payload: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The event, cleaned (``httpapi.clean_document``), and its ``data.object``. Raises ``TooDeep``
    beyond ``httpapi.MAX_DEPTH`` and another ``ValueError`` (or KeyError, TypeError, OverflowError) on
    anything else that is not a Stripe event; the id and type are checked before cleaning, as text that
    needs cleaning there is not Stripe's."""
    try:
        raw = json.loads(payload)
    except RecursionError as exc:
        raise TooDeep("nested beyond the JSON parser's depth") from exc
    if not isinstance(raw, dict) or raw.get("object") != "event":
        raise ValueError("not an event")
    for key in ("id", "type"):
        if not _stripe_id(raw.get(key)):
            raise ValueError(f"event without a Stripe {key}")
    event: dict[str, Any] = clean_document(raw)
    event["created_at"] = datetime.fromtimestamp(int(event["created"]), UTC)
    obj = event["data"]["object"]
    if not isinstance(obj, dict):
        raise ValueError("data.object is not an object")
    return event, obj


# --- handlers: each runs inside the event's transaction and returns the notices owed ----------------


def _sync(ctx: _Ctx, subscription_id: str, learner_hint: UUID | None = None) -> Any:
    lock_subscription(ctx.conn, subscription_id)
    try:
        sub = ctx.payments.retrieve_subscription(subscription_id)  # after the lock: later commit, later read
    except PaymentsError as exc:
        if exc.status != 404:
            raise  # Stripe unreachable or failing: 500, and Stripe retries
        # Not in this account (deleted test data, another mode): retrying for three days cannot help.
        logger.warning("subscription not found at Stripe", extra={"subscription": subscription_id})
        return None
    return sync_subscription(
        ctx.conn, sub, learner_hint=learner_hint, event_id=ctx.event_id, catalog=ctx.catalog
    )


def _id_of(value: Any) -> str:
    """The id of a reference that is either an id or an expanded object; "" when there is none."""
    return _stripe_id(value.get("id") if isinstance(value, dict) else value)


def _object_id(ctx: _Ctx) -> str:
    """The id of the event's object; "" (and a warning) when it has none: Stripe will never send this
    event otherwise, so it is acknowledged and ignored rather than failed for three days of retries."""
    object_id = _stripe_id(ctx.obj.get("id"))
    if not object_id:
        logger.warning(
            "subscription event without an object id ignored",
            extra={"event_id": ctx.event_id, "type": ctx.event["type"]},
        )
    return object_id


def _checkout_completed(ctx: _Ctx) -> list[Notice]:
    session = ctx.obj
    learner_id = parse_learner_id(session.get("client_reference_id")) or parse_learner_id(
        (session.get("metadata") or {}).get("learner_id")
    )
    subscription_id = _id_of(session.get("subscription"))
    change = _sync(ctx, subscription_id, learner_id) if subscription_id and learner_id else None
    # Locks in order: the subscription (in _sync), then the learner's row.
    if learner_id is None or not lock_learner(ctx.conn, learner_id):
        logger.warning("checkout without a known learner", extra={"session": session.get("id")})
        return []
    customer_id = _id_of(session.get("customer"))
    link_customer(ctx.conn, customer_id, learner_id)
    offer_id = (session.get("metadata") or {}).get("offer_id")
    if offer_id:
        from espaluz.billing.offers import record_conversion

        record_conversion(ctx.conn, learner_id, str(offer_id), str(session.get("id") or ""))
    if change is not None and change.learner_id == learner_id and change.plan_after == PREMIUM:
        return [Notice(learner_id, "thanks", customer_id)]
    return []


def _subscription_event(ctx: _Ctx) -> list[Notice]:
    subscription_id = _object_id(ctx)
    change = _sync(ctx, subscription_id) if subscription_id else None
    if change is None:
        return []
    if (
        change.new_cancel_at_period_end
        and not change.old_cancel_at_period_end
        and change.plan_after == PREMIUM
    ):
        return [Notice(change.learner_id, "cancel_scheduled", change.customer_id, change.current_period_end)]
    if change.plan_before == PREMIUM and change.plan_after == FREE and change.new_status == "canceled":
        return [Notice(change.learner_id, "ended", change.customer_id)]
    return []


def _invoice_subscription(invoice: dict[str, Any]) -> str:
    """Invoices name their subscription at the top (older API versions) or under ``parent``."""
    direct = _id_of(invoice.get("subscription"))
    if direct:
        return direct
    details = ((invoice.get("parent") or {}).get("subscription_details")) or {}
    return _id_of(details.get("subscription"))


def _invoice_paid(ctx: _Ctx) -> list[Notice]:
    subscription_id = _invoice_subscription(ctx.obj)
    if subscription_id:
        _sync(ctx, subscription_id)
    return []


def _invoice_failed(ctx: _Ctx) -> list[Notice]:
    subscription_id = _invoice_subscription(ctx.obj)
    if not subscription_id:
        return []
    change = _sync(ctx, subscription_id)
    if change is None:
        return []
    return [
        Notice(change.learner_id, "payment_failed", change.customer_id or _id_of(ctx.obj.get("customer")))
    ]


def _trial_will_end(ctx: _Ctx) -> list[Notice]:
    subscription_id = _object_id(ctx)
    change = _sync(ctx, subscription_id) if subscription_id else None
    return [Notice(change.learner_id, "trial_ending", change.customer_id)] if change else []


HANDLERS: dict[str, Callable[[_Ctx], list[Notice]]] = {
    "checkout.session.completed": _checkout_completed,
    "customer.subscription.created": _subscription_event,
    "customer.subscription.updated": _subscription_event,
    "customer.subscription.deleted": _subscription_event,
    "customer.subscription.trial_will_end": _trial_will_end,
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _invoice_failed,
}


def build_service(settings: Settings, notify: Notify | None = None) -> StripeWebhookService:
    """Production wiring: Postgres pool, Stripe adapter, and notices through the tutor's queue
    (``QUEUE_URL``) unless ``notify`` is given."""
    from espaluz.billing.notify import QueueNotifier
    from espaluz.billing.stripe_client import build_payments
    from espaluz.storage.postgres import get_pool

    pool = get_pool(settings.database_url)
    if notify is None and settings.queue_url:
        from espaluz.queue.factory import queue_from_url

        redis_client = None
        if settings.queue_url.startswith("local:"):
            from espaluz.storage.redis import get_redis

            redis_client = get_redis(settings.redis_url, cluster=settings.redis_cluster)
        notify = QueueNotifier(queue_from_url(settings.queue_url, redis_client), pool)
    elif notify is None:
        logger.warning("QUEUE_URL is not set: billing notices will not be sent")
    return StripeWebhookService(
        settings.stripe_webhook_secret.get_secret_value(),
        pool,
        build_payments(settings),
        Catalog.from_settings(settings),
        notify=notify,
        portal_return_url=settings.billing_public_url,
    )
