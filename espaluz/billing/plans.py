"""Plans as settings: the free tier and the monthly plan, and which features each one unlocks.

Everything here comes from ``Settings`` (``BILLING_*`` variables), so the split between free and paid is
changed by configuration, not code. A caller must know: a plan name stored in Postgres (``learners.plan``,
``entitlements.plan``) is ``free`` or ``premium``; the human name of the paid plan is ``Catalog.paid_name``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from espaluz.config import Settings

FREE = "free"
PREMIUM = "premium"
UNLIMITED_TURNS = "unlimited_turns"

# Subscription statuses that keep the paid plan. past_due keeps it while Stripe retries the card (the
# learner is told and given the portal link); unpaid, canceled, incomplete* and paused do not.
ACCESS_STATUSES = frozenset({"active", "trialing", "past_due"})

FEATURE_LABELS = {
    "basic_drills": "ejercicios básicos",
    "unlimited_turns": "conversación sin límite diario",
    "pronunciation_feedback": "corrección de pronunciación en tus notas de voz",
    "advanced_lessons": "lecciones avanzadas",
}


def _features(raw: str) -> frozenset[str]:
    return frozenset(f.strip() for f in raw.split(",") if f.strip())


@dataclass(frozen=True, slots=True)
class Catalog:
    free_turns_per_day: int
    price_id: str
    paid_name: str
    free_features: frozenset[str]
    paid_features: frozenset[str]

    @classmethod
    def from_settings(cls, settings: Settings) -> Catalog:
        return cls(
            free_turns_per_day=settings.billing_free_turns_per_day,
            price_id=settings.billing_monthly_price_id,
            paid_name=settings.billing_plan_name,
            free_features=_features(settings.billing_free_features),
            paid_features=_features(settings.billing_paid_features),
        )

    def features(self, plan: str) -> frozenset[str]:
        return self.paid_features if plan == PREMIUM else self.free_features

    def unlocked_lines(self) -> list[str]:
        """What the paid plan adds over the free tier, in Spanish, for the thank-you notice."""
        added = sorted(self.paid_features - self.free_features)
        return [FEATURE_LABELS.get(f, f.replace("_", " ")) for f in added]


def plan_for_status(status: str) -> str:
    """The plan a subscription in ``status`` gives."""
    return PREMIUM if status in ACCESS_STATUSES else FREE
