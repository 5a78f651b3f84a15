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
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Generic, TypeVar

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

    def __init__(self, groq: GroqProvider | None = None, claude: ClaudeProvider | None = None) -> None:
        self.providers: dict[Provider, GroqProvider | ClaudeProvider] = {}
        if groq is not None:
            self.providers["groq"] = groq
        if claude is not None:
            self.providers["claude"] = claude

    @classmethod
    def from_settings(cls, settings: Settings) -> LLM:
        from espaluz.llm.providers import providers_from_settings

        groq, claude = providers_from_settings(settings)
        return cls(groq, claude)

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
    ) -> Answer[T]:
        """Ask each provider of ``order`` in turn until one gives an answer ``parse`` accepts."""
        answer: Answer[T] = Answer(None, None)
        for name in order:
            provider = self.providers.get(name)
            if provider is None:
                continue
            if deadline.expired():
                answer.failures.append(f"{name}:deadline")
                break
            model = (models or {}).get(name)
            try:
                completion = self._call(provider, request, deadline, model)
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
        provider: GroqProvider | ClaudeProvider, request: Request, deadline: Deadline, model: str | None
    ) -> Completion:
        limit = deadline.within(provider.timeout)
        started = time.perf_counter()
        future = _CALLS.submit(
            contextvars.copy_context().run, provider.complete, request, max(limit, 0.001), model
        )
        try:
            return future.result(timeout=limit)
        except FutureTimeout:
            future.cancel()
            latency_ms = int((time.perf_counter() - started) * 1000)
            usage = Usage(request.agent, provider.name, model or provider.model, 0, 0, latency_ms, "timeout")
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
