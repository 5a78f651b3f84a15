"""One settings object for every function and the local stack.

Values come from environment variables (names as in ARCHITECTURE.md). Secrets are plain settings here so
that code and fixtures never carry them; in Lambda they are filled from Secrets Manager before the first
``get_settings()`` call (production wiring lives with the deploy issue).

A caller must know: ``get_settings()`` is cached per process. Tests that change the environment call
``get_settings.cache_clear()``. ``Settings(x=...)`` takes the given values and reads the rest from the
environment, like pydantic-settings' ``BaseSettings``.

Why not pydantic-settings: importing it costs about 100 ms on top of pydantic (bench/bench_cold_import.py),
on the webhook's cold path where Meta is waiting; the environment mapping below (case-insensitive names,
JSON for maps and lists, pydantic's own coercion for the rest) is all this project used of it.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator


def default_data_dir() -> Path:
    """Where the local stack keeps its embedded database and files (XDG data folder)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "espaluz"


class Settings(BaseModel):
    """Every setting the project reads. Unset secrets are empty, and features that need them say so."""

    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _environment(cls, given: Any) -> Any:
        """Fill every field not given explicitly from the variable of the same name, any case."""
        if not isinstance(given, dict):
            return given
        env = {key.lower(): value for key, value in os.environ.items()}
        values: dict[str, Any] = {}
        for name, info in cls.model_fields.items():
            if name in env:
                raw = env[name]
                origin = getattr(info.annotation, "__origin__", info.annotation)
                values[name] = json.loads(raw) if origin in (dict, list) else raw
        return {**values, **given}

    # WhatsApp Cloud API
    whatsapp_app_secret: SecretStr = SecretStr("")
    whatsapp_verify_token: SecretStr = SecretStr("")
    whatsapp_access_token: SecretStr = SecretStr("")
    whatsapp_phone_number_id: str = ""
    whatsapp_graph_url: str = Field(
        "https://graph.facebook.com/v23.0",
        description="Graph API base URL; the local stack points it at its emulator.",
    )
    webhook_max_body_bytes: int = 1_000_000
    whatsapp_graph_timeout_seconds: float = Field(
        3.0, gt=0, description="Each Graph API request of the tutor (per-turn budget: tutor/batch.py)."
    )
    # Send policy (espaluz.whatsapp.sender)
    whatsapp_rate_per_second: float = Field(80.0, description="Token bucket per business number.")
    whatsapp_learner_interval_seconds: float = Field(6.0, description="At most one message per learner.")
    whatsapp_send_max_wait_seconds: float = Field(
        12.0, description="Longer waits defer to the queue (a part of the per-turn budget: tutor/batch.py)."
    )
    whatsapp_send_max_attempts: int = Field(3, description="Graph calls per message (per-turn budget).")
    whatsapp_send_backoff_seconds: float = Field(0.5, description="First retry delay; doubles per attempt.")
    whatsapp_outside_window: Literal["template", "hold"] = Field(
        "template", description="Outside the 24 h window: send the template and hold the content, or hold."
    )
    whatsapp_window_template: str = "espaluz_seguimos"
    whatsapp_window_template_language: str = "es"
    whatsapp_country_numbers: dict[str, str] = Field(
        default_factory=dict,
        description='JSON map of country calling code to sending number id, e.g. {"52": "1000..."}.',
    )

    # Stripe
    stripe_api_key: SecretStr = SecretStr("")
    stripe_webhook_secret: SecretStr = SecretStr("")
    stripe_api_base: str = Field("", description="Override of Stripe's API base (local servers in tests).")

    # Plans and offers (espaluz.billing.plans reads these; see its docstring)
    billing_free_turns_per_day: int = Field(20, description="Tutor turns a free learner gets per UTC day.")
    billing_monthly_price_id: str = Field("price_espaluz_plus_monthly", description="Stripe price (monthly).")
    billing_plan_name: str = "Espaluz Plus"
    billing_free_features: str = Field("basic_drills", description="Comma-separated free-tier features.")
    billing_monthly_price_cents: int = Field(
        999, description="The monthly price shown in the chat, in cents (keep it equal to the Stripe price)."
    )
    billing_monthly_price_currency: str = Field("EUR", description="The currency of that price (ISO 4217).")
    billing_paid_features: str = Field(
        "basic_drills,unlimited_turns",
        description="Comma-separated features of the monthly plan (only features the code checks are sold).",
    )
    billing_public_url: str = Field(
        "https://wa.me/", description="Where Checkout and the portal send the learner back (success/return)."
    )
    billing_entitlement_cache_seconds: float = Field(60.0, description="How long the tutor caches a plan.")
    billing_offer_cooldown_days: int = Field(7, description="At most one offer in this many days.")
    billing_offer_quiet_days_after_no: int = Field(21, description="No offer this long after a 'no'.")
    billing_offer_streak: int = Field(5, description="Correct answers in a row that count as a streak.")
    billing_offer_bonus_feature: str = Field(
        "", description="A paid feature lent for a while with an offer ('' for no bonus)."
    )
    billing_offer_bonus_days: int = Field(7, description="How long the offer's bonus lasts.")
    billing_followup_template: str = Field(
        "espaluz_plus_followup", description="Approved template for a follow-up outside the 24 h window."
    )

    # The tutor that writes first (espaluz.scheduler): what a pass selects and the rules it never breaks.
    scheduler_quiet_hours: str = Field(
        "22-8", description="Local hours with nothing proactive: from-to, 24 h clock (22-8: 22:00 to 08:00)."
    )
    scheduler_daily_cap: int = Field(2, ge=0, description="Proactive messages per learner in 24 hours.")
    scheduler_gap_hours: float = Field(
        3.0, ge=0, description="At least this long between two proactive messages to one learner."
    )
    scheduler_idle_minutes: float = Field(
        10.0, ge=0, description="Nothing proactive this soon after the learner's last message."
    )
    scheduler_review_after_hours: float = Field(
        6.0, ge=0, description="A due review is sent once the learner has been quiet this long."
    )
    scheduler_reengage_days: str = Field(
        "3,10", description="Days of silence after which the re-engagement template goes (then stop)."
    )
    scheduler_batch: int = Field(5000, ge=1, description="Learners a pass selects per kind, at most.")
    whatsapp_reminder_template: str = Field(
        "espaluz_recordatorio", description="Approved template: the daily reminder outside the window."
    )
    whatsapp_review_template: str = Field(
        "espaluz_repaso", description="Approved template: due reviews outside the window."
    )
    whatsapp_reengage_template: str = Field(
        "espaluz_te_esperamos", description="Approved template: after days of silence."
    )

    # LLM providers (espaluz.llm). Base URLs: empty = the SDK's default; tests point them at local servers.
    groq_api_key: SecretStr = SecretStr("")
    anthropic_api_key: SecretStr = SecretStr("")
    groq_base_url: str = ""
    anthropic_base_url: str = ""
    groq_model: str = Field(
        "openai/gpt-oss-120b", description="Groq's model where a route names the provider alone ('groq')."
    )
    claude_model: str = Field(
        "claude-sonnet-4-5", description="Claude's model where a route names the provider alone ('claude')."
    )
    llm_routes: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "intent": ["groq:llama-3.1-8b-instant"],
            "conversation": ["groq:openai/gpt-oss-120b", "claude:claude-haiku-4-5"],
            "check": ["groq:openai/gpt-oss-120b", "groq:llama-3.3-70b-versatile"],
            "grammar": ["groq:openai/gpt-oss-120b", "claude:claude-haiku-4-5"],
            "culture": ["claude:claude-sonnet-4-5", "groq:openai/gpt-oss-120b"],
            "exercises": ["groq:openai/gpt-oss-120b", "groq:llama-3.3-70b-versatile"],
        },
        description='Who answers each route, in order, JSON: {"route": ["provider:model", ...]} '
        "(routes: intent, conversation, check, grammar, culture, exercises; a provider without a key is "
        "skipped).",
    )
    llm_max_tokens: dict[str, int] = Field(
        default_factory=lambda: dict(
            intent=60, conversation=300, check=300, grammar=400, culture=350, exercises=250
        ),
        description="The longest visible answer of each route, in tokens (a WhatsApp message, not an essay).",
    )
    llm_model_params: dict[str, dict[str, Any]] = Field(
        default_factory=lambda: {
            model: {"reasoning_effort": "low", "include_reasoning": False, "reserve_tokens": 250}
            for model in ("openai/gpt-oss-120b", "openai/gpt-oss-20b")
        },
        description="Request parameters by model, JSON. Sent as they are, except temperature: null (the "
        "model refuses a non-default temperature: none is sent) and reserve_tokens (added to the route's "
        "max tokens for a reasoning model's hidden reasoning).",
    )
    llm_groq_timeout_seconds: float = Field(2.5, description="Deadline of one Groq call.")
    llm_claude_timeout_seconds: float = Field(6.0, description="Deadline of one Claude call.")
    llm_turn_deadline_seconds: float = Field(8.0, description="All LLM work of one turn, fallbacks included.")
    llm_cache_ttl_seconds: int = Field(30 * 24 * 3600, description="Cached explanations and culture notes.")
    llm_prices: dict[str, dict[str, float]] = Field(
        default_factory=lambda: {
            # groq.com/pricing (read 2026-12): cached input at half the input price (prompt caching).
            "openai/gpt-oss-120b": {"in": 0.15, "out": 0.60, "cache_read": 0.075},
            "openai/gpt-oss-20b": {"in": 0.075, "out": 0.30, "cache_read": 0.0375},
            "llama-3.3-70b-versatile": {"in": 0.59, "out": 0.79},
            "llama-3.1-8b-instant": {"in": 0.05, "out": 0.08},
            # anthropic.com/pricing (read 2026-12): cache reads 0.1x input, 5-minute cache writes 1.25x.
            "claude-sonnet-4-5": {"in": 3.0, "out": 15.0, "cache_read": 0.30, "cache_write": 3.75},
            "claude-haiku-4-5": {"in": 1.0, "out": 5.0, "cache_read": 0.10, "cache_write": 1.25},
        },
        description='USD per million tokens by model, JSON: {"model": {"in", "out", "cache_read"?, ...}}.',
    )

    # Modal
    modal_token_id: SecretStr = SecretStr("")
    modal_token_secret: SecretStr = SecretStr("")
    # The deployed GPU app (gpu/): the tutor looks up modal.Cls.from_name(MODAL_APP_NAME, MODAL_CLASS_NAME).
    modal_app_name: str = "espaluz-voice"
    modal_class_name: str = "Pronunciation"
    modal_gpu: str = Field(
        "",
        description="GPU type of the voice app (gpu/app.py reads it at deploy); empty: a CPU-only container, "
        "cheaper below some 25,000 learners (espaluz.voice.costs), and Whisper on Groq.",
    )
    modal_scaledown_window_seconds: int = Field(
        60, description="Idle seconds before a GPU container stops, outside the evening peak."
    )
    modal_peak_scaledown_window_seconds: int = Field(
        300, description="Idle seconds during the evening peak (gpu/app.py's crons switch between them)."
    )
    modal_peak_start_hour_utc: int = Field(22, ge=0, le=23, description="UTC hour the evening peak starts.")
    modal_peak_end_hour_utc: int = Field(4, ge=0, le=23, description="UTC hour the evening peak ends.")
    modal_max_inputs: int = Field(4, ge=1, description="Clips one voice container takes at once.")
    modal_cpu: float = Field(2.0, gt=0, description="CPU cores reserved per voice container.")
    modal_gpu_usd_per_second: float | None = Field(
        None, description="Modal GPU price per second; None: the list price of MODAL_GPU (modal.com/pricing)."
    )
    modal_cpu_usd_per_core_second: float = Field(
        0.0000131, description="Modal CPU price (modal.com/pricing)."
    )
    modal_memory_usd_per_gib_second: float = Field(
        0.00000222, description="Modal memory price per GiB-second (modal.com/pricing)."
    )
    voice_groq_usd_per_audio_hour: float = Field(
        0.04, description="Groq whisper-large-v3-turbo price per audio hour (groq.com/pricing)."
    )
    voice_groq_min_billed_seconds: float = Field(
        10.0, description="Groq bills at least this many seconds per transcription."
    )

    # Voice (espaluz.voice): routing thresholds, limits, model voice, retention
    voice_fast_max_seconds: float = Field(
        30.0,
        description="Clean free-speech clips shorter than this may use Groq (cheaper at any length: see "
        "espaluz.voice.routing); longer ones go to the GPU app's VAD-aware pipeline.",
    )
    voice_fast_min_snr_db: float = Field(20.0, description="...and only when cleaner than this (dB SNR).")
    voice_max_bytes: int = Field(16 * 1024 * 1024, description="Larger voice notes are refused politely.")
    voice_max_seconds: float = Field(120.0, description="Longer voice notes are refused politely.")
    voice_groq_model: str = "whisper-large-v3-turbo"
    voice_groq_timeout_seconds: float = Field(
        3.0, description="Deadline of one Groq transcription (clips under 5 s; no SDK retry)."
    )
    voice_modal_timeout_seconds: float = Field(
        15.0, le=25.0, description="Deadline of one Modal assessment; the call is cancelled past it."
    )
    voice_download_attempts: int = Field(
        2, ge=1, description="Tries to fetch a voice note in a turn (a fresh URL each: one may expire)."
    )
    voice_deadline_seconds: float = Field(
        18.0, gt=0, description="Download and recognition of one voice note, fallbacks included."
    )
    voice_tts: Literal["espeak", "polly"] = Field("espeak", description="Model pronunciation voice.")
    polly_voice_latam: str = Field("Mia", description="Amazon Polly neural voice for Latin American Spanish.")
    polly_voice_spain: str = Field("Lucia", description="Amazon Polly neural voice for Spain.")
    audio_retention_days: int = Field(30, description="Learners' audio is deleted after this many days.")

    # Operations (espaluz.ops)
    whatsapp_business_account_id: str = Field(
        "", description="WABA id: `espaluz templates check` lists its message templates."
    )
    audio_bucket: str = Field("", description="S3 bucket for voice audio (expires by lifecycle rule).")

    # Infrastructure
    database_url: str = ""
    redis_url: str = ""
    redis_cluster: bool = Field(
        False,
        description="Use the cluster client (ElastiCache Serverless is always cluster-mode); see "
        "espaluz/storage/redis.py for what that asks of the code.",
    )
    queue_url: str = ""
    database_behind_proxy: bool = Field(
        False, description="RDS Proxy in front: psycopg's automatic prepared statements are turned off."
    )
    espaluz_data_dir: Path = Field(default_factory=default_data_dir)

    # Behaviour
    dedupe_ttl_seconds: int = Field(7 * 24 * 3600, description="How long a seen wamid is remembered.")
    tutor_onboarding: bool = Field(True, description="New learners answer a few setup questions first.")
    turn_claim_timeout_seconds: float = Field(
        90.0, description="A turn claimed longer ago was abandoned; must exceed the tutor's Lambda timeout."
    )
    # The local stack's stand-in for the tutor's SQS event source (espaluz.dev.worker).
    local_tutor_concurrency: int = Field(
        10, ge=1, description="Tutor invocations the local stack runs at once, like tutorMaxConcurrency."
    )
    tutor_timeout_seconds: float = Field(
        60.0, gt=0, description="The tutor's Lambda timeout as the local stack enforces it (serverless.yml)."
    )
    local_dlq_retention_seconds: int = Field(
        345_600,
        gt=0,
        description="How long the local queue keeps a dead letter: SQS's default retention (4 days), so "
        "the local stack holds learners' messages no longer than production does.",
    )
    tutor_retry_visibility_seconds: float = Field(
        15.0,
        ge=0,
        description="A retryable failure's message is visible again this soon (ChangeMessageVisibility) "
        "instead of after the queue's visibility timeout; tutor/batch.py.",
    )
    tutor_retry_jitter_seconds: float = Field(5.0, ge=0, description="Plus or minus this, at random.")
    conversation_ttl_seconds: int = Field(
        24 * 3600, description="Conversation state follows the 24 h window."
    )
    log_level: str = "INFO"

    # Pedagogical memory (espaluz.memory). The dimension is fixed per deployment by the schema (migration
    # 0003: vector(512)); a mismatch is an error at startup, and changing it is a migration.
    embedder: str = Field("deterministic", description="deterministic | bedrock | local")
    embedding_dim: int = Field(512, description="Must equal the vector(N) column of the memories table.")
    bedrock_embedding_model_id: str = "amazon.titan-embed-text-v2:0"
    bedrock_region: str = Field("", description="Bedrock region; empty: boto3's default (AWS_REGION).")
    memory_context_tokens: int = Field(1500, description="Token budget of the memory context for a turn.")

    # Cost simulation prices (espaluz.ops.unit_costs): list prices with their source and date.
    # AWS us-east-1 list prices (aws.amazon.com/<service>/pricing), as of 2026-12-04; not re-read from the
    # pages that day (this environment has no web access beyond a search index): check before quoting.
    cost_lambda_usd_per_gb_second: float = Field(
        0.0000133334, description="Lambda arm64 duration, first tier (aws.amazon.com/lambda/pricing)."
    )
    cost_lambda_usd_per_request: float = Field(0.20 / 1e6, description="Lambda requests (0.20 USD/million).")
    cost_sqs_fifo_usd_per_request: float = Field(
        0.50 / 1e6, description="SQS FIFO requests, per 64 KB chunk (0.50 USD/million; aws.amazon.com/sqs)."
    )
    cost_apigw_http_usd_per_request: float = Field(
        1.00 / 1e6, description="API Gateway HTTP API, first 300 million a month (1.00 USD/million)."
    )
    cost_aurora_usd_per_acu_hour: float = Field(0.12, description="Aurora Serverless v2 (Standard), ACU-h.")
    cost_aurora_min_acu: float = Field(0.5, description="The prod stage's minimum capacity (infra/).")
    cost_aurora_turns_per_second_per_acu: float = Field(
        40.0, gt=0, description="Assumption, not measured: tutor turns per second one ACU sustains."
    )
    cost_aurora_storage_usd_per_gb_month: float = Field(0.10, description="Aurora storage per GB-month.")
    cost_cache_usd_per_gb_hour: float = Field(
        0.084, description="ElastiCache Serverless for Valkey, data stored per GB-hour."
    )
    cost_cache_min_gb: float = Field(0.1, description="ElastiCache Serverless Valkey's minimum (100 MB).")
    cost_cache_usd_per_million_ecpu: float = Field(0.0023, description="ElastiCache Serverless Valkey ECPUs.")
    cost_polly_neural_usd_per_million_chars: float = Field(
        16.0, description="Amazon Polly neural voices, per million characters (aws.amazon.com/polly/pricing)."
    )
    cost_peak_to_mean: float = Field(3.0, gt=0, description="Assumption: evening peak over the daily mean.")
    cost_cache_retention_days: float = Field(
        7.0, description="Days a turn's Redis keys live (wamids, delivery statuses: DEDUPE_TTL_SECONDS)."
    )
    # WhatsApp Business Platform, USD per delivered message by recipient country and category. Meta's own
    # rate card (developers.facebook.com/docs/whatsapp/pricing) could not be opened here; figures read
    # 2026-12-04 from copies of it: CO and BR from the USD equivalents of Meta's AED card effective
    # 2026-10-01 (huggingface.co/datasets/tobachat/whatsapp-api-rates, AED / 3.6725), CO utility also
    # on formbeep.pages.dev/whatsapp-api-pricing (rates effective 2026-04-01); US ("North America") from
    # the SleekFlow calculator as harvested 2026-09-20 (0.025 / 0.0034); MX and ES are Meta's 1 July 2025
    # card as we remember it, NOT confirmed against a source read today (Meta lowered MX marketing on
    # 2025-10-01 and NA utility on 2026-01-01 according to support.wati.io: those two may be lower now).
    cost_whatsapp_rates: dict[str, dict[str, float]] = Field(
        default_factory=lambda: {
            "CO": {"marketing": 0.0125, "utility": 0.0008, "authentication": 0.0008},
            "MX": {"marketing": 0.0305, "utility": 0.0085, "authentication": 0.0085},
            "BR": {"marketing": 0.0625, "utility": 0.0068, "authentication": 0.0068},
            "US": {"marketing": 0.0250, "utility": 0.0034, "authentication": 0.0034},
            "ES": {"marketing": 0.0615, "utility": 0.0200, "authentication": 0.0200},
        },
        description='JSON {"CC": {"marketing", "utility", "authentication"}}: USD per delivered template.',
    )
    cost_whatsapp_service_billed: bool = Field(
        True,
        description="Free-form replies in the 24 h window (and utility templates there) billed at the "
        "utility rate: reported from 2026-10-01 by BSPs (chakrahq.com, ycloud.com, hello-charles.com, read "
        "2026-12-04), not confirmed on Meta's page; false: the July 2025 rules (free in the window).",
    )
    cost_whatsapp_service_free_per_number_month: int = Field(
        1000, description="Service messages free per business number a month under those rules (reported)."
    )
    cost_whatsapp_template_categories: dict[str, str] = Field(
        default_factory=lambda: {
            "espaluz_seguimos": "utility",
            "espaluz_plus_followup": "marketing",
            "espaluz_recordatorio": "marketing",
            "espaluz_repaso": "marketing",
            "espaluz_te_esperamos": "marketing",
        },
        description="The category Meta files each template under (assumed: practice nudges are marketing).",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; see module docstring).

    In Lambda, ``ESPALUZ_SECRETS`` names Secrets Manager secrets; they are read here, once per container,
    into the environment before the settings are built (``espaluz.ops.secrets``, imported only then)."""
    if os.environ.get("ESPALUZ_SECRETS"):
        from espaluz.ops.secrets import load_secrets

        load_secrets()
    return Settings()
