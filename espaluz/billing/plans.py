"""Plans as settings: the free tier and the monthly plan, what each one unlocks, and its price.

Everything here comes from ``Settings`` (``BILLING_*`` variables), so the split between free and paid is
changed by configuration, not code. A caller must know:

- a plan name stored in Postgres (``learners.plan``, ``entitlements.plan``) is ``free`` or ``premium``;
  the human name of the paid plan is ``Catalog.paid_name``;
- Stripe knows the plan by a price id only (``BILLING_MONTHLY_PRICE_ID``), so the amount the chat shows
  is configured beside it (``BILLING_MONTHLY_PRICE_CENTS`` and ``BILLING_MONTHLY_PRICE_CURRENCY``) and
  must be kept equal to the Stripe price by whoever changes either;
- the chat sells only the features the code checks where they are used (``CHECKED_FEATURES``): a
  feature listed in ``BILLING_PAID_FEATURES`` that nothing checks is stored in ``entitlements.features``
  but never promised to a learner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from espaluz.config import Settings

FREE = "free"
PREMIUM = "premium"
UNLIMITED_TURNS = "unlimited_turns"
PRONUNCIATION_FEEDBACK = "pronunciation_feedback"

# Subscription statuses that keep the paid plan. past_due keeps it while Stripe retries the card (the
# learner is told and given the portal link); unpaid, canceled, incomplete* and paused do not.
ACCESS_STATUSES = frozenset({"active", "trialing", "past_due"})

# Features some code checks before giving them, and where: only these are sold or lent as a bonus.
#   unlimited_turns: EntitlementChecker.check_turn (the free tier's daily allowance).
# Not here on purpose: pronunciation_feedback (the voice service gives feedback to every learner and
# checks no plan; add it here once it does), advanced_lessons (nothing implements it), basic_drills
# (everyone has them).
CHECKED_FEATURES = frozenset({UNLIMITED_TURNS})
# Features that work only when the voice service (the Modal GPU app) is configured.
VOICE_FEATURES = frozenset({PRONUNCIATION_FEEDBACK})

# What each feature gives, in Spanish and English, for the chat.
FEATURE_LABELS: dict[str, tuple[str, str]] = {
    UNLIMITED_TURNS: (
        "ejercicios y respuestas sin límite diario",
        "exercises and answers with no daily limit",
    ),
    PRONUNCIATION_FEEDBACK: (
        "corrección de pronunciación en tus notas de voz",
        "pronunciation feedback on your voice notes",
    ),
}

# How an amount is written, per currency: (symbol, symbol goes first in English).
CURRENCY_SYMBOLS: dict[str, str] = {"EUR": "€", "USD": "US$", "GBP": "£", "MXN": "MX$"}


def _features(raw: str) -> frozenset[str]:
    return frozenset(f.strip() for f in raw.split(",") if f.strip())


@dataclass(frozen=True, slots=True)
class Catalog:
    free_turns_per_day: int
    price_id: str
    paid_name: str
    free_features: frozenset[str]
    paid_features: frozenset[str]
    price_cents: int = 999
    currency: str = "EUR"
    voice_ready: bool = False  # the voice service is configured (pronunciation can work at all)

    @classmethod
    def from_settings(cls, settings: Settings) -> Catalog:
        # The display price: settings the lead adds beside BILLING_MONTHLY_PRICE_ID (read with a default
        # until then: 9,99 €, what the local checkout page charges).
        cents = settings.billing_monthly_price_cents
        currency = settings.billing_monthly_price_currency
        return cls(
            free_turns_per_day=settings.billing_free_turns_per_day,
            price_id=settings.billing_monthly_price_id,
            paid_name=settings.billing_plan_name,
            free_features=_features(settings.billing_free_features),
            paid_features=_features(settings.billing_paid_features),
            price_cents=int(cents),
            currency=str(currency).upper(),
            voice_ready=bool(settings.modal_token_id.get_secret_value()),
        )

    def features(self, plan: str) -> frozenset[str]:
        """What the plan grants (stored in ``entitlements.features``)."""
        return self.paid_features if plan == PREMIUM else self.free_features

    def sold_features(self) -> frozenset[str]:
        """What the paid plan really adds over the free tier: configured, checked where used, and (for a
        voice feature) only with the voice service configured."""
        added = (self.paid_features - self.free_features) & CHECKED_FEATURES
        return added if self.voice_ready else added - VOICE_FEATURES

    def lendable(self, feature: str) -> bool:
        """May an offer lend ``feature`` as a bonus? Only what is sold (a bonus of something every
        learner has, or that cannot work here, would be an empty gift)."""
        return feature in self.sold_features()

    def unlocked_lines(self, language: str = "es") -> list[str]:
        """What the paid plan adds over the free tier, one line each, in the learner's language."""
        index = 1 if language == "en" else 0
        return [FEATURE_LABELS[f][index] for f in sorted(self.sold_features()) if f in FEATURE_LABELS]

    def price(self, language: str = "es") -> str:
        """The monthly price as the chat writes it: "9,99 €" in Spanish, "€9.99" in English."""
        units, cents = divmod(self.price_cents, 100)
        symbol = CURRENCY_SYMBOLS.get(self.currency, self.currency)
        if language == "en":
            known = symbol != self.currency
            return f"{symbol}{units}.{cents:02d}" if known else f"{units}.{cents:02d} {symbol}"
        return f"{units},{cents:02d} {symbol}"


def plan_for_status(status: str) -> str:
    """The plan a subscription in ``status`` gives."""
    return PREMIUM if status in ACCESS_STATUSES else FREE
