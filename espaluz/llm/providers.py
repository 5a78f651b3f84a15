"""One call to Groq or Claude through the official SDKs, with a time limit and no SDK retries.

Retries are off (``max_retries=0``): within a WhatsApp turn a second provider is a better use of the
remaining time than a backoff on the first one, and :mod:`espaluz.llm.chain` does that. A caller passes
the seconds the call may take; the SDK's own timeout ends the HTTP request then, and the chain also
stops waiting at the turn's deadline.

Claude's stable system prompt is the first system block with ``cache_control`` (prompt caching: later
calls read it at a tenth of the input price); the learner's profile goes into a second, uncached block so
the cached prefix is identical for every learner. Anthropic caches only prefixes above a minimum size
(1,024 tokens for Sonnet 4.5, 4,096 for Haiku 4.5), so short prompts are simply billed in full: the
culture guide's prompt is long enough on purpose (espaluz.tutor.agents.culture).

Request parameters come from ``LLM_MODEL_PARAMS`` by model (:func:`call_options`): some models refuse
a non-default ``temperature`` (``"temperature": null`` sends none), reasoning models take
``reasoning_effort`` and need room for their hidden reasoning (``reserve_tokens``, added to the answer
cap, since Groq counts reasoning within ``max_tokens``). Other keys go as they are (``extra_body``), so
a new parameter needs no code.

Groq caches prompt prefixes by itself on some models (half price for the cached part): its usage reports
``prompt_tokens_details.cached_tokens``, recorded here as cache reads, with ``tokens_in`` the uncached
rest, as Anthropic reports it.

Groq answers in JSON mode (``response_format={"type": "json_object"}``); the caller validates the JSON
with pydantic. Base URLs come from the settings (``GROQ_BASE_URL``, ``ANTHROPIC_BASE_URL``): the tests
point them at local servers that speak both APIs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from espaluz.llm.types import Completion, Outcome, Provider, ProviderFailure, Usage

if TYPE_CHECKING:
    from espaluz.config import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Request:
    """What an agent asks. ``system`` is the stable instruction text (identical for every learner: it is
    what Claude caches); ``context`` is the per-learner part; ``user`` is the message content, with the
    learner's own words already wrapped as data by :func:`espaluz.llm.guard.as_data`."""

    agent: str
    system: str
    context: str
    user: str
    max_tokens: int = 400
    temperature: float = 0.4
    json_mode: bool = True


def call_options(request: Request, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The SDK keyword arguments for ``request`` on a model with these ``LLM_MODEL_PARAMS``:
    ``max_tokens`` (plus ``reserve_tokens``), ``temperature`` unless the model takes none, and every
    other parameter in ``extra_body``."""
    extra = dict(params or {})
    reserve = int(extra.pop("reserve_tokens", 0))
    options: dict[str, Any] = {"max_tokens": request.max_tokens + reserve}
    temperature = extra.pop("temperature", request.temperature)
    if temperature is not None:
        options["temperature"] = temperature
    if extra:
        options["extra_body"] = extra
    return options


def _cached_prompt_tokens(usage: Any) -> int:
    """Groq's ``usage.prompt_tokens_details.cached_tokens`` (0 when absent: not every model caches, and
    SDK versions differ on whether the field is typed)."""
    details = getattr(usage, "prompt_tokens_details", None)
    if details is None and getattr(usage, "model_extra", None):
        details = usage.model_extra.get("prompt_tokens_details")
    if isinstance(details, dict):
        return int(details.get("cached_tokens") or 0)
    return int(getattr(details, "cached_tokens", 0) or 0)


def _failure(
    exc: Exception, agent: str, provider: Provider, model: str, started: float, status_module: Any
) -> ProviderFailure:
    latency_ms = int((time.perf_counter() - started) * 1000)
    outcome: Outcome
    if isinstance(exc, status_module.APITimeoutError):
        outcome = "timeout"
    elif isinstance(exc, status_module.APIStatusError):
        code = exc.status_code
        outcome = "rate_limited" if code == 429 else "server_error" if code >= 500 else "client_error"
    elif isinstance(exc, status_module.APIConnectionError):
        outcome = "connection"
    else:
        outcome = "server_error"
    usage = Usage(agent, provider, model, 0, 0, latency_ms, outcome)
    return ProviderFailure(outcome, type(exc).__name__, usage)


class GroqProvider:
    """Chat completions on Groq (OpenAI-compatible), JSON mode."""

    name: Provider = "groq"

    def __init__(self, api_key: str, model: str, *, base_url: str = "", timeout: float = 2.5) -> None:
        import groq

        self.model = model
        self.timeout = timeout
        self._sdk = groq
        self.client = groq.Groq(api_key=api_key, base_url=base_url or None, max_retries=0, timeout=timeout)

    def complete(
        self,
        request: Request,
        timeout: float,
        model: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Completion:
        """One call; raises :class:`ProviderFailure` (with its usage) on any error."""
        model = model or self.model
        messages: list[Any] = [{"role": "system", "content": request.system}]
        if request.context:
            messages.append({"role": "system", "content": request.context})
        messages.append({"role": "user", "content": request.user})
        options = call_options(request, params)
        if request.json_mode:
            options["response_format"] = {"type": "json_object"}
        started = time.perf_counter()
        try:
            response = self.client.chat.completions.create(
                model=model, messages=messages, timeout=timeout, **options
            )
        except self._sdk.APIError as exc:
            raise _failure(exc, request.agent, "groq", model, started, self._sdk) from exc
        latency_ms = int((time.perf_counter() - started) * 1000)
        usage_info = response.usage
        cached = _cached_prompt_tokens(usage_info) if usage_info else 0
        usage = Usage(
            request.agent,
            "groq",
            response.model or model,
            usage_info.prompt_tokens - cached if usage_info else 0,
            usage_info.completion_tokens if usage_info else 0,
            latency_ms,
            cache_read_tokens=cached,
        )
        text = response.choices[0].message.content if response.choices else None
        if not text:
            raise ProviderFailure("bad_output", "empty answer", _with_outcome(usage, "bad_output"))
        return Completion(text, usage)


class ClaudeProvider:
    """Anthropic Messages with the stable system prompt cached."""

    name: Provider = "claude"

    def __init__(self, api_key: str, model: str, *, base_url: str = "", timeout: float = 6.0) -> None:
        import anthropic

        self.model = model
        self.timeout = timeout
        self._sdk = anthropic
        self.client = anthropic.Anthropic(
            api_key=api_key, base_url=base_url or None, max_retries=0, timeout=timeout
        )

    def complete(
        self,
        request: Request,
        timeout: float,
        model: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Completion:
        """One call; raises :class:`ProviderFailure` (with its usage) on any error."""
        model = model or self.model
        system: list[Any] = [{"type": "text", "text": request.system, "cache_control": {"type": "ephemeral"}}]
        if request.context:
            system.append({"type": "text", "text": request.context})
        started = time.perf_counter()
        try:
            response = self.client.messages.create(
                model=model,
                system=system,
                messages=[{"role": "user", "content": request.user}],
                timeout=timeout,
                **call_options(request, params),
            )
        except self._sdk.APIError as exc:
            raise _failure(exc, request.agent, "claude", model, started, self._sdk) from exc
        latency_ms = int((time.perf_counter() - started) * 1000)
        info = response.usage
        usage = Usage(
            request.agent,
            "claude",
            response.model or model,
            info.input_tokens,
            info.output_tokens,
            latency_ms,
            cache_read_tokens=info.cache_read_input_tokens or 0,
            cache_write_tokens=info.cache_creation_input_tokens or 0,
        )
        text = "".join(block.text for block in response.content if block.type == "text")
        if not text:
            raise ProviderFailure("bad_output", "empty answer", _with_outcome(usage, "bad_output"))
        return Completion(text, usage)


def _with_outcome(usage: Usage, outcome: Outcome) -> Usage:
    from dataclasses import replace

    return replace(usage, outcome=outcome)


def providers_from_settings(settings: Settings) -> tuple[GroqProvider | None, ClaudeProvider | None]:
    """The providers whose key is set (``None`` for the others)."""
    groq_key = settings.groq_api_key.get_secret_value()
    claude_key = settings.anthropic_api_key.get_secret_value()
    groq_provider = (
        GroqProvider(
            groq_key,
            settings.groq_model,
            base_url=settings.groq_base_url,
            timeout=settings.llm_groq_timeout_seconds,
        )
        if groq_key
        else None
    )
    claude_provider = (
        ClaudeProvider(
            claude_key,
            settings.claude_model,
            base_url=settings.anthropic_base_url,
            timeout=settings.llm_claude_timeout_seconds,
        )
        if claude_key
        else None
    )
    return groq_provider, claude_provider
