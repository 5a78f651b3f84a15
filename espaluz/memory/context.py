"""The memory context of one turn, within a token budget, for histories of any length.

A learner with 1,000+ messages cannot have them all in a prompt. The budget is shared by three parts:

- a rolling summary (at most ``SUMMARY_SHARE`` of the budget): what the whole history adds up to;
- retrieved memories (at most ``MEMORY_SHARE``), in retrieval order;
- recent turns (the rest, plus whatever the other two left): the last ``KEEP_LAST`` turns always, then
  older turns drawn by importance sampling without replacement (Efraimidis-Spirakis keys), weighted by
  each turn's decayed importance and its recency, so a correction from last week has a better chance
  than yesterday's routine "hola". The chosen turns come back in chronological order.

Tokens are estimated (about 3.5 characters per token for Spanish and English text, rounded up, plus a
small overhead per item), erring on the high side so the real count stays under the budget.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from espaluz.memory.retrieval import Retrieved, retrieve
from espaluz.memory.store import recent_memories
from espaluz.memory.summary import current_summary

if TYPE_CHECKING:
    from collections.abc import Sequence
    from uuid import UUID

    import psycopg

    from espaluz.memory.store import MemoryStore

SUMMARY_SHARE = 0.2
MEMORY_SHARE = 0.35
KEEP_LAST = 4
ITEM_OVERHEAD = 4
MAX_TURN_TOKENS = 300
RECENCY_HALF_LIFE_TURNS = 60.0
HISTORY_LIMIT = 2000


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / 3.5) + ITEM_OVERHEAD


def truncate_to_tokens(text: str, tokens: int) -> str:
    """Cut ``text`` so that ``estimate_tokens`` stays within ``tokens`` ('' if nothing fits)."""
    if estimate_tokens(text) <= tokens:
        return text
    chars = int((tokens - ITEM_OVERHEAD) * 3.5) - 1
    if chars <= 0:
        return ""
    return text[:chars] + "…"


@dataclass(frozen=True, slots=True)
class Turn:
    text: str
    at: datetime
    importance: float = 1.0
    role: str = "exchange"


@dataclass
class Context:
    budget: int
    summary: str = ""
    memories: list[Retrieved] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    omitted_turns: int = 0

    @property
    def tokens(self) -> int:
        total = estimate_tokens(self.summary) if self.summary else 0
        total += sum(estimate_tokens(r.memory.content) for r in self.memories)
        total += sum(estimate_tokens(t.text) for t in self.turns)
        return total

    def render(self) -> str:
        parts = []
        if self.summary:
            parts.append("## Summary\n" + self.summary)
        if self.memories:
            parts.append("## Remembered\n" + "\n".join(f"- {r.memory.content}" for r in self.memories))
        if self.turns:
            parts.append("## Recent\n" + "\n".join(t.text for t in self.turns))
        return "\n\n".join(parts)


def build_context(
    turns: Sequence[Turn],
    memories: Sequence[Retrieved],
    summary: str | None,
    budget: int,
    *,
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> Context:
    """Fill ``budget`` tokens (pure; ``turns`` oldest first). Never exceeds the budget."""
    if budget <= 0:
        raise ValueError("the token budget must be positive")
    now = now or datetime.now(UTC)
    rng = rng or random.Random(0)  # noqa: S311 - sampling, not security; seeded for repeatability
    context = Context(budget=budget)
    left = budget

    if summary:
        text = truncate_to_tokens(summary, int(budget * SUMMARY_SHARE))
        if text:
            context.summary = text
            left -= estimate_tokens(text)

    memory_budget = int(budget * MEMORY_SHARE)
    seen_memory_text = set()
    for r in memories:
        cost = estimate_tokens(r.memory.content)
        if cost <= memory_budget and cost <= left:
            context.memories.append(r)
            seen_memory_text.add(r.memory.content)
            memory_budget -= cost
            left -= cost

    # Turns already present as retrieved memories are not repeated.
    history = [t for t in turns if t.text not in seen_memory_text]
    chosen: set[int] = set()
    cut: dict[int, Turn] = {}
    for index in range(len(history) - 1, max(-1, len(history) - 1 - KEEP_LAST), -1):
        turn = history[index]
        text = truncate_to_tokens(turn.text, min(MAX_TURN_TOKENS, left))
        if not text:
            break
        cut[index] = Turn(text, turn.at, turn.importance, turn.role)
        chosen.add(index)
        left -= estimate_tokens(text)

    newest = len(history) - 1
    keyed = []
    for index, turn in enumerate(history):
        if index in chosen:
            continue
        recency = 0.5 ** ((newest - index) / RECENCY_HALF_LIFE_TURNS)
        weight = max(1e-9, turn.importance * recency)
        keyed.append((rng.random() ** (1.0 / weight), index))
    keyed.sort(reverse=True)
    smallest = min((estimate_tokens(t.text) for t in history), default=0)
    for _, index in keyed:
        if left < smallest or left <= ITEM_OVERHEAD:
            break
        turn = history[index]
        if len(turn.text) > MAX_TURN_TOKENS * 3.5:
            turn = Turn(truncate_to_tokens(turn.text, MAX_TURN_TOKENS), turn.at, turn.importance, turn.role)
        cost = estimate_tokens(turn.text)
        if cost <= left:
            cut[index] = turn
            chosen.add(index)
            left -= cost

    context.turns = [cut[i] for i in sorted(chosen)]
    context.omitted_turns = len(history) - len(chosen)
    return context


def load_context(
    conn: psycopg.Connection[Any],
    store: MemoryStore,
    learner_id: UUID,
    query_text: str,
    current_skills: Sequence[str] = (),
    *,
    budget: int = 1500,
    now: datetime | None = None,
) -> Context:
    """The context for a turn from the database: history, retrieval and the rolling summary."""
    now = now or datetime.now(UTC)
    history = recent_memories(conn, learner_id, HISTORY_LIMIT)
    turns = [Turn(m.content, m.created_at, m.importance_at(now)) for m in reversed(history)]
    memories = retrieve(conn, store, learner_id, query_text, current_skills, now=now)
    summary = current_summary(conn, learner_id, now=now)
    return build_context(turns, memories, summary, budget, now=now, rng=random.Random(str(learner_id)))  # noqa: S311
