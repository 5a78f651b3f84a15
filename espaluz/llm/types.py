"""Small value types shared by the LLM layer: a deadline, one call's usage, a provider failure."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

Provider = Literal["groq", "claude"]
# ok: parsed and accepted; the rest say why the next link of the chain answered instead.
Outcome = Literal[
    "ok", "timeout", "rate_limited", "server_error", "client_error", "connection", "bad_output", "rejected"
]


class Deadline:
    """A point in time on the monotonic clock. Every call of a turn shares one, so fallbacks and
    concurrent calls never push the turn past it."""

    __slots__ = ("at",)

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    @classmethod
    def at_time(cls, monotonic_at: float) -> Deadline:
        deadline = cls(0.0)
        deadline.at = monotonic_at
        return deadline

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def within(self, seconds: float) -> float:
        """The time a call may take: its own limit or what is left of the deadline, the lesser."""
        return min(seconds, self.remaining())


@dataclass(frozen=True, slots=True)
class Usage:
    """One provider call as billed and measured. Failed calls are kept too (tokens 0): they cost time,
    and a run of them is what an operator wants to see."""

    agent: str
    provider: Provider
    model: str
    tokens_in: int
    tokens_out: int
    latency_ms: int
    outcome: Outcome = "ok"
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "provider": self.provider,
            "model": self.model,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "latency_ms": self.latency_ms,
            "outcome": self.outcome,
        }


@dataclass(frozen=True, slots=True)
class Completion:
    """A provider's text answer and its usage."""

    text: str
    usage: Usage


@dataclass(eq=False)  # exceptions compare and hash by identity
class ProviderFailure(Exception):
    """A call that produced no usable answer. ``usage`` records it (outcome and latency)."""

    outcome: Outcome
    detail: str
    usage: Usage | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.outcome}: {self.detail}"
