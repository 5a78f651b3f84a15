"""The free tier and the paid plan inside a tutor turn: the plan commands, the daily allowance of free
teaching messages, and offers after moments worth praising. Billing (``espaluz.billing``) is the library
it calls; this step is the tutor's, so billing never imports the tutor.

What the processor calls, and when:

- ``before_turn(learner, text, choice, state)`` at the ``paywall`` step (after consent, commands, voice
  and memory; before teaching). It returns an ``Outcome`` that answers instead of the tutor only for:
  the plan command (``plan``, ``suscribir``... or the plan buttons: the checkout link with the price, or
  the portal), an offer's "Ahora no", and a teaching message from a learner who has **already used** the
  day's free messages (a short, kind notice with when they come back and the price; route
  ``billing.free_limit``; the conversation state, an open exercise included, is left as it was). The
  help menu is never refused (but "ayuda" inside an open exercise asks for a hint: teaching).
  Otherwise None: the turn is taught.
- ``after_turn(learner, outcome)`` on the taught outcome. When the turn is a teaching turn
  (``espaluz.billing.free_tier.is_teaching``) that used the **last** free message of the day, the answer
  is kept whole and a short notice follows it in the same message (it was the last free message today,
  when they come back, the price); route ``<route>+last_free``. Otherwise, after a moment worth praising
  and outside the learner's first session, an offer may follow the answer (route ``<route>+offer``).

Neither ever fails a turn: if billing's database reads or Stripe fail, the learner gets the tutor's answer
(or a plain "payments unavailable" line for the plan command) and the error is logged.

Counting: a turn's route is written when it is answered, so the turn being decided is not among the
teaching turns counted; it is number ``used + 1``. A burst (several messages answered as one turn) is
judged on the turns answered before it: a burst that starts under the limit is taught whole (at most a
few messages over it), and the last-turn notice is said once (``LAST_NOTICE_KEY`` in the state).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from espaluz.billing import messages
from espaluz.billing.entitlements import EntitlementChecker
from espaluz.billing.free_tier import day_start, is_teaching, renewed_in
from espaluz.billing.offers import DrillResult, OfferPolicy, open_offer, record_response
from espaluz.billing.plans import FREE, PREMIUM, Catalog
from espaluz.billing.stripe_client import PaymentsError
from espaluz.text import fold
from espaluz.tutor.orchestrator import MENU
from espaluz.tutor.turn import Outcome

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from psycopg_pool import ConnectionPool

    from espaluz.billing.stripe_client import Payments
    from espaluz.config import Settings
    from espaluz.storage.learners import Learner
    from espaluz.tutor.state import ConversationState
    from espaluz.whatsapp.outgoing import Reply

logger = logging.getLogger(__name__)

# An offer shares the answer's message (interactive bodies hold 1024 characters); longer answers go alone.
MAX_ANSWER_WITH_OFFER = 600
# The day (ISO date) the last-free-message notice was said, in ``ConversationState.extra``.
LAST_NOTICE_KEY = "billing.last_notice"

PLAN_WORDS = frozenset(
    {"plan", "planes", "suscribir", "suscribirme", "suscripcion", "subscribe", "premium", "plus"}
)  # compared folded (accents removed): "suscripción" is "suscripcion"


class Paywall:
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
        self.checker = checker  # its wall_clock is the free tier's calendar and the offers' clock
        self.policy = policy
        self.payments = payments
        self.success_url = success_url
        self.cancel_url = cancel_url

    def before_turn(
        self, learner: Learner, text: str, choice: str | None, state: ConversationState
    ) -> Outcome | None:
        """An answer that replaces the tutor's (a plan command, an offer's "no", or the notice for a
        learner past the day's free messages), or None to teach the turn."""
        language = learner.native_language
        said = fold(text)
        if choice == messages.OFFER_NO:
            self._respond_to_offer(learner, "declined")
            return Outcome(messages.offer_declined(language), state, "billing.offer_declined")
        if choice in (messages.OFFER_YES, messages.PLAN_BUTTON) or (not choice and said in PLAN_WORDS):
            if choice == messages.OFFER_YES:
                self._respond_to_offer(learner, "accepted")
            return Outcome(self.plan_reply(learner), state, "billing.checkout")
        if state.pending is None and (choice == "help" or (not choice and said in MENU)):
            return None  # the help menu: always answered, never counted ("ayuda" in a drill is a hint)
        try:
            access = self.checker.check_turn(learner.id)
        except Exception:
            logger.exception("entitlement check failed; turn allowed", extra={"learner_id": str(learner.id)})
            return None
        if access.allowed:
            return None
        logger.info("free tier used up", extra={"learner_id": str(learner.id)})
        notice = messages.free_limit(self.catalog, language, renewed_in(self.checker.wall_clock()))
        return Outcome(notice, state, "billing.free_limit")

    def after_turn(self, learner: Learner, outcome: Outcome) -> Outcome:
        """The taught answer, followed by the last-free-message notice when this turn used it, else
        perhaps by an offer (see the module docstring)."""
        if not is_teaching(outcome.route):
            return outcome
        try:
            access = self.checker.check_turn(learner.id)
        except Exception:
            logger.exception("entitlement check failed", extra={"learner_id": str(learner.id)})
            return outcome
        now = self.checker.wall_clock()
        if access.last:
            return self._last_free(learner, outcome, now)
        if access.entitlement.plan != FREE or not access.allowed:
            return outcome
        return self._offer(learner, outcome, now)

    def _last_free(self, learner: Learner, outcome: Outcome, now: datetime) -> Outcome:
        today = day_start(now).date().isoformat()
        if outcome.state.extra.get(LAST_NOTICE_KEY) == today:  # said already (a burst)
            return outcome
        outcome.state.extra[LAST_NOTICE_KEY] = today
        outcome.reply = messages.last_free_turn(
            self.catalog, learner.native_language, renewed_in(now), outcome.reply
        )
        outcome.route = f"{outcome.route}+last_free"
        logger.info("last free message of the day", extra={"learner_id": str(learner.id)})
        return outcome

    def _offer(self, learner: Learner, outcome: Outcome, now: datetime) -> Outcome:
        if not outcome.attempts or len(outcome.reply.text) > MAX_ANSWER_WITH_OFFER:
            return outcome
        if (
            learner.marketing_opt_out or not self.catalog.sold_features()
        ):  # "stop promotions"; nothing to sell
            return outcome
        try:
            results = [DrillResult(a.skill, a.verdict) for a in outcome.attempts]
            with self.pool.connection() as conn:
                made = self.policy.consider(conn, learner.id, results, outcome.state.correct_streak, now)
        except Exception:
            logger.exception("offer policy failed", extra={"learner_id": str(learner.id)})
            return outcome
        if made is None:
            return outcome
        if made.bonus:
            self.checker.forget(learner.id)
        outcome.reply = messages.offer(
            self.catalog, learner.native_language, made.progress, made.bonus, outcome.reply
        )
        outcome.route = f"{outcome.route}+offer"
        return outcome

    def plan_reply(self, learner: Learner) -> Reply:
        """The plan with its price and a checkout link as a URL button, or the portal link for a
        learner who already pays."""
        language = learner.native_language
        if self.payments is None:
            return messages.payments_unavailable(language)
        try:
            ent = self.checker.entitlement(learner.id, fresh=True)
            if ent.plan == PREMIUM:
                portal = (
                    self.payments.create_portal(ent.customer_id, self.success_url)
                    if ent.customer_id
                    else None
                )
                return messages.already_subscribed(self.catalog, language, portal)
            with self.pool.connection() as conn:
                offer_id = open_offer(conn, learner.id, self.checker.wall_clock())
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
            return messages.payments_unavailable(language)
        except Exception:
            logger.exception("checkout link failed", extra={"learner_id": str(learner.id)})
            return messages.payments_unavailable(language)
        logger.info("checkout link sent", extra={"learner_id": str(learner.id), "session": link.session_id})
        return messages.checkout_link(self.catalog, language, link.url)

    def _respond_to_offer(self, learner: Learner, response: str) -> None:
        try:
            with self.pool.connection() as conn:
                record_response(conn, learner.id, response, self.checker.wall_clock())
        except Exception:
            logger.exception("offer response not recorded", extra={"learner_id": str(learner.id)})


def _known_customer(conn: Any, learner: Learner) -> str | None:
    row = conn.execute(
        "SELECT customer_id FROM billing_customers WHERE learner_id = %s ORDER BY created_at DESC LIMIT 1",
        (learner.id,),
    ).fetchone()
    return str(row[0]) if row else None


def build_paywall(
    settings: Settings, pool: ConnectionPool, *, wall_clock: Callable[[], datetime] | None = None
) -> Paywall:
    """The production wiring. ``wall_clock`` (default: this process's UTC clock) is the free tier's
    calendar and the offers' clock; tests pass a fixed one."""
    from espaluz.billing.stripe_client import build_payments

    catalog = Catalog.from_settings(settings)
    checker = EntitlementChecker(pool, catalog, settings.billing_entitlement_cache_seconds)
    if wall_clock is not None:
        checker.wall_clock = wall_clock
    return Paywall(
        pool,
        catalog,
        checker,
        OfferPolicy.from_settings(settings, catalog),
        build_payments(settings),
        success_url=settings.billing_public_url,
        cancel_url=settings.billing_public_url,
    )
