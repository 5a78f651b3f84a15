"""Pure parts of billing: plans from settings, Stripe's form encoding and signature scheme as the local
stand-in implements them, reference ids, and every chat message within WhatsApp's limits."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import pytest
import stripe

from espaluz.billing import messages
from espaluz.billing.plans import FREE, PREMIUM, Catalog, plan_for_status
from espaluz.billing.stripe_client import reference_id, subscription_field
from espaluz.config import Settings
from espaluz.dev.checkout import parse_form, sign
from espaluz.whatsapp.outgoing import Reply


def catalog(**overrides: object) -> Catalog:
    return Catalog.from_settings(Settings(**overrides))


def test_plan_split_is_configurable() -> None:
    """The free/paid feature split and the free turns come from settings, not code."""
    default = catalog()
    assert "unlimited_turns" in default.features(PREMIUM)
    assert "unlimited_turns" not in default.features(FREE)
    custom = catalog(
        billing_free_features="basic_drills, pronunciation_feedback", billing_free_turns_per_day=3
    )
    assert custom.features(FREE) == {"basic_drills", "pronunciation_feedback"}
    assert custom.free_turns_per_day == 3
    assert "corrección de pronunciación en tus notas de voz" not in custom.unlocked_lines()


@pytest.mark.parametrize(
    ("status", "plan"),
    [
        ("active", PREMIUM),
        ("trialing", PREMIUM),
        ("past_due", PREMIUM),
        ("canceled", FREE),
        ("unpaid", FREE),
        ("incomplete", FREE),
        ("incomplete_expired", FREE),
        ("paused", FREE),
    ],
)
def test_subscription_status_to_plan(status: str, plan: str) -> None:
    assert plan_for_status(status) == plan


def test_reference_id_is_the_uuid_and_fits_stripes_rule() -> None:
    learner = uuid.uuid4()
    assert reference_id(learner) == str(learner)


def test_period_end_is_read_from_items_in_new_api_versions() -> None:
    """Newer Stripe API versions moved current_period_end onto the subscription items."""
    sub = {"items": {"data": [{"current_period_end": 1_800_000_000}]}}
    assert subscription_field(sub, "current_period_end") == 1_800_000_000
    assert subscription_field({"current_period_end": 5, **sub}, "current_period_end") == 5
    assert subscription_field({}, "current_period_end") is None


def test_local_signer_matches_stripes_and_verifies() -> None:
    """The checkout page's signer computes exactly what Stripe computes, so the real verifier accepts
    it, and a stale timestamp is refused."""
    payload = '{"id": "evt_1", "object": "event"}'
    now = int(time.time())
    header = sign(payload, "whsec_x", now)
    expected = stripe.WebhookSignature._compute_signature(f"{now}.{payload}", "whsec_x")  # type: ignore[no-untyped-call]
    assert header == f"t={now},v1={expected}"
    assert stripe.WebhookSignature.verify_header(payload, header, "whsec_x", tolerance=300)  # type: ignore[no-untyped-call]
    stale = sign(payload, "whsec_x", now - 301)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(payload, stale, "whsec_x", tolerance=300)  # type: ignore[no-untyped-call]


def test_stripe_form_encoding_is_parsed_into_nested_params() -> None:
    pairs = [
        ("mode", "subscription"),
        ("line_items[0][price]", "price_1"),
        ("line_items[0][quantity]", "1"),
        ("line_items[1][price]", "price_2"),
        ("metadata[learner_id]", "abc"),
        ("subscription_data[metadata][learner_id]", "abc"),
    ]
    assert parse_form(pairs) == {
        "mode": "subscription",
        "line_items": [{"price": "price_1", "quantity": "1"}, {"price": "price_2"}],
        "metadata": {"learner_id": "abc"},
        "subscription_data": {"metadata": {"learner_id": "abc"}},
    }


def test_every_billing_message_is_within_whatsapp_limits() -> None:
    """Each message builds a valid Graph API payload (lengths, button counts, URL button)."""
    cat = catalog()
    url = "https://checkout.stripe.com/c/pay/cs_test_1"
    long_answer = Reply("x" * 1000)
    built = [
        messages.free_limit(cat),
        messages.checkout_link(cat, url),
        messages.already_subscribed(cat, url),
        messages.already_subscribed(cat, None),
        messages.payments_unavailable(),
        messages.offer(cat, "Esta semana ya conjugaste bien 12 verbos", "Te regalo 7 días", long_answer),
        messages.offer_declined(),
        messages.thanks(cat),
        messages.payment_failed(url),
        messages.payment_failed(None),
        messages.trial_ending(url),
        messages.cancel_scheduled(cat, datetime(2026, 12, 25, tzinfo=UTC)),
        messages.subscription_ended(cat),
    ]
    for reply in built:
        payload = reply.payload()
        assert payload["messaging_product"] == "whatsapp"
    assert messages.checkout_link(cat, url).payload()["interactive"]["type"] == "cta_url"
    assert "25/12/2026" in messages.cancel_scheduled(cat, datetime(2026, 12, 25, tzinfo=UTC)).text
