"""One call to Groq or Claude through the official SDKs, with a time limit and no SDK retries.

Retries are off (``max_retries=0``): within a WhatsApp turn a second provider is a better use of the
remaining time than a backoff on the first one, and :mod:`espaluz.llm.chain` does that. A caller passes
the seconds the call may take; the SDK's own timeout ends the HTTP request then, and the chain also
stops waiting at the turn's deadline.

Claude's stable system prompt is the first system block with ``cache_control`` (prompt caching: later
calls read it at a tenth of the input price); the learner's profile goes into a second, uncached block so
the cached prefix is identical for every learner. Anthropic caches only prefixes above a minimum size
(1024 tokens for Sonnet), so short prompts are simply billed in full.

Groq answers in JSON mode (``response_format={"type": "json_object"}``); the caller validates the JSON
with pydantic. Base URLs come from the settings (``GROQ_BASE_URL``, ``ANTHROPIC_BASE_URL``): the tests
point them at local servers that speak both APIs.
"""

from __future__ import annotations

import logging
import time
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

    def complete(self, request: Request, timeout: float, model: str | None = None) -> Completion:
        """One call; raises :class:`ProviderFailure` (with its usage) on any error."""
        model = model or self.model
        messages: list[Any] = [{"role": "system", "content": request.system}]
        if request.context:
            messages.append({"role": "system", "content": request.context})
        messages.append({"role": "user", "content": request.user})
        options: dict[str, Any] = {}
        if request.json_mode:
            options["response_format"] = {"type": "json_object"}
        started = time.perf_counter()
        try:
            response = self.client.chat.completions.create(
                model=model,
                messages=messages,
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                timeout=timeout,
                **options,
            )
        except self._sdk.APIError as exc:
            raise _failure(exc, request.agent, "groq", model, started, self._sdk) from exc
        latency_ms = int((time.perf_counter() - started) * 1000)
        usage_info = response.usage
        usage = Usage(
            request.agent,
            "groq",
            response.model or model,
            usage_info.prompt_tokens if usage_info else 0,
            usage_info.completion_tokens if usage_info else 0,
            latency_ms,
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

    def complete(self, request: Request, timeout: float, model: str | None = None) -> Completion:
        """One call; raises :class:`ProviderFailure` (with its usage) on any error."""
        model = model or self.model
        system: list[Any] = [{"type": "text", "text": request.system, "cache_control": {"type": "ephemeral"}}]
        if request.context:
            system.append({"type": "text", "text": request.context})
        started = time.perf_counter()
        try:
            response = self.client.messages.create(
                model=model,
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                system=system,
                messages=[{"role": "user", "content": request.user}],
                timeout=timeout,
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
