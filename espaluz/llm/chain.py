"""The fallback chain and concurrent calls under one deadline.

:class:`LLM` holds the configured providers and answers :meth:`LLM.ask`: try each provider of the given
order that has a key, within the turn's deadline; a call that times out, gets a 429/5xx, or returns an
answer the parser or the guard rejects is recorded and the next provider is asked. When none answers,
``Answer.value`` is ``None`` and the agent answers from the Spanish engine. Nothing raises out of it.

Deadlines are enforced twice: the SDK's request timeout (which frees the worker thread) and the wait on
the worker here (which frees the turn even when a server trickles bytes slower than the read timeout).
A call abandoned at the deadline finishes in its worker thread and is discarded.

:meth:`LLM.gather` runs independent jobs (say the conversation partner and a grammar check) at the same
time and returns what finished by the deadline.

Routes (``LLM_ROUTES``): each agent's calls name a route (intent, conversation, check, grammar, culture,
exercises); the settings say who answers it, in order, as ``provider:model`` steps, so a cheap fast model
takes everyday conversation and the large one only what earns its price. The route's answer cap
(``LLM_MAX_TOKENS``) and each model's request parameters (``LLM_MODEL_PARAMS``) apply to every step.
A call without a configured route keeps the caller's provider order and models.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from espaluz.llm.types import Completion, Deadline, Outcome, Provider, ProviderFailure, Usage

if TYPE_CHECKING:
    from espaluz.config import Settings
    from espaluz.llm.providers import ClaudeProvider, GroqProvider, Request

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Provider calls and agent jobs use separate pools, so an agent waiting on its call never starves it.
# Work runs in a copy of the submitter's context: the log keys of its invocation (service, correlation id)
# are per thread (espaluz.ops.observability), and pool threads would otherwise log without them.
_CALLS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="llm-call")
_JOBS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="llm-job")

# How long gather waits past the deadline for jobs that end themselves at it (their engine fallback).
GRACE_SECONDS = 0.25

KEY_NAMES: dict[Provider, str] = {"groq": "GROQ_API_KEY", "claude": "ANTHROPIC_API_KEY"}

Step = tuple[Provider, str | None]  # a provider and its model (None: the provider's own default)
# The routes the agents ask by (espaluz.tutor.agents): a key outside them in the settings is a typo.
ROUTES = frozenset({"intent", "conversation", "check", "grammar", "culture", "exercises"})


def parse_route(entries: Sequence[str]) -> tuple[Step, ...]:
    """``["groq:openai/gpt-oss-120b", "claude"]`` -> steps; raises ValueError on an unknown provider (a
    typo in ``LLM_ROUTES`` must stop the deployment, not silently skip a provider)."""
    steps: list[Step] = []
    for entry in entries:
        name, _, model = entry.partition(":")
        if name not in KEY_NAMES:
            raise ValueError(f"LLM_ROUTES: unknown provider {name!r} in {entry!r} (groq or claude)")
        steps.append((name, model or None))
    return tuple(steps)


class OutputRejected(Exception):
    """Raised by a parser: the answer is not valid JSON for the model, or the guard rejected it."""

    def __init__(self, outcome: Outcome, detail: str) -> None:
        super().__init__(detail)
        self.outcome: Outcome = outcome
        self.detail = detail


@dataclass
class Answer(Generic[T]):
    """The parsed answer (``None`` when every provider failed), who gave it, and every call's usage."""

    value: T | None
    provider: Provider | None
    usages: list[Usage] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


class LLM:
    """The configured providers (either may be ``None``: no key)."""

    def __init__(
        self,
        groq: GroqProvider | None = None,
        claude: ClaudeProvider | None = None,
        *,
        routes: Mapping[str, Sequence[str]] | None = None,
        max_tokens: Mapping[str, int] | None = None,
        params: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """``routes``, ``max_tokens``, ``params``: the settings of the same names (module docstring)."""
        self.providers: dict[Provider, GroqProvider | ClaudeProvider] = {}
        if groq is not None:
            self.providers["groq"] = groq
        if claude is not None:
            self.providers["claude"] = claude
        unknown = (set(routes or {}) | set(max_tokens or {})) - ROUTES
        if unknown:
            known = ", ".join(sorted(ROUTES))
            raise ValueError(f"LLM_ROUTES or LLM_MAX_TOKENS: unknown routes {sorted(unknown)} ({known})")
        self.routes = {name: parse_route(entries) for name, entries in (routes or {}).items()}
        self.max_tokens = dict(max_tokens or {})
        self.params = {model: dict(values) for model, values in (params or {}).items()}

    @classmethod
    def from_settings(cls, settings: Settings) -> LLM:
        from espaluz.llm.providers import providers_from_settings

        groq, claude = providers_from_settings(settings)
        return cls(
            groq,
            claude,
            routes=settings.llm_routes,
            max_tokens=settings.llm_max_tokens,
            params=settings.llm_model_params,
        )

    def steps(
        self, route: str, order: Sequence[Provider], models: Mapping[Provider, str] | None = None
    ) -> tuple[Step, ...]:
        """Who answers ``route``: its configured steps, else ``order`` with the caller's ``models``."""
        if route in self.routes:
            return self.routes[route]
        return tuple((name, (models or {}).get(name)) for name in order)

    @property
    def available(self) -> frozenset[Provider]:
        return frozenset(self.providers)

    def missing_keys(self) -> list[str]:
        """The environment variables that would enable the missing providers."""
        return [KEY_NAMES[p] for p in ("groq", "claude") if p not in self.providers]

    def ask(
        self,
        request: Request,
        order: Sequence[Provider],
        parse: Callable[[str], T],
        deadline: Deadline,
        *,
        models: dict[Provider, str] | None = None,
        route: str = "",
    ) -> Answer[T]:
        """Ask each step of ``route`` (``order`` with ``models`` when the route is not configured) in turn
        until one gives an answer ``parse`` accepts. ``route`` defaults to the request's agent."""
        route = route or request.agent
        if route in self.max_tokens:
            request = replace(request, max_tokens=self.max_tokens[route])
        answer: Answer[T] = Answer(None, None)
        for name, model in self.steps(route, order, models):
            provider = self.providers.get(name)
            if provider is None:
                continue
            if deadline.expired():
                answer.failures.append(f"{name}:deadline")
                break
            model = model or provider.model
            try:
                completion = self._call(provider, request, deadline, model, self.params.get(model))
            except ProviderFailure as failure:
                if failure.usage is not None:
                    answer.usages.append(failure.usage)
                answer.failures.append(f"{name}:{failure.outcome}")
                logger.info("llm %s %s failed: %s", request.agent, name, failure.outcome)
                continue
            try:
                value = parse(completion.text)
            except OutputRejected as rejected:
                answer.usages.append(replace(completion.usage, outcome=rejected.outcome))
                answer.failures.append(f"{name}:{rejected.outcome}:{rejected.detail}")
                logger.warning("llm %s %s answer rejected: %s", request.agent, name, rejected.detail)
                continue
            answer.usages.append(completion.usage)
            answer.value, answer.provider = value, name
            return answer
        return answer

    @staticmethod
    def _call(
        provider: GroqProvider | ClaudeProvider,
        request: Request,
        deadline: Deadline,
        model: str,
        params: Mapping[str, Any] | None,
    ) -> Completion:
        limit = deadline.within(provider.timeout)
        started = time.perf_counter()
        future = _CALLS.submit(
            contextvars.copy_context().run, provider.complete, request, max(limit, 0.001), model, params
        )
        try:
            return future.result(timeout=limit)
        except FutureTimeout:
            future.cancel()
            latency_ms = int((time.perf_counter() - started) * 1000)
            usage = Usage(request.agent, provider.name, model, 0, 0, latency_ms, "timeout")
            raise ProviderFailure("timeout", f"no answer within {limit:.2f}s", usage) from None


def submit(jobs: dict[str, Callable[[], T]]) -> dict[str, Future[T]]:
    """Start independent jobs at once (collect them with :func:`collect`)."""
    return {name: _JOBS.submit(contextvars.copy_context().run, job) for name, job in jobs.items()}


def collect(futures: dict[str, Future[T]], deadline: Deadline) -> dict[str, T | None]:
    """The results of started jobs; a job not finished by the deadline (plus a short grace for jobs that
    end themselves at it) maps to ``None`` and keeps running: its future is still the caller's, e.g. to
    pick up the usage of calls it made. A job that raised maps to ``None`` too (agents don't raise)."""
    results: dict[str, T | None] = {}
    for name, future in futures.items():
        try:
            results[name] = future.result(timeout=deadline.remaining() + GRACE_SECONDS)
        except FutureTimeout:
            results[name] = None
            logger.info("llm job %s missed the deadline", name)
        except Exception:
            results[name] = None
            logger.exception("llm job %s failed", name)
    return results


def gather(jobs: dict[str, Callable[[], T]], deadline: Deadline) -> dict[str, T | None]:
    """Run independent jobs at once and return what finished by the deadline (see :func:`collect`)."""
    return collect(submit(jobs), deadline)
