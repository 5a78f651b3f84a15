"""Two-stage retrieval of a learner's memories for one turn.

Stage 1, vector similarity within the learner: the learner's rows come through the B-tree index on
``learner_id`` and are ordered exactly by cosine distance. A learner has hundreds to a few thousand
memories, so the exact sort is cheap; an approximate index (HNSW) over all learners filters by learner
after its scan (pgvector 0.6 has no iterative scans) and loses most of a learner's neighbours.
``bench/bench_memory.py`` measures both; ``method="hnsw"`` exists for that comparison.

Stage 2, a pedagogical rerank of the candidates plus a few anchors fetched by skill: the learner's error
patterns in the current skill, the last time they used it successfully, related skills they have
mastered (the prerequisite graph and their FSRS cards), cultural contexts they met it in. Scores mix
similarity, decayed importance and these roles; a greedy selection then damps repeats of one pattern
(same kind, skill and outcome) so that one pattern does not fill the list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from psycopg.rows import dict_row

from espaluz.memory.kinds import MemoryKind, Performance
from espaluz.memory.prerequisites import related
from espaluz.memory.skills import skill_statuses
from espaluz.memory.store import MEMORY_COLUMNS, Memory, memory_from_row, vector_literal

if TYPE_CHECKING:
    from collections.abc import Sequence
    from uuid import UUID

    import psycopg

    from espaluz.memory.store import MemoryStore

STAGE1_K = 48
ANCHORS_PER_GROUP = 3
REPEAT_DAMPING = 0.55

W_SIMILARITY = 0.55
W_IMPORTANCE = 0.15
BONUS = {
    "error_pattern": 0.5,
    "last_success": 0.4,
    "mastered_related": 0.35,
    "cultural_context": 0.35,
    "same_skill": 0.1,
}


@dataclass(frozen=True, slots=True)
class Candidate:
    memory: Memory
    distance: float

    @property
    def similarity(self) -> float:
        return 1.0 - self.distance


@dataclass(frozen=True, slots=True)
class Retrieved:
    memory: Memory
    score: float
    similarity: float
    reasons: tuple[str, ...]


def stage1(
    conn: psycopg.Connection[Any],
    learner_id: UUID,
    query: Sequence[float],
    k: int = STAGE1_K,
    method: Literal["exact", "hnsw"] = "exact",
    ef_search: int = 100,
) -> list[Candidate]:
    """The learner's ``k`` memories nearest to ``query`` (cosine distance)."""
    literal = vector_literal(query)
    with conn.cursor(row_factory=dict_row) as cur:
        if method == "exact":
            # MATERIALIZED keeps the learner filter first (B-tree), whatever vector index exists.
            cur.execute(
                f"""WITH mine AS MATERIALIZED (
                        SELECT {MEMORY_COLUMNS}, embedding FROM memories WHERE learner_id = %s)
                    SELECT {MEMORY_COLUMNS}, embedding <=> %s::vector AS distance
                    FROM mine ORDER BY distance LIMIT %s""",  # noqa: S608
                (learner_id, literal, k),
            )
        else:
            # What an HNSW index does for a filtered query in pgvector 0.6: the ef_search nearest over
            # all learners, then the filter. Written out, so the planner cannot pick the B-tree instead.
            cur.execute(f"SET LOCAL hnsw.ef_search = {int(ef_search)}")
            cur.execute(
                f"""SELECT {MEMORY_COLUMNS}, distance FROM (
                        SELECT {MEMORY_COLUMNS}, embedding <=> %s::vector AS distance FROM memories
                        ORDER BY embedding <=> %s::vector LIMIT %s) nearest
                    WHERE learner_id = %s ORDER BY distance LIMIT %s""",  # noqa: S608
                (literal, literal, int(ef_search), learner_id, k),
            )
        return [Candidate(memory_from_row(r), float(r["distance"])) for r in cur.fetchall()]


def anchors(
    conn: psycopg.Connection[Any], learner_id: UUID, query: Sequence[float], skills: Sequence[str]
) -> list[Candidate]:
    """The latest few memories per (kind, outcome) tagged with any of ``skills``, found by skill rather
    than by similarity (the last success with a tense may be worded nothing like today's question)."""
    if not skills:
        return []
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"""SELECT {MEMORY_COLUMNS}, distance FROM (
                    SELECT {MEMORY_COLUMNS}, embedding <=> %s::vector AS distance,
                           row_number() OVER (PARTITION BY kind, performance ORDER BY created_at DESC) AS rn
                    FROM memories WHERE learner_id = %s AND skills && %s::text[]) ranked
                WHERE rn <= %s""",  # noqa: S608
            (vector_literal(query), learner_id, list(skills), ANCHORS_PER_GROUP),
        )
        return [Candidate(memory_from_row(r), float(r["distance"])) for r in cur.fetchall()]


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def rerank(
    candidates: Sequence[Candidate],
    current_skills: Sequence[str],
    mastered: set[str],
    now: datetime,
    k: int = 8,
) -> list[Retrieved]:
    """Stage 2 (pure): score the candidates pedagogically and pick ``k`` with diversity."""
    current = set(current_skills)
    unique: dict[int, Candidate] = {}
    for c in candidates:
        unique.setdefault(c.memory.id, c)
    pool = list(unique.values())
    successes = [
        c for c in pool if current & set(c.memory.skills) and c.memory.performance == Performance.CORRECT
    ]
    last_success = max(successes, key=lambda c: c.memory.created_at).memory.id if successes else None

    scored: list[Retrieved] = []
    for c in pool:
        m = c.memory
        tags = set(m.skills)
        reasons: list[str] = []
        if (m.kind == MemoryKind.ERROR_CORRECTION or m.performance == Performance.WRONG) and tags & current:
            reasons.append("error_pattern")
        if m.id == last_success:
            reasons.append("last_success")
        if tags & mastered and m.performance != Performance.WRONG and m.kind != MemoryKind.ERROR_CORRECTION:
            reasons.append("mastered_related")
        if m.kind == MemoryKind.CULTURAL_CONTEXT and (tags & current or c.similarity > 0.3):
            reasons.append("cultural_context")
        if tags & current:
            reasons.append("same_skill")
        score = (
            W_SIMILARITY * c.similarity
            + W_IMPORTANCE * min(1.5, m.importance_at(now))
            + sum(BONUS[r] for r in reasons)
        )
        scored.append(Retrieved(m, score, c.similarity, tuple(reasons)))

    chosen: list[Retrieved] = []
    seen_groups: dict[tuple[str, str, str], int] = {}
    seen_text: set[str] = set()
    ordered = sorted(scored, key=lambda r: (r.score, r.memory.created_at), reverse=True)
    remaining = [(r, _group(r.memory)) for r in ordered]
    while remaining and len(chosen) < k:
        best_index, best_value = 0, float("-inf")
        for i, (r, group) in enumerate(remaining):
            if r.score <= best_value:
                break  # sorted by score and damping only lowers it: nothing further can win
            damping = REPEAT_DAMPING ** seen_groups.get(group, 0)
            value = r.score * damping if r.score > 0 else r.score  # damping must not lift a negative
            if value > best_value:
                best_index, best_value = i, value
        pick, group = remaining.pop(best_index)
        text = _norm(pick.memory.content)
        if text in seen_text:
            continue
        seen_text.add(text)
        seen_groups[group] = seen_groups.get(group, 0) + 1
        chosen.append(Retrieved(pick.memory, best_value, pick.similarity, pick.reasons))
    return chosen


def _group(m: Memory) -> tuple[str, str, str]:
    return (m.kind.value, m.skills[0] if m.skills else "", m.performance.value)


def retrieve(
    conn: psycopg.Connection[Any],
    store: MemoryStore,
    learner_id: UUID,
    query_text: str,
    current_skills: Sequence[str] = (),
    *,
    now: datetime | None = None,
    k: int = 8,
    query_vector: Sequence[float] | None = None,
) -> list[Retrieved]:
    """Both stages for one turn: what the tutor should remember when answering ``query_text``."""
    now = now or datetime.now(UTC)
    vector = query_vector if query_vector is not None else store.embed_query(query_text)
    candidates = stage1(conn, learner_id, vector)
    statuses = skill_statuses(conn, learner_id, now)
    near: set[str] = set()
    for skill in current_skills:
        near |= related(skill)
    mastered = {s for s in near if s in statuses and statuses[s].mastered}
    candidates += anchors(conn, learner_id, vector, sorted(set(current_skills) | mastered))
    return rerank(candidates, current_skills, mastered, now, k)
