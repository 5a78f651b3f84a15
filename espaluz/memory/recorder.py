"""What one answered tutor turn leaves in memory.

Each drill answer becomes a memory whose kind follows the outcome:

- the first answer ever on a skill: a new concept (whatever the result);
- wrong: an error correction, and the item becomes a review item (FSRS, rated Again);
- right with the accent missed: an error correction of lower engagement, and a review item too;
- right after an error on the same skill in the last two weeks: a successful complex usage (the
  breakthrough); if the item was a review item, that review is answered Good;
- otherwise right: routine practice.

The skill's FSRS card is reviewed with every answer. A turn without a drill answer is kept as a low-value
conversation memory (it fades in days), except memory commands, which are never remembered.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from fsrs import Rating

from espaluz.memory.kinds import MemoryKind, Performance
from espaluz.memory.prerequisites import skill_label
from espaluz.memory.reviews import add_correction, answer_review, find_open_item
from espaluz.memory.skills import RATING_FOR, review_skill

if TYPE_CHECKING:
    from collections.abc import Sequence
    from uuid import UUID

    import psycopg

    from espaluz.memory.store import Memory, MemoryStore

BREAKTHROUGH_WINDOW = timedelta(days=14)
PERFORMANCE_FOR = {"correct": Performance.CORRECT, "accent": Performance.PARTIAL, "wrong": Performance.WRONG}
# Turns that teach nothing and must not be kept: memory commands (a learner who just made the tutor forget
# must not find "memoria" remembered), consent changes, plan/billing exchanges, deliveries that failed.
NOT_REMEMBERED_ROUTES = {"memory", "duplicate", "undeliverable", "unsupported"}
NOT_REMEMBERED_PREFIXES = ("consent", "billing", "plan", "memory")


class AttemptLike(Protocol):
    """A drill answer as the orchestrator records it (``espaluz.tutor.orchestrator.Attempt``)."""

    @property
    def skill(self) -> str: ...
    @property
    def prompt(self) -> str: ...
    @property
    def expected(self) -> str: ...
    @property
    def answer(self) -> str: ...
    @property
    def verdict(self) -> str: ...


def _plain(prompt: str) -> str:
    return prompt.replace("*", "").strip()


def remember_attempt(
    conn: psycopg.Connection[Any],
    store: MemoryStore,
    learner_id: UUID,
    attempt: AttemptLike,
    *,
    now: datetime | None = None,
    source_wamid: str | None = None,
) -> Memory:
    now = now or datetime.now(UTC)
    performance = PERFORMANCE_FOR.get(attempt.verdict, Performance.NONE)
    best = attempt.expected.split("|")[0]
    label = skill_label(attempt.skill)
    known = conn.execute(
        "SELECT 1 FROM skill_cards WHERE learner_id = %s AND skill = %s", (learner_id, attempt.skill)
    ).fetchone()
    engagement = 1.0
    if performance == Performance.WRONG:
        kind = MemoryKind.ERROR_CORRECTION
        content = f"Error en {label}: escribió «{attempt.answer}», es «{best}». {_plain(attempt.prompt)}"
    elif performance == Performance.PARTIAL:
        kind, engagement = MemoryKind.ERROR_CORRECTION, 0.6
        content = (
            f"Tilde en {label}: escribió «{attempt.answer}», se escribe «{best}». {_plain(attempt.prompt)}"
        )
    else:
        recent_error = conn.execute(
            """SELECT 1 FROM memories WHERE learner_id = %s AND performance IN ('wrong', 'partial')
               AND %s = ANY(skills) AND created_at >= %s LIMIT 1""",
            (learner_id, attempt.skill, now - BREAKTHROUGH_WINDOW),
        ).fetchone()
        kind = MemoryKind.COMPLEX_SUCCESS if recent_error else MemoryKind.ROUTINE_PRACTICE
        content = f"Acierto en {label}: «{attempt.answer}». {_plain(attempt.prompt)}"
    if known is None:
        kind = MemoryKind.NEW_CONCEPT
        content += " (primer encuentro)"
    memory = store.add(
        conn,
        learner_id,
        content,
        kind,
        skills=(attempt.skill,),
        performance=performance,
        engagement=engagement,
        now=now,
        source_wamid=source_wamid,
    )
    review_skill(conn, learner_id, attempt.skill, RATING_FOR.get(performance, Rating.Good), now)
    if performance in (Performance.WRONG, Performance.PARTIAL):
        add_correction(
            conn,
            learner_id,
            skill=attempt.skill,
            prompt=attempt.prompt,
            expected=attempt.expected,
            wrong_answer=attempt.answer,
            memory_id=memory.id,
            now=now,
        )
    else:
        item = find_open_item(conn, learner_id, attempt.skill, attempt.prompt)
        if item is not None:
            answer_review(conn, learner_id, item.id, True, now)
    return memory


def remember_turn(
    conn: psycopg.Connection[Any],
    store: MemoryStore,
    learner_id: UUID,
    *,
    text: str,
    route: str,
    attempts: Sequence[AttemptLike],
    now: datetime | None = None,
    source_wamid: str | None = None,
) -> list[Memory]:
    """Record one answered turn (the caller owns the transaction)."""
    if route in NOT_REMEMBERED_ROUTES or route.startswith(NOT_REMEMBERED_PREFIXES):
        return []
    now = now or datetime.now(UTC)
    memories = [
        remember_attempt(conn, store, learner_id, a, now=now, source_wamid=source_wamid) for a in attempts
    ]
    if not attempts and text.strip():
        content = f"Mensaje del alumno ({route}): {text.strip()[:500]}"
        memories.append(
            store.add(conn, learner_id, content, MemoryKind.CONVERSATION, now=now, source_wamid=source_wamid)
        )
    return memories
