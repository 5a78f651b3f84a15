"""The pure price lines of the cost simulation (espaluz.ops.unit_costs), on hand-computed figures."""

from __future__ import annotations

import pytest

from espaluz.config import Settings
from espaluz.ops import unit_costs as uc
from espaluz.voice.costs import VoicePrices

PRICES = uc.AwsPrices(
    lambda_usd_per_gb_second=0.0000133334,
    lambda_usd_per_request=0.2e-6,
    sqs_fifo_usd_per_request=0.5e-6,
    apigw_http_usd_per_request=1e-6,
    aurora_usd_per_acu_hour=0.12,
    aurora_min_acu=0.5,
    aurora_turns_per_second_per_acu=40.0,
    aurora_storage_usd_per_gb_month=0.10,
    cache_usd_per_gb_hour=0.084,
    cache_min_gb=0.1,
    cache_usd_per_million_ecpu=0.0023,
    polly_neural_usd_per_million_chars=16.0,
    peak_to_mean=3.0,
)
RATES = {"marketing": 0.0305, "utility": 0.0085, "authentication": 0.0085}


def test_lambda_line_prices_gb_seconds_and_requests_per_month() -> None:
    """100 GB-s and 50 requests a day for 30 days; no fixed share when nothing runs regardless."""
    line = uc.lambda_line(100.0, 50.0, PRICES, fixed_gb_seconds_month=0, fixed_requests_month=0, learners=1)
    assert line == pytest.approx(30 * (100 * 0.0000133334 + 50 * 0.2e-6))


def test_the_fixed_lambda_share_shrinks_with_more_learners() -> None:
    """The scheduler's passes are shared: 100 times the learners, a hundredth of the share."""
    few = uc.lambda_line(0, 0, PRICES, fixed_gb_seconds_month=2160, fixed_requests_month=8640, learners=1000)
    many = uc.lambda_line(
        0, 0, PRICES, fixed_gb_seconds_month=2160, fixed_requests_month=8640, learners=100_000
    )
    assert few == pytest.approx(100 * many)
    assert few == pytest.approx((2160 * 0.0000133334 + 8640 * 0.2e-6) / 1000)


def test_aurora_share_is_the_minimum_capacity_split_at_1000_and_load_at_100000() -> None:
    """At 1,000 learners the 0.5 ACU floor is paid whatever the load; at 100,000 the load sets the
    capacity, and a learner's share is far smaller."""
    small = uc.aurora_line(50.0, 0.0, PRICES, 1000)
    assert small == pytest.approx(0.5 * 730 * 0.12 / 1000)
    big = uc.aurora_line(50.0, 0.0, PRICES, 100_000)
    acu = 50 * 100_000 / 86_400 * 3 / 40
    assert acu > 0.5
    assert big == pytest.approx(acu * 730 * 0.12 / 100_000)
    assert big < small


def test_aurora_storage_adds_the_months_growth() -> None:
    """1 MB a day: 45 MB on average over a month (1.5 months of growth) at 0.10 USD/GB-month."""
    with_storage = uc.aurora_line(0.0, 1e6, PRICES, 1000)
    assert with_storage - uc.aurora_line(0.0, 0.0, PRICES, 1000) == pytest.approx(0.045 * 0.10)


def test_elasticache_pays_the_minimum_when_small_and_the_data_when_large() -> None:
    """10 KB a learner a day kept 7 days: 70 MB at 1,000 learners (under the 100 MB floor), the data at
    100,000 (the data itself: 7 GB)."""
    small = uc.elasticache_line(10_000, 7, 0, PRICES, 1000)
    assert small == pytest.approx(0.1 * 730 * 0.084 / 1000)
    big = uc.elasticache_line(10_000, 7, 0, PRICES, 100_000)
    assert big == pytest.approx(7.0 * 730 * 0.084 / 100_000)
    with_ecpu = uc.elasticache_line(10_000, 7, 1_000_000, PRICES, 100_000)
    assert with_ecpu - big == pytest.approx(30 * 0.0023)


def test_whatsapp_free_form_replies_in_the_window_cost_nothing_under_the_july_2025_rules() -> None:
    """50 service replies and 5 utility templates inside the window a day: free when service is not
    billed; only templates outside the window cost their category's rate."""
    inside = {"service": 50.0, "utility_in_window": 5.0}
    assert uc.whatsapp_line(inside, RATES, service_billed=False) == 0.0
    templates = {"marketing": 1.0, "utility": 2.0, "service": 50.0}
    assert uc.whatsapp_line(templates, RATES, service_billed=False) == pytest.approx(
        30 * (0.0305 + 2 * 0.0085)
    )


def test_whatsapp_service_billed_at_the_utility_rate_after_the_free_allowance() -> None:
    """Under the October 2026 rules the service replies cost the utility rate, the number's 1,000 free a
    month shared by its learners."""
    day = {"service": 50.0}
    alone = uc.whatsapp_line(day, RATES, service_billed=True, service_free_per_number_month=1000)
    assert alone == pytest.approx((1500 - 1000) * 0.0085)
    shared = uc.whatsapp_line(
        day, RATES, service_billed=True, service_free_per_number_month=1000, learners_per_number=1000
    )
    assert shared == pytest.approx((1500 - 1) * 0.0085)
    few = uc.whatsapp_line({"service": 10.0}, RATES, service_billed=True, service_free_per_number_month=1000)
    assert few == 0.0  # 300 a month, within the allowance


def test_llm_line_uses_the_cache_prices_and_refuses_an_unpriced_model() -> None:
    """Tokens over 2 learner-days: half of it a day, times 30; a model without a price is an error."""
    prices = {"m": {"in": 1.0, "out": 2.0, "cache_read": 0.1}}
    line = uc.llm_line(prices, "m", 2.0, 1_000_000, 500_000, 2_000_000)
    assert line == pytest.approx(30 * (1.0 + 1.0 + 0.2) / 2)
    with pytest.raises(KeyError):
        uc.llm_line(prices, "unknown", 1.0, 10, 10)


def test_voice_lines_apply_groqs_minimum_and_modals_idle_tail() -> None:
    """A 2 s clip on Groq costs its 10-second minimum; a Modal clip on a busy container costs its
    processing plus the gap it adds; a cold one the start and the whole window."""
    prices = VoicePrices(groq_usd_per_second=0.04 / 3600, groq_min_seconds=10, modal_usd_per_second=0.0003,
                         modal_scaledown_seconds=60)  # fmt: skip
    lines = uc.voice_lines([uc.Clip(2.0, False, "groq")], prices)
    assert lines == {"groq_whisper": pytest.approx(30 * 10 * 0.04 / 3600), "modal_gpu": 0.0}
    warm = uc.voice_lines([uc.Clip(4.0, True, "modal", modal_idle_for=1.0)], prices)["modal_gpu"]
    assert warm == pytest.approx(30 * (0.05 + 0.04 + 1.0) * 0.0003)
    cold = uc.voice_lines([uc.Clip(4.0, True, "modal", modal_idle_for=None)], prices)["modal_gpu"]
    assert cold == pytest.approx(30 * (0.05 + 0.04 + 10 + 60) * 0.0003)


def test_polly_sqs_and_api_gateway_lines() -> None:
    """Per-unit prices times a day's units times 30."""
    assert uc.polly_line(1000, PRICES) == pytest.approx(30 * 1000 * 16 / 1e6)
    assert uc.sqs_line(100, PRICES) == pytest.approx(30 * 100 * 0.5e-6)
    assert uc.api_gateway_line(200, PRICES) == pytest.approx(30 * 200 * 1e-6)


def test_polly_shares_what_the_deployment_synthesises_once() -> None:
    """The speech cache's phrases are billed once a month for the whole deployment: their share falls with
    the number of learners, a learner's own characters do not."""
    alone = uc.polly_line(0, PRICES, fixed_chars_month=2000, learners=1)
    assert alone == pytest.approx(2000 * 16 / 1e6)
    assert uc.polly_line(0, PRICES, fixed_chars_month=2000, learners=1000) == pytest.approx(alone / 1000)
    both = uc.polly_line(100, PRICES, fixed_chars_month=2000, learners=100)
    assert both == pytest.approx(30 * 100 * 16 / 1e6 + 20 * 16 / 1e6)


def test_prices_come_from_the_settings() -> None:
    """Every AWS price has a setting: a changed setting changes the line (no constant hidden here)."""
    prices = uc.AwsPrices.from_settings(Settings(cost_sqs_fifo_usd_per_request=1e-3))
    assert uc.sqs_line(1, prices) == pytest.approx(0.03)
    defaults = Settings()
    assert set(defaults.cost_whatsapp_rates) >= {"CO", "MX", "BR", "US", "ES"}
    for rates in defaults.cost_whatsapp_rates.values():
        assert set(rates) == {"marketing", "utility", "authentication"}
        assert rates["marketing"] > rates["utility"] > 0
