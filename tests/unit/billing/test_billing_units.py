"""Pure parts of billing: plans from settings, Stripe's form encoding and signature scheme as the local
stand-in implements them, reference ids, and every chat message within WhatsApp's limits."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import stripe

from espaluz.billing import messages
from espaluz.billing.free_tier import day_start, is_teaching, renewed_in
from espaluz.billing.plans import FREE, PREMIUM, Catalog, plan_for_status
from espaluz.billing.stripe_client import reference_id, subscription_field
from espaluz.config import Settings
from espaluz.dev.checkout import parse_form, sign
from espaluz.whatsapp.outgoing import Button, Reply


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
    assert custom.unlocked_lines() == ["ejercicios y respuestas sin límite diario"]


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


@pytest.mark.parametrize("language", ["es", "en"])
def test_every_billing_message_is_within_whatsapp_limits(language: str) -> None:
    """Each message builds a valid Graph API payload (lengths, button counts, URL button), in both
    languages, with the longest answers the gate lets an offer or a notice follow."""
    from datetime import timedelta

    from espaluz.billing.offers import WeekProgress

    cat = catalog()
    url = "https://checkout.stripe.com/c/pay/cs_test_1"
    long_answer = Reply("x" * 1000, buttons=(Button("practice", "Practicar"),))
    week = WeekProgress(verbs=12, right=31, tenses=3)
    built = [
        messages.free_limit(cat, language, timedelta(hours=7)),
        messages.last_free_turn(cat, language, timedelta(hours=7), long_answer),
        messages.last_free_turn(cat, language, timedelta(hours=7), Reply("y" * 4000)),
        messages.checkout_link(cat, language, url),
        messages.already_subscribed(cat, language, url),
        messages.already_subscribed(cat, language, None),
        messages.payments_unavailable(language),
        messages.offer(cat, language, week, ("unlimited_turns", 7), long_answer),
        messages.offer_declined(language),
        messages.thanks(cat, language),
        messages.payment_failed(language, url),
        messages.payment_failed(language, None),
        messages.trial_ending(language, url),
        messages.cancel_scheduled(cat, language, datetime(2026, 12, 25, tzinfo=UTC)),
        messages.subscription_ended(cat, language),
    ]
    for reply in built:
        payload = reply.payload()
        assert payload["messaging_product"] == "whatsapp"
        assert ("\n\n_" in reply.text) == (language == "en")  # the English gloss, for "en" learners
        assert "Stripe" not in reply.text
        assert "STRIPE" not in reply.text
    assert "Este fue tu último mensaje gratis de hoy" in built[2].text  # after the longest answer
    assert messages.checkout_link(cat, language, url).payload()["interactive"]["type"] == "cta_url"
    assert "25/12/2026" in messages.cancel_scheduled(cat, language, datetime(2026, 12, 25, tzinfo=UTC)).text


def test_plural_agrees_in_spanish_and_english() -> None:
    """Bad agreement ("1 tiempos verbales") is what the offer used to say."""
    assert messages.plural(1, "tiempo verbal", "tiempos verbales") == "1 tiempo verbal"
    assert messages.plural(2, "tiempo verbal", "tiempos verbales") == "2 tiempos verbales"
    assert messages.plural(0, "día", "días") == "0 días"


@pytest.mark.parametrize(
    ("tenses", "es", "en"),
    [
        (1, "Esta semana llevas 3 respuestas correctas en 1 tiempo verbal", "in 1 tense"),
        (2, "Esta semana llevas 3 respuestas correctas en 2 tiempos verbales", "in 2 tenses"),
        (0, "Esta semana llevas 3 respuestas correctas", "This week you have 3 correct answers"),
    ],
)
def test_offer_value_line_agrees_with_its_counts(tenses: int, es: str, en: str) -> None:
    from espaluz.billing.offers import WeekProgress

    week = WeekProgress(verbs=1, right=3, tenses=tenses)
    assert messages.value_line(week, "es") == es
    assert messages.value_line(week, "en").endswith(en)
    one = WeekProgress(verbs=2, right=1, tenses=1)
    assert messages.value_line(one, "es").endswith("y acertaste 1 ejercicio")
    assert messages.value_line(one, "en").endswith("got 1 exercise right")


@pytest.mark.parametrize(
    ("route", "counted"),
    [
        ("engine.ask", True),
        ("engine.check", True),
        ("engine.check+offer", True),
        ("engine.check+last_free", True),
        ("exercise.hint", True),
        ("exercise.reveal", True),
        ("memory.review", True),
        ("llm.grammar_question", True),
        ("voice.engine.check", True),  # a voice note's transcript answered as a drill
        ("voice.llm.conversation", True),
        ("voice.feedback", True),
        ("llm.got_it", False),
        ("fallback", False),
        ("exercise.leave", False),
        ("help", False),
        ("greeting", False),
        ("memory", False),
        ("onboarding.language", False),
        ("onboarding.level.test", False),
        ("onboarding.done", False),
        ("placement.question", False),
        ("command.level.placed", False),
        ("command.progress", False),
        ("command.profile", False),
        ("command.export", False),
        ("command.delete.ask", False),
        ("consent_stop", False),
        ("consent_start", False),
        ("billing.checkout", False),
        ("billing.free_limit", False),
        ("unsupported", False),
        ("voice.problem", False),
        ("voice.unavailable", False),
        ("voice.button", False),
        ("voice.help", False),
        ("notice", False),
        ("reaction", False),
        ("", False),
        (None, False),
    ],
)
def test_only_teaching_routes_count_against_the_free_tier(route: str | None, counted: bool) -> None:
    """Onboarding, placement, commands, notices and unusable input never spend a free message."""
    assert is_teaching(route) is counted


def test_the_price_is_written_for_each_language_and_currency() -> None:
    default = catalog()
    assert (default.price("es"), default.price("en")) == ("9,99 €", "€9.99")
    dollars = Catalog(20, "price_1", "Plus", frozenset(), frozenset({"unlimited_turns"}), 1250, "USD")
    assert (dollars.price("es"), dollars.price("en")) == ("12,50 US$", "US$12.50")
    other = Catalog(20, "price_1", "Plus", frozenset(), frozenset({"unlimited_turns"}), 9900, "CLP")
    assert (other.price("es"), other.price("en")) == ("99,00 CLP", "99.00 CLP")


def test_plus_lists_only_what_the_code_grants() -> None:
    """Covers configured features nothing checks (advanced_lessons) and pronunciation, which works only
    with voice configured and which no plan check guards: none of them is sold or lent as a bonus."""
    for voice in (False, True):
        cat = Catalog(
            20,
            "price_1",
            "Plus",
            frozenset({"basic_drills"}),
            frozenset({"basic_drills", "unlimited_turns", "pronunciation_feedback", "advanced_lessons"}),
            voice_ready=voice,
        )
        assert cat.sold_features() == {"unlimited_turns"}
        assert cat.unlocked_lines("en") == ["exercises and answers with no daily limit"]
        assert cat.lendable("unlimited_turns")
        assert not cat.lendable("pronunciation_feedback")
        assert not cat.lendable("advanced_lessons")
    text = messages.checkout_link(catalog(), "es", "https://x.test/c").text
    assert "lecciones avanzadas" not in text
    assert "pronunciación" not in text


def test_offer_policy_drops_a_bonus_the_plan_does_not_sell() -> None:
    from espaluz.billing.offers import OfferPolicy

    settings = Settings(billing_offer_bonus_feature="pronunciation_feedback")
    assert OfferPolicy.from_settings(settings, Catalog.from_settings(settings)).bonus_feature == ""
    lent = Settings(billing_offer_bonus_feature="unlimited_turns")
    assert OfferPolicy.from_settings(lent, Catalog.from_settings(lent)).bonus_feature == "unlimited_turns"


@pytest.mark.parametrize(
    ("left", "es", "en"),
    [
        (timedelta(minutes=20), "menos de una hora", "less than an hour"),
        (timedelta(hours=6, minutes=10), "unas 7 horas", "about 7 hours"),
    ],
)
def test_the_notices_say_when_the_free_messages_come_back(left: timedelta, es: str, en: str) -> None:
    cat = catalog(billing_free_turns_per_day=20)
    limit = messages.free_limit(cat, "en", left)
    assert es in limit.text
    assert en in limit.text
    assert "9,99 €" in limit.text
    assert "€9.99" in limit.text
    assert [b.id for b in limit.buttons] == [messages.PLAN_BUTTON]


def test_renewal_is_the_next_utc_midnight() -> None:
    """Time: any date; a clock in another time zone is read in UTC."""
    from datetime import timezone

    now = datetime.now(UTC).replace(hour=17, minute=30, second=0, microsecond=0)
    assert renewed_in(now) == timedelta(hours=6, minutes=30)
    assert day_start(now.astimezone(timezone(timedelta(hours=-5)))) == now.replace(hour=0, minute=0)


def test_the_last_free_message_keeps_the_answer_whole() -> None:
    """Covers an answer too long to keep its buttons with the notice: it goes whole, as plain text."""
    cat = catalog(billing_free_turns_per_day=20)
    short = Reply("¡Correcto! Siguiente: *yo* (hablar) ……", buttons=(Button("practice", "Practicar"),))
    noted = messages.last_free_turn(cat, "es", timedelta(hours=3), short)
    assert noted.text.startswith(short.text)
    assert noted.buttons == short.buttons
    assert "último mensaje gratis de hoy" in noted.text
    assert "Tendrás 20 mensajes gratis más en unas 3 horas" in noted.text
    assert "9,99 €" in noted.text
    assert "_" not in noted.text  # no English gloss for a Spanish-speaking learner
    long = Reply("z" * 1000, buttons=(Button("practice", "Practicar"),))
    plain = messages.last_free_turn(cat, "en", timedelta(hours=3), long)
    assert plain.text.startswith(long.text)
    assert not plain.interactive
    assert "That was your last free message today" in plain.text
    one = messages.last_free_turn(catalog(billing_free_turns_per_day=1), "es", timedelta(hours=3), short)
    assert "Tendrás 1 mensaje gratis más" in one.text
