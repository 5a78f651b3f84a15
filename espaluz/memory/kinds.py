"""What kind of teaching moment a memory records, how much it matters, and how fast it fades.

A teacher remembers selectively: the day a learner first met the subjunctive, the mistake they keep
making, the sentence where it finally clicked. Routine drill answers matter a little, for a little while.
So a memory's importance is a factor per kind times the learner's engagement, and it decays with a
half-life per kind: routine practice fades in days, breakthroughs stay for months.

The factors start from the design (2.0 new concept, 1.5 error correction, 1.8 successful complex usage,
0.5 routine practice); the half-lives are this module's choice and are what the decay tests pin down.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime


class MemoryKind(StrEnum):
    NEW_CONCEPT = "new_concept"
    ERROR_CORRECTION = "error_correction"
    COMPLEX_SUCCESS = "complex_success"
    ROUTINE_PRACTICE = "routine_practice"
    CULTURAL_CONTEXT = "cultural_context"
    PREFERENCE = "preference"
    CONVERSATION = "conversation"


class Performance(StrEnum):
    """How the learner did in the interaction (``none`` when nothing was asked of them)."""

    CORRECT = "correct"
    PARTIAL = "partial"
    WRONG = "wrong"
    NONE = "none"


KIND_FACTOR: dict[MemoryKind, float] = {
    MemoryKind.NEW_CONCEPT: 2.0,
    MemoryKind.ERROR_CORRECTION: 1.5,
    MemoryKind.COMPLEX_SUCCESS: 1.8,
    MemoryKind.ROUTINE_PRACTICE: 0.5,
    MemoryKind.CULTURAL_CONTEXT: 1.3,
    MemoryKind.PREFERENCE: 1.6,
    MemoryKind.CONVERSATION: 0.3,
}

# Half-life of a memory's importance, in days.
HALF_LIFE_DAYS: dict[MemoryKind, float] = {
    MemoryKind.NEW_CONCEPT: 60.0,
    MemoryKind.ERROR_CORRECTION: 21.0,
    MemoryKind.COMPLEX_SUCCESS: 90.0,
    MemoryKind.ROUTINE_PRACTICE: 4.0,
    MemoryKind.CULTURAL_CONTEXT: 45.0,
    MemoryKind.PREFERENCE: 180.0,
    MemoryKind.CONVERSATION: 2.0,
}

# Short Spanish labels for the "memoria" list (list row titles are at most 24 characters).
KIND_LABEL: dict[MemoryKind, str] = {
    MemoryKind.NEW_CONCEPT: "Nuevo",
    MemoryKind.ERROR_CORRECTION: "Corrección",
    MemoryKind.COMPLEX_SUCCESS: "Logro",
    MemoryKind.ROUTINE_PRACTICE: "Práctica",
    MemoryKind.CULTURAL_CONTEXT: "Cultura",
    MemoryKind.PREFERENCE: "Preferencia",
    MemoryKind.CONVERSATION: "Charla",
}

MIN_ENGAGEMENT = 0.25
MAX_ENGAGEMENT = 3.0


def importance(kind: MemoryKind, engagement: float = 1.0) -> float:
    """Importance at creation: the kind's factor times engagement (clamped to a sane range)."""
    if not math.isfinite(engagement):
        raise ValueError("engagement must be a finite number")
    clamped = min(MAX_ENGAGEMENT, max(MIN_ENGAGEMENT, engagement))
    return KIND_FACTOR[kind] * clamped


def decay_factor(kind: MemoryKind, created_at: datetime, now: datetime) -> float:
    """The share of its importance a memory keeps at ``now`` (1.0 when new; memories from the future,
    clock skew, count as new)."""
    age_days = max(0.0, (now - created_at).total_seconds() / 86400.0)
    return float(0.5 ** (age_days / HALF_LIFE_DAYS[kind]))


def current_importance(kind: MemoryKind, base: float, created_at: datetime, now: datetime) -> float:
    return base * decay_factor(kind, created_at, now)
