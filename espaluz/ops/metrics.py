"""Business and latency metrics as CloudWatch embedded metric format (EMF) log lines.

Small functions the tutor calls at the moment something is measured; each writes one EMF line through
Powertools' ``EphemeralMetrics`` (no shared buffer to flush, no decorator on the handler), and CloudWatch
turns the line into metrics in the ``Espaluz`` namespace (``POWERTOOLS_METRICS_NAMESPACE``), with the
function as the ``service`` dimension (``POWERTOOLS_SERVICE_NAME``).

Dimensions are few and bounded (provider, send status): every distinct dimension set is a billed custom
metric. Free-form context (the route, the model) goes in as properties, searchable in Logs Insights but
not billed. Never pass personal data: no phone numbers, no message text.

Emitted in Lambda (``AWS_LAMBDA_FUNCTION_NAME`` set) unless ``ESPALUZ_METRICS=0``; elsewhere only with
``ESPALUZ_METRICS=1``, so the local stack's console stays readable. Powertools' metrics module (about
40 ms on top of the Logger) is imported on the first metric, never at import: the webhook does not import
this module at all.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools.metrics import EphemeralMetrics

NAMESPACE = "Espaluz"
PROVIDERS = frozenset({"groq", "claude", "anthropic", "modal", "whisper", "engine"})
SEND_STATUSES = frozenset({"sent", "delivered", "read", "failed", "held", "template", "undeliverable"})


def enabled() -> bool:
    flag = os.environ.get("ESPALUZ_METRICS", "").lower()
    if flag in ("0", "false", "no"):
        return False
    return flag in ("1", "true", "yes") or bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def _emit(
    values: Mapping[str, tuple[str, float]],
    dimensions: Mapping[str, str] | None = None,
    properties: Mapping[str, object] | None = None,
) -> None:
    """One EMF line: ``values`` maps metric name -> (unit, value)."""
    if not enabled():
        return
    from aws_lambda_powertools.metrics import EphemeralMetrics

    metrics: EphemeralMetrics = EphemeralMetrics(
        namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or NAMESPACE,
        service=os.environ.get("POWERTOOLS_SERVICE_NAME") or "espaluz",
    )
    for key, value in (dimensions or {}).items():
        metrics.add_dimension(key, value)
    for name, (unit, amount) in values.items():
        metrics.add_metric(name=name, unit=unit, value=amount)
    for key, prop in (properties or {}).items():
        metrics.add_metadata(key, prop)
    metrics.flush_metrics()


def turn_latency(milliseconds: float, route: str = "") -> None:
    """From the message's arrival in the tutor to the reply accepted by the Graph API."""
    _emit({"TurnLatency": ("Milliseconds", milliseconds)}, properties={"route": route} if route else None)


def provider_call(
    provider: str,
    milliseconds: float,
    *,
    input_tokens: int = 0,
    output_tokens: int = 0,
    ok: bool = True,
    model: str = "",
) -> None:
    """One call to an LLM / speech provider. ``provider`` is one of ``PROVIDERS`` (others become
    ``other`` so a typo cannot mint a new billed metric)."""
    values: dict[str, tuple[str, float]] = {"ProviderLatency": ("Milliseconds", milliseconds)}
    if input_tokens:
        values["ProviderInputTokens"] = ("Count", input_tokens)
    if output_tokens:
        values["ProviderOutputTokens"] = ("Count", output_tokens)
    values["ProviderErrors"] = ("Count", 0 if ok else 1)
    name = provider if provider in PROVIDERS else "other"
    _emit(values, {"provider": name}, {"model": model} if model else None)


def queue_age(seconds: float) -> None:
    """How long the message waited in SQS before the tutor took it (see ``queue_age_of``)."""
    _emit({"QueueAge": ("Seconds", max(seconds, 0.0))})


def queue_age_of(attributes: Mapping[str, str], now: float) -> float:
    """Seconds since SQS received the message, from a record's ``SentTimestamp`` attribute (epoch ms);
    0 when absent."""
    sent = attributes.get("SentTimestamp") or attributes.get("sentTimestamp")
    if not sent:
        return 0.0
    return max(now - int(sent) / 1000.0, 0.0)


def send_status(status: str, count: int = 1) -> None:
    """Outgoing WhatsApp messages by outcome (``SEND_STATUSES``; others become ``other``)."""
    name = status if status in SEND_STATUSES else "other"
    _emit({"Sends": ("Count", count)}, {"status": name})


def pronunciation_score(score: float, kind: str = "word") -> None:
    """A pronunciation score on 0..100 (clamped); ``kind`` (word, phoneme, utterance) is a property."""
    _emit({"PronunciationScore": ("None", min(max(score, 0.0), 100.0))}, properties={"kind": kind})


# The output guard's reasons (espaluz.llm.guard.REASONS, repeated here so ops imports nothing of llm).
GUARD_REASONS = frozenset(
    {"canary", "prompt_leak", "role_switch", "credentials", "link", "personal_data", "abuse", "language"}
)


def guard_fired(reason: str) -> None:
    """The output guard rejected a provider's answer. ``reason`` is what ``check_output`` returned
    (``"role_switch:reply"``) or its bare reason; the reason becomes the ``reason`` dimension (one of
    ``GUARD_REASONS``, others ``other``) and the field a property. Never pass the rejected text."""
    code, _, where = reason.partition(":")
    name = code if code in GUARD_REASONS else "other"
    _emit({"GuardFired": ("Count", 1)}, {"reason": name}, {"field": where[:40]} if where else None)
