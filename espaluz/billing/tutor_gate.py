"""Billing inside a tutor turn: the plan commands, the free-tier limit, and offers after good moments.

The tutor processor calls ``before_turn`` before the orchestrator (a billing command or a refused turn
answers instead of the tutor) and ``after_turn`` after it (an offer may be added to the answer). Neither
ever fails a turn: if billing's database reads or Stripe fail, the learner gets the tutor's answer (or a
plain "payments unavailable" line for the plan command) and the error is logged.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from espaluz.billing import messages
from espaluz.billing.entitlements import EntitlementChecker
from espaluz.billing.offers import DrillResult, OfferPolicy, open_offer, record_response
from espaluz.billing.plans import FREE, PREMIUM, Catalog
from espaluz.billing.stripe_client import PaymentsError
from espaluz.tutor.orchestrator import Outcome, normalise

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

    from espaluz.billing.stripe_client import Payments
    from espaluz.config import Settings
    from espaluz.storage.learners import Learner
    from espaluz.tutor.state import ConversationState
    from espaluz.whatsapp.outgoing import Reply

logger = logging.getLogger(__name__)

# An offer shares the answer's message (interactive bodies hold 1024 characters); longer answers go alone.
MAX_ANSWER_WITH_OFFER = 700

PLAN_WORDS = frozenset(
    {
        "plan",
        "planes",
        "suscribir",
        "suscribirme",
        "suscripcion",
        "suscripción",
        "subscribe",
        "premium",
        "plus",
    }
)


class BillingGate:
    def __init__(
        self,
        pool: ConnectionPool,
        catalog: Catalog,
        checker: EntitlementChecker,
        policy: OfferPolicy,
        payments: Payments | None,
        *,
        success_url: str = "https://wa.me/",
        cancel_url: str = "https://wa.me/",
    ) -> None:
        self.pool = pool
        self.catalog = catalog
        self.checker = checker
        self.policy = policy
        self.payments = payments
        self.success_url = success_url
        self.cancel_url = cancel_url

    def before_turn(
        self, learner: Learner, text: str, reply_id: str | None, state: ConversationState
    ) -> Outcome | None:
        """An answer that replaces the tutor's (a billing command, or the free-tier limit), or None."""
        said = normalise(text)
        if reply_id == messages.OFFER_NO:
            self._respond_to_offer(learner, "declined")
            return Outcome(messages.offer_declined(), state, "billing.offer_declined")
        if reply_id in (messages.OFFER_YES, messages.PLAN_BUTTON) or (not reply_id and said in PLAN_WORDS):
            if reply_id == messages.OFFER_YES:
                self._respond_to_offer(learner, "accepted")
            return Outcome(self.plan_reply(learner), state, "billing.checkout")
        try:
            access = self.checker.check_turn(learner.id)
        except Exception:
            logger.exception("entitlement check failed; turn allowed", extra={"learner_id": str(learner.id)})
            return None
        if not access.allowed:
            logger.info("free tier limit reached", extra={"learner_id": str(learner.id)})
            return Outcome(messages.free_limit(self.catalog), state, "billing.free_limit")
        return None

    def after_turn(self, learner: Learner, outcome: Outcome) -> Outcome:
        """Add an offer to the answer when the turn was a high-engagement moment and the policy allows."""
        if not outcome.attempts or len(outcome.reply.text) > MAX_ANSWER_WITH_OFFER:
            return outcome
        if learner.marketing_opt_out:  # "stop promotions": no offers either
            return outcome
        try:
            if self.checker.entitlement(learner.id).plan != FREE:
                return outcome
            results = [DrillResult(a.skill, a.verdict) for a in outcome.attempts]
            with self.pool.connection() as conn:
                made = self.policy.consider(conn, learner.id, results, outcome.state.correct_streak)
        except Exception:
            logger.exception("offer policy failed", extra={"learner_id": str(learner.id)})
            return outcome
        if made is None:
            return outcome
        if made.bonus_line:
            self.checker.forget(learner.id)
        outcome.reply = messages.offer(self.catalog, made.value_line, made.bonus_line, outcome.reply)
        outcome.route = f"{outcome.route}+offer"
        return outcome

    def plan_reply(self, learner: Learner) -> Reply:
        """A checkout link as a URL button, or the portal link for a learner who already pays."""
        if self.payments is None:
            return messages.payments_unavailable()
        try:
            ent = self.checker.entitlement(learner.id, fresh=True)
            if ent.plan == PREMIUM:
                portal = (
                    self.payments.create_portal(ent.customer_id, self.success_url)
                    if ent.customer_id
                    else None
                )
                return messages.already_subscribed(self.catalog, portal)
            with self.pool.connection() as conn:
                offer_id = open_offer(conn, learner.id)
                customer = _known_customer(conn, learner)
            link = self.payments.create_checkout(
                learner_id=learner.id,
                price_id=self.catalog.price_id,
                success_url=self.success_url,
                cancel_url=self.cancel_url,
                offer_id=str(offer_id) if offer_id else None,
                customer_id=customer,
            )
        except PaymentsError as exc:
            logger.warning("checkout link failed", extra={"learner_id": str(learner.id), "error": str(exc)})
            return messages.payments_unavailable()
        except Exception:
            logger.exception("checkout link failed", extra={"learner_id": str(learner.id)})
            return messages.payments_unavailable()
        logger.info("checkout link sent", extra={"learner_id": str(learner.id), "session": link.session_id})
        return messages.checkout_link(self.catalog, link.url)

    def _respond_to_offer(self, learner: Learner, response: str) -> None:
        try:
            with self.pool.connection() as conn:
                record_response(conn, learner.id, response)
        except Exception:
            logger.exception("offer response not recorded", extra={"learner_id": str(learner.id)})


def _known_customer(conn: Any, learner: Learner) -> str | None:
    row = conn.execute(
        "SELECT customer_id FROM billing_customers WHERE learner_id = %s ORDER BY created_at DESC LIMIT 1",
        (learner.id,),
    ).fetchone()
    return str(row[0]) if row else None


def build_gate(settings: Settings, pool: ConnectionPool) -> BillingGate:
    from espaluz.billing.stripe_client import build_payments

    catalog = Catalog.from_settings(settings)
    return BillingGate(
        pool,
        catalog,
        EntitlementChecker(pool, catalog, settings.billing_entitlement_cache_seconds),
        OfferPolicy.from_settings(settings),
        build_payments(settings),
        success_url=settings.billing_public_url,
        cancel_url=settings.billing_public_url,
    )
