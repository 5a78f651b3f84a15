"""Entitlements: what a learner may use now, written by the billing webhook and read by the tutor.

Writing (``sync_subscription``, ``recompute``) happens inside the webhook's transaction, the one that
records the Stripe event, so an event and its effect commit together. The state written is the
subscription as read back from Stripe's API after taking a per-subscription lock: two events about one
subscription are applied one after the other, and the later one carries the later read, so arrival order
cannot roll the state back. ``learners.plan`` and ``learners.plan_status`` mirror the entitlement for
``espaluz learner show``.

Reading (``EntitlementChecker``) happens on every teaching turn: the plan is cached in-process for a
short while (``BILLING_ENTITLEMENT_CACHE_SECONDS``); free learners' teaching turns are counted from the
``turns`` table by route (``free_tier``: onboarding, placement, commands and notices are free), exactly,
and a redelivered message is not counted twice. A cached "free" never blocks a learner who has
just paid: before refusing a turn the checker reads the plan again.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from espaluz.billing.free_tier import day_start, is_teaching
from espaluz.billing.plans import FREE, PREMIUM, UNLIMITED_TURNS, Catalog, plan_for_status
from espaluz.billing.stripe_client import subscription_field

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import psycopg
    from psycopg_pool import ConnectionPool

logger = logging.getLogger(__name__)


def _ts(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value else None


@dataclass(frozen=True, slots=True)
class SubscriptionChange:
    learner_id: UUID
    subscription_id: str
    customer_id: str
    old_status: str | None
    new_status: str
    old_cancel_at_period_end: bool
    new_cancel_at_period_end: bool
    current_period_end: datetime | None
    plan_before: str
    plan_after: str


def learner_for_customer(conn: psycopg.Connection[Any], customer_id: str) -> UUID | None:
    row = conn.execute(
        "SELECT learner_id FROM billing_customers WHERE customer_id = %s", (customer_id,)
    ).fetchone()
    return row[0] if row else None


def link_customer(conn: psycopg.Connection[Any], customer_id: str, learner_id: UUID) -> None:
    if customer_id:
        conn.execute(
            "INSERT INTO billing_customers (customer_id, learner_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (customer_id, learner_id),
        )


def lock_learner(conn: psycopg.Connection[Any], learner_id: UUID) -> bool:
    """Lock the learner's row until the transaction ends (entitlement writes for one learner are serial,
    so each recompute sees the others' subscriptions). False when there is no such learner."""
    row = conn.execute("SELECT 1 FROM learners WHERE id = %s FOR UPDATE", (learner_id,)).fetchone()
    return row is not None


def parse_learner_id(value: Any) -> UUID | None:
    try:
        return UUID(str(value)) if value else None
    except ValueError:
        return None


def lock_subscription(conn: psycopg.Connection[Any], subscription_id: str) -> None:
    """Serialise the events of one subscription until the transaction ends. Lock order, to stay free of
    deadlocks: this lock first (before any write of the event), then the learner's row."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (subscription_id,))


def sync_subscription(
    conn: psycopg.Connection[Any],
    sub: Mapping[str, Any],
    *,
    learner_hint: UUID | None,
    event_id: str,
    catalog: Catalog,
) -> SubscriptionChange | None:
    """Store ``sub`` (as read from the API, under ``lock_subscription``) and recompute the learner's
    entitlement. Returns None when no learner can be found for it (logged; nothing to apply)."""
    sub_id = str(sub["id"])
    customer = sub.get("customer")
    customer_id = str(customer.get("id") if isinstance(customer, dict) else customer or "")
    previous = conn.execute(
        "SELECT learner_id, status, cancel_at_period_end FROM subscriptions WHERE id = %s", (sub_id,)
    ).fetchone()
    learner_id = (
        parse_learner_id((sub.get("metadata") or {}).get("learner_id"))
        or (previous[0] if previous else None)
        or learner_hint
        or (learner_for_customer(conn, customer_id) if customer_id else None)
    )
    if learner_id is None or not lock_learner(conn, learner_id):
        logger.warning("subscription without a known learner", extra={"subscription": sub_id})
        return None
    plan_before = current_plan(conn, learner_id)
    status = str(sub.get("status") or "incomplete")
    items = (sub.get("items") or {}).get("data") or []
    price_id = str(((items[0].get("price") or {}).get("id") or "") if items else "")
    period_end = _ts(subscription_field(sub, "current_period_end"))
    cancel_at_end = bool(sub.get("cancel_at_period_end"))
    conn.execute(
        """INSERT INTO subscriptions (id, learner_id, customer_id, status, price_id, current_period_end,
                                      cancel_at_period_end, ended_at, synced_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, now())
           ON CONFLICT (id) DO UPDATE SET
               customer_id = EXCLUDED.customer_id, status = EXCLUDED.status, price_id = EXCLUDED.price_id,
               current_period_end = EXCLUDED.current_period_end,
               cancel_at_period_end = EXCLUDED.cancel_at_period_end, ended_at = EXCLUDED.ended_at,
               synced_at = now()""",
        (
            sub_id,
            learner_id,
            customer_id,
            status,
            price_id,
            period_end,
            cancel_at_end,
            _ts(sub.get("ended_at")),
        ),
    )
    link_customer(conn, customer_id, learner_id)
    plan_after = recompute(conn, learner_id, catalog, event_id)
    return SubscriptionChange(
        learner_id=learner_id,
        subscription_id=sub_id,
        customer_id=customer_id,
        old_status=previous[1] if previous else None,
        new_status=status,
        old_cancel_at_period_end=bool(previous[2]) if previous else False,
        new_cancel_at_period_end=cancel_at_end,
        current_period_end=period_end,
        plan_before=plan_before,
        plan_after=plan_after,
    )


def current_plan(conn: psycopg.Connection[Any], learner_id: UUID) -> str:
    row = conn.execute("SELECT plan FROM entitlements WHERE learner_id = %s", (learner_id,)).fetchone()
    return str(row[0]) if row else FREE


def recompute(conn: psycopg.Connection[Any], learner_id: UUID, catalog: Catalog, event_id: str) -> str:
    """Derive the entitlement from all the learner's subscriptions (the best one wins) and mirror it on
    the learner row. Returns the plan."""
    best = conn.execute(
        """SELECT id, customer_id, status, current_period_end, cancel_at_period_end
           FROM subscriptions WHERE learner_id = %s
           ORDER BY (status IN ('active', 'trialing', 'past_due')) DESC,
                    (status IN ('active', 'trialing')) DESC,
                    current_period_end DESC NULLS LAST
           LIMIT 1""",
        (learner_id,),
    ).fetchone()
    if best is None:
        plan, status, sub_id, customer_id, until, cancel = FREE, "none", None, None, None, False
    else:
        sub_id, customer_id, status, until, cancel = best
        plan = plan_for_status(status)
    conn.execute(
        """INSERT INTO entitlements (learner_id, plan, status, features, subscription_id, customer_id,
                                     valid_until, cancel_at_period_end, last_event_id, updated_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, now())
           ON CONFLICT (learner_id) DO UPDATE SET
               plan = EXCLUDED.plan, status = EXCLUDED.status, features = EXCLUDED.features,
               subscription_id = EXCLUDED.subscription_id, customer_id = EXCLUDED.customer_id,
               valid_until = EXCLUDED.valid_until, cancel_at_period_end = EXCLUDED.cancel_at_period_end,
               last_event_id = EXCLUDED.last_event_id, updated_at = now()""",
        (
            learner_id,
            plan,
            status,
            sorted(catalog.features(plan)),
            sub_id,
            customer_id,
            until,
            cancel,
            event_id,
        ),
    )
    conn.execute("UPDATE learners SET plan = %s, plan_status = %s WHERE id = %s", (plan, status, learner_id))
    return plan


# --- the tutor side -----------------------------------------------------------------------------------

# A subscription set to cancel at the period end stays paid until Stripe ends it; if that event is lost,
# access ends this long after the period end anyway.
PERIOD_END_GRACE_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class Entitlement:
    plan: str
    status: str
    features: frozenset[str]
    customer_id: str | None = None
    valid_until: datetime | None = None
    cancel_at_period_end: bool = False


@dataclass(frozen=True, slots=True)
class TurnAccess:
    """The free tier's verdict on the turn being decided. ``used``: teaching turns already answered today
    (None for plans without a daily limit); the turn being decided is not among them."""

    entitlement: Entitlement
    used: int | None
    limit: int | None

    @property
    def allowed(self) -> bool:
        """May this turn be taught? (It would be teaching turn number ``used + 1``.)"""
        return self.limit is None or self.used is None or self.used < self.limit

    @property
    def last(self) -> bool:
        """Is this turn, if taught, the last free one of the day?"""
        return self.limit is not None and self.used is not None and self.used + 1 == self.limit


def read_entitlement(
    conn: psycopg.Connection[Any], learner_id: UUID, catalog: Catalog, now: datetime | None = None
) -> Entitlement:
    """The learner's plan at ``now`` (default: this process's clock), with any offer bonus (a feature
    lent for a few days) added."""
    now = now or datetime.now(UTC)
    row = conn.execute(
        """SELECT e.plan, e.status, e.customer_id, e.valid_until, e.cancel_at_period_end,
                  ARRAY(SELECT o.bonus_feature FROM offers o
                        WHERE o.learner_id = %(id)s AND o.bonus_feature IS NOT NULL
                          AND o.bonus_until > %(now)s)
           FROM (SELECT %(id)s::uuid AS id) l LEFT JOIN entitlements e ON e.learner_id = l.id""",
        {"id": learner_id, "now": now},
    ).fetchone()
    assert row is not None
    plan, status, customer_id, until, cancel, bonus = row
    plan = plan or FREE
    if (
        plan == PREMIUM
        and cancel
        and until is not None
        and (now - until).total_seconds() > PERIOD_END_GRACE_SECONDS
    ):
        plan, status = FREE, "canceled"
    return Entitlement(
        plan=plan,
        status=status or "none",
        features=catalog.features(plan) | frozenset(bonus or ()),
        customer_id=customer_id,
        valid_until=until,
        cancel_at_period_end=bool(cancel),
    )


class EntitlementChecker:
    """The per-turn check. Thread-safe; one per process."""

    def __init__(
        self,
        pool: ConnectionPool,
        catalog: Catalog,
        ttl_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.pool = pool
        self.catalog = catalog
        self.ttl = ttl_seconds
        self.clock = clock  # the cache's age
        self.wall_clock = wall_clock  # the calendar: bonus ends, period ends, the free tier's day
        self._cache: dict[UUID, tuple[float, Entitlement]] = {}
        self._lock = threading.Lock()

    def entitlement(self, learner_id: UUID, *, fresh: bool = False) -> Entitlement:
        now = self.clock()
        if not fresh:
            with self._lock:
                hit = self._cache.get(learner_id)
            if hit is not None and now - hit[0] < self.ttl:
                return hit[1]
        with self.pool.connection() as conn:
            ent = read_entitlement(conn, learner_id, self.catalog, self.wall_clock())
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[learner_id] = (now, ent)
        return ent

    def forget(self, learner_id: UUID) -> None:
        with self._lock:
            self._cache.pop(learner_id, None)

    def check_turn(self, learner_id: UUID) -> TurnAccess:
        """May this learner be taught now? Counts the teaching turns answered today (the turn being
        decided has no route yet, so it is not among them). A refusal reads the plan again first."""
        ent = self.entitlement(learner_id)
        if UNLIMITED_TURNS in ent.features:
            return TurnAccess(ent, None, None)
        used = self.turns_today(learner_id, self.wall_clock())
        access = TurnAccess(ent, used, self.catalog.free_turns_per_day)
        if not access.allowed:
            ent = self.entitlement(learner_id, fresh=True)  # never refuse on a stale "free"
            if UNLIMITED_TURNS in ent.features:
                return TurnAccess(ent, None, None)
            access = TurnAccess(ent, used, self.catalog.free_turns_per_day)
        return access

    def turns_today(self, learner_id: UUID, now: datetime) -> int:
        """Teaching turns (``free_tier.is_teaching``) the learner was answered since ``now``'s midnight
        UTC (the tutor stamps each turn's ``received_at`` with the same clock). A redelivered message is
        one row, so it is never counted twice."""
        with self.pool.connection() as conn:
            rows = conn.execute(
                """SELECT route FROM turns
                   WHERE learner_id = %s AND received_at >= %s AND route IS NOT NULL
                     AND wamid NOT LIKE 'notice.%%'""",
                (learner_id, day_start(now)),
            ).fetchall()
        return sum(1 for (route,) in rows if is_teaching(route))
