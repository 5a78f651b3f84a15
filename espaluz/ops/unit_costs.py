"""Price lines of the cost simulation: counted quantities in, USD per learner per month out. Pure, no I/O.

``espaluz.dev.costsim`` counts what learners actually caused when their messages went through the real
handlers (tokens by model from ``llm_usage``, voice clips, Polly characters, Lambda seconds, queue and
gateway requests, Redis and Postgres growth, outbound WhatsApp messages by category); this module turns
those counts into money with the list prices in the settings (``COST_*`` and ``LLM_PRICES``, each with
its source and the date it was read, in ``espaluz.config``). Every function takes counts *per learner
per day* and returns USD *per learner per month* (``DAYS_PER_MONTH`` days), so a line is one
multiplication a reader can redo by hand; the method of each line is in its docstring.

Shared infrastructure (Aurora, ElastiCache, the scheduler's Lambda) is billed per deployment, not per
learner: its lines take the number of learners ``n`` the deployment serves and return that learner's
share. A caller must know: these are estimates from list prices (free tiers, taxes, savings plans and
volume discounts aside), not invoices.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from espaluz.llm.usage import cost_usd
from espaluz.voice.costs import VoicePrices, groq_cost_usd, modal_cost_usd

DAYS_PER_MONTH = 30.0
HOURS_PER_MONTH = 730.0  # AWS's convention for hourly prices
SECONDS_PER_DAY = 86_400.0
TEMPLATE_CATEGORIES = ("marketing", "utility", "authentication")


@dataclass(frozen=True, slots=True)
class AwsPrices:
    """us-east-1 list prices the AWS lines use (``from_settings``)."""

    lambda_usd_per_gb_second: float
    lambda_usd_per_request: float
    sqs_fifo_usd_per_request: float
    apigw_http_usd_per_request: float
    aurora_usd_per_acu_hour: float
    aurora_min_acu: float
    aurora_turns_per_second_per_acu: float
    aurora_storage_usd_per_gb_month: float
    cache_usd_per_gb_hour: float
    cache_min_gb: float
    cache_usd_per_million_ecpu: float
    polly_neural_usd_per_million_chars: float
    peak_to_mean: float

    @classmethod
    def from_settings(cls, settings: object) -> AwsPrices:
        """The ``cost_*`` settings (``espaluz.config.Settings``; typed loosely to keep this module pure)."""
        g = settings.__getattribute__
        return cls(
            lambda_usd_per_gb_second=g("cost_lambda_usd_per_gb_second"),
            lambda_usd_per_request=g("cost_lambda_usd_per_request"),
            sqs_fifo_usd_per_request=g("cost_sqs_fifo_usd_per_request"),
            apigw_http_usd_per_request=g("cost_apigw_http_usd_per_request"),
            aurora_usd_per_acu_hour=g("cost_aurora_usd_per_acu_hour"),
            aurora_min_acu=g("cost_aurora_min_acu"),
            aurora_turns_per_second_per_acu=g("cost_aurora_turns_per_second_per_acu"),
            aurora_storage_usd_per_gb_month=g("cost_aurora_storage_usd_per_gb_month"),
            cache_usd_per_gb_hour=g("cost_cache_usd_per_gb_hour"),
            cache_min_gb=g("cost_cache_min_gb"),
            cache_usd_per_million_ecpu=g("cost_cache_usd_per_million_ecpu"),
            polly_neural_usd_per_million_chars=g("cost_polly_neural_usd_per_million_chars"),
            peak_to_mean=g("cost_peak_to_mean"),
        )


def monthly(per_day_usd: float) -> float:
    """A day's cost as a month's (``DAYS_PER_MONTH`` days)."""
    return per_day_usd * DAYS_PER_MONTH


def llm_line(
    prices: Mapping[str, Mapping[str, float]],
    model: str,
    learner_days: float,
    tokens_in: int,
    tokens_out: int,
    cache_read: int = 0,
    cache_write: int = 0,
) -> float:
    """One model's tokens over ``learner_days`` (learners x days simulated): priced by
    ``espaluz.llm.usage.cost_usd`` (the function ``espaluz costs`` bills stored usage with), divided by
    the learner-days, times 30. ``tokens_in`` is the uncached input; cache reads and writes are priced at
    the model's cache rates. A model without a price raises ``KeyError``: a line silently at 0 would
    understate the total."""
    cost = cost_usd(prices, model, tokens_in, tokens_out, cache_read, cache_write)
    if cost is None:
        raise KeyError(f"no price for model {model!r} in LLM_PRICES")
    return monthly(cost / max(learner_days, 1e-9))


@dataclass(frozen=True, slots=True)
class Clip:
    """One voice note a learner sent: its length, whether it answered a pronunciation exercise, where
    the routing rule sent it, and how long the Modal container had been idle (``None``: cold)."""

    seconds: float
    exercise: bool
    route: str  # "groq" | "modal"
    modal_idle_for: float | None = None


def voice_lines(clips_per_day: list[Clip], prices: VoicePrices) -> dict[str, float]:
    """``groq_whisper`` and ``modal_gpu``: each clip priced by ``espaluz.voice.costs`` (Groq's 10-second
    minimum per request; Modal's processing seconds plus the idle tail the call adds, a cold start and the
    whole scale-down window when no container was warm), summed over a learner's day, times 30. Modal's
    rate is GPU + CPU + memory per second (``VoicePrices``)."""
    groq = sum(groq_cost_usd(c.seconds, prices) for c in clips_per_day if c.route == "groq")
    modal = sum(
        modal_cost_usd(c.seconds, prices, exercise=c.exercise, idle_for=c.modal_idle_for)
        for c in clips_per_day
        if c.route == "modal"
    )
    return {"groq_whisper": monthly(groq), "modal_gpu": monthly(modal)}


def polly_line(
    chars_per_day: float, prices: AwsPrices, *, fixed_chars_month: float = 0.0, learners: int = 1
) -> float:
    """Amazon Polly neural at its per-character price: the learner's own characters a day times 30, plus
    their share (``1/learners``) of what the deployment synthesises a month whatever the number of learners
    (the shared phrases the speech cache keeps: each synthesised once per retention period)."""
    usd = prices.polly_neural_usd_per_million_chars / 1e6
    return monthly(chars_per_day * usd) + fixed_chars_month * usd / max(learners, 1)


def lambda_line(
    gb_seconds_per_day: float, requests_per_day: float, prices: AwsPrices, *, fixed_gb_seconds_month: float,
    fixed_requests_month: float, learners: int,
) -> float:  # fmt: skip
    """AWS Lambda (arm64): the learner's GB-seconds (each invocation's billed duration times its memory)
    and requests a day times 30, plus their share (``1/learners``) of what runs whatever the traffic (the
    scheduler's pass every 5 minutes)."""
    own = monthly(
        gb_seconds_per_day * prices.lambda_usd_per_gb_second
        + requests_per_day * prices.lambda_usd_per_request
    )
    fixed = (
        fixed_gb_seconds_month * prices.lambda_usd_per_gb_second
        + fixed_requests_month * prices.lambda_usd_per_request
    )
    return own + fixed / max(learners, 1)


def sqs_line(requests_per_day: float, prices: AwsPrices) -> float:
    """SQS FIFO: API requests a day (each 64 KB chunk is one; our messages are a few KB) times 30."""
    return monthly(requests_per_day * prices.sqs_fifo_usd_per_request)


def api_gateway_line(requests_per_day: float, prices: AwsPrices) -> float:
    """API Gateway HTTP API: webhook requests a day (inbound messages and the delivery statuses Meta posts
    for every outbound message) times 30."""
    return monthly(requests_per_day * prices.apigw_http_usd_per_request)


def aurora_line(
    turns_per_learner_day: float, storage_bytes_per_learner_day: float, prices: AwsPrices, learners: int
) -> float:
    """Aurora Serverless v2, the learner's share at ``learners``: capacity is
    ``max(min ACU, peak turns/s / turns per ACU)``, with peak turns/s = mean turns/s x ``peak_to_mean``
    (the evening peak) and ``aurora_turns_per_second_per_acu`` an assumption (not measured here: an ACU
    is ~2 GiB and a share of a vCPU; a turn is a handful of indexed queries), held all month
    (``HOURS_PER_MONTH``) and divided by ``learners``; plus storage: the bytes a learner's turns add a day
    (measured, ``pg_database_size``), accumulated over the month (on average half a month's worth is
    stored, plus the month before: 1.5 months' growth), at the GB-month price."""
    mean_tps = turns_per_learner_day * learners / SECONDS_PER_DAY
    acu = max(prices.aurora_min_acu, mean_tps * prices.peak_to_mean / prices.aurora_turns_per_second_per_acu)
    compute = acu * HOURS_PER_MONTH * prices.aurora_usd_per_acu_hour / max(learners, 1)
    stored_gb = storage_bytes_per_learner_day * DAYS_PER_MONTH * 1.5 / 1e9
    return compute + stored_gb * prices.aurora_storage_usd_per_gb_month


def elasticache_line(
    bytes_per_learner_day: float,
    retention_days: float,
    ecpu_per_learner_day: float,
    prices: AwsPrices,
    learners: int,
) -> float:
    """ElastiCache Serverless (Valkey), the learner's share at ``learners``: data stored is the bytes a
    learner's day adds to Redis (measured: ``used_memory`` growth) kept ``retention_days`` (the dedupe
    horizon: wamids and delivery statuses live 7 days), times ``learners``, at least ``cache_min_gb``,
    at the GB-hour price all month, divided by ``learners``; plus ECPUs (one per command of up to 1 KB,
    measured as commands processed) at their price."""
    stored_gb = max(prices.cache_min_gb, bytes_per_learner_day * retention_days * learners / 1e9)
    data = stored_gb * HOURS_PER_MONTH * prices.cache_usd_per_gb_hour / max(learners, 1)
    return data + monthly(ecpu_per_learner_day * prices.cache_usd_per_million_ecpu / 1e6)


def whatsapp_line(
    messages_per_day: Mapping[str, float],
    rates: Mapping[str, float],
    *,
    service_billed: bool,
    service_free_per_number_month: float = 0.0,
    learners_per_number: int = 1,
) -> float:
    """WhatsApp Business Platform fees for one country, per learner per month. ``messages_per_day`` maps
    a category to the learner's delivered messages a day: ``marketing``, ``utility`` and
    ``authentication`` are templates billed outside the customer-service window (``utility_in_window``:
    utility templates inside an open window, free), ``service`` is free-form replies inside the window.
    Since 1 July 2025 Meta bills per delivered template by category and country (``rates``); service
    replies were free. ``service_billed``: from 1 October 2026 service messages (and utility templates in
    the window) are reported to be billed at the utility rate, the first ``service_free_per_number_month``
    per business number free (shared by ``learners_per_number``)."""
    per_day = 0.0
    for category in TEMPLATE_CATEGORIES:
        per_day += messages_per_day.get(category, 0.0) * rates.get(category, 0.0)
    month = monthly(per_day)
    if service_billed:
        in_window = messages_per_day.get("service", 0.0) + messages_per_day.get("utility_in_window", 0.0)
        billable = max(0.0, monthly(in_window) - service_free_per_number_month / max(learners_per_number, 1))
        month += billable * rates.get("utility", 0.0)
    return month


__all__ = [
    "DAYS_PER_MONTH",
    "AwsPrices",
    "Clip",
    "api_gateway_line",
    "aurora_line",
    "elasticache_line",
    "lambda_line",
    "llm_line",
    "monthly",
    "polly_line",
    "sqs_line",
    "voice_lines",
    "whatsapp_line",
]
