"""Stage 2 alone: pedagogical roles and diversity, on hand-made candidates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from espaluz.memory import prerequisites as sk
from espaluz.memory.kinds import MemoryKind, Performance, decay_factor, importance
from espaluz.memory.retrieval import Candidate, rerank
from espaluz.memory.store import Memory

NOW = datetime(2026, 6, 1, tzinfo=UTC)
LEARNER = uuid4()


def mem(i: int, kind: MemoryKind, skill: str, perf: Performance, content: str, days_ago: float = 1) -> Memory:
    return Memory(
        i, LEARNER, kind, content, (skill,), perf, 1.0, importance(kind), NOW - timedelta(days=days_ago)
    )


def test_one_pattern_does_not_fill_the_list() -> None:
    """Twenty near-identical errors and a few other roles: the errors are damped after the first ones."""
    errors = [
        Candidate(
            mem(i, MemoryKind.ERROR_CORRECTION, sk.PRESENT_SUBJUNCTIVE, Performance.WRONG, f"error {i}"), 0.1
        )
        for i in range(20)
    ]
    others = [
        Candidate(
            mem(100, MemoryKind.COMPLEX_SUCCESS, sk.PRESENT_SUBJUNCTIVE, Performance.CORRECT, "éxito"), 0.5
        ),
        Candidate(mem(101, MemoryKind.ROUTINE_PRACTICE, sk.PRESENT, Performance.CORRECT, "presente"), 0.6),
        Candidate(
            mem(102, MemoryKind.CULTURAL_CONTEXT, sk.PRESENT_SUBJUNCTIVE, Performance.NONE, "cultura"), 0.6
        ),
    ]
    picked = rerank(errors + others, [sk.PRESENT_SUBJUNCTIVE], {sk.PRESENT}, NOW, k=8)
    ids = [r.memory.id for r in picked]
    assert {100, 101, 102} <= set(ids)
    assert sum(i < 20 for i in ids) == 5
    assert ids[0] < 20  # the strongest error leads


def test_duplicates_and_same_text_appear_once() -> None:
    """The same memory from stage 1 and from the anchors, or two memories with one text, count once."""
    a = mem(1, MemoryKind.ERROR_CORRECTION, sk.PRESENT_SUBJUNCTIVE, Performance.WRONG, "Error: vienes")
    b = mem(2, MemoryKind.ERROR_CORRECTION, sk.PRESENT_SUBJUNCTIVE, Performance.WRONG, "error:  VIENES")
    picked = rerank(
        [Candidate(a, 0.1), Candidate(a, 0.1), Candidate(b, 0.1)], [sk.PRESENT_SUBJUNCTIVE], set(), NOW
    )
    assert [r.memory.id for r in picked] == [1]


def test_the_last_success_is_the_newest_correct_one_on_the_current_skill() -> None:
    old = mem(
        1, MemoryKind.ROUTINE_PRACTICE, sk.PRESENT_SUBJUNCTIVE, Performance.CORRECT, "viejo", days_ago=9
    )
    new = mem(
        2, MemoryKind.ROUTINE_PRACTICE, sk.PRESENT_SUBJUNCTIVE, Performance.CORRECT, "nuevo", days_ago=2
    )
    picked = rerank([Candidate(old, 0.2), Candidate(new, 0.4)], [sk.PRESENT_SUBJUNCTIVE], set(), NOW)
    reasons = {r.memory.id: r.reasons for r in picked}
    assert "last_success" in reasons[2]
    assert "last_success" not in reasons[1]


def test_prerequisite_graph() -> None:
    assert sk.prerequisites(sk.IMPERFECT) == {sk.PRETERITE, sk.PRESENT}
    assert sk.PRESENT in sk.prerequisites(sk.NEGATIVE_IMPERATIVE)
    assert sk.prerequisites("conjugation:unknown") == frozenset()
    assert sk.PRESENT_SUBJUNCTIVE in sk.related(sk.PRESENT)


def test_decay_is_by_kind_and_clock_skew_counts_as_new() -> None:
    later = NOW + timedelta(days=14)
    assert decay_factor(MemoryKind.ROUTINE_PRACTICE, NOW, later) < 0.1
    assert decay_factor(MemoryKind.COMPLEX_SUCCESS, NOW, later) > 0.85
    assert decay_factor(MemoryKind.NEW_CONCEPT, later, NOW) == 1.0
    assert importance(MemoryKind.NEW_CONCEPT, 100.0) == 6.0  # engagement clamped
