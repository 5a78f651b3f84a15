"""The context builder on long histories: the budget is a hard limit, the newest turns are always in,
older turns are sampled by importance, and the output is chronological."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from espaluz.memory.context import KEEP_LAST, Turn, build_context, estimate_tokens, truncate_to_tokens
from espaluz.memory.kinds import MemoryKind, Performance
from espaluz.memory.retrieval import Retrieved
from espaluz.memory.store import Memory

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def history(n: int, seed: int = 1) -> list[Turn]:
    rng = random.Random(seed)
    turns = []
    for i in range(n):
        important = i % 10 == 0
        text = f"turn {i}: " + (
            "corrección importante del subjuntivo " if important else "práctica rutinaria "
        )
        text += "palabra " * rng.randint(0, 30)
        turns.append(Turn(text, NOW - timedelta(minutes=n - i), 2.0 if important else 0.1))
    return turns


def retrieved(i: int, text: str) -> Retrieved:
    memory = Memory(i, uuid4(), MemoryKind.ERROR_CORRECTION, text, ("s",), Performance.WRONG, 1.0, 1.5, NOW)
    return Retrieved(memory, 1.0, 0.9, ("error_pattern",))


def test_a_1500_turn_history_fits_the_budget_with_newest_turns_and_important_ones_favoured() -> None:
    turns = history(1500)
    summary = "Resumen: " + "x" * 5000  # far over its share: truncated, not dropped
    memories = [retrieved(i, f"recuerdo {i} " + "y" * 200) for i in range(20)]
    context = build_context(turns, memories, summary, 1500, now=NOW)
    assert context.tokens <= 1500
    assert context.summary.endswith("…")
    assert estimate_tokens(context.summary) <= 0.2 * 1500
    assert 0 < len(context.memories) < 20
    assert sum(estimate_tokens(r.memory.content) for r in context.memories) <= 0.35 * 1500
    texts = [t.text for t in context.turns]
    assert texts[-KEEP_LAST:] == [t.text for t in turns[-KEEP_LAST:]]
    # chronological, no duplicates
    order = [int(t.split(":")[0].split()[1]) for t in texts]
    assert order == sorted(set(order))
    # importance sampling: important turns are 10% of the old history but a clear majority of the sample
    old = [t for t in texts[:-KEEP_LAST]]
    assert old
    share = sum("importante" in t for t in old) / len(old)
    assert share > 0.5
    assert context.omitted_turns == 1500 - len(texts)


def test_a_huge_single_turn_is_truncated_not_allowed_to_break_the_budget() -> None:
    turns = [Turn("hola", NOW), Turn("z" * 100_000, NOW)]
    context = build_context(turns, [], None, 200, now=NOW)
    assert context.tokens <= 200
    assert context.turns[-1].text.endswith("…")


def test_turns_already_retrieved_as_memories_are_not_repeated() -> None:
    turns = [Turn("Error: vienes -> vengas", NOW), Turn("hola", NOW)]
    context = build_context(turns, [retrieved(1, "Error: vienes -> vengas")], None, 500, now=NOW)
    assert [t.text for t in context.turns] == ["hola"]


def test_a_non_positive_budget_is_refused() -> None:
    with pytest.raises(ValueError, match="budget"):
        build_context([], [], None, 0)


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=3000), max_size=60),
    budget=st.integers(min_value=1, max_value=3000),
    summary=st.one_of(st.none(), st.text(max_size=4000)),
)
def test_the_budget_is_never_exceeded(sizes: list[int], budget: int, summary: str | None) -> None:
    """Any history, any budget (even smaller than one item's overhead): never over budget."""
    turns = [Turn("a" * n, NOW, importance=(n % 7) / 3) for n in sizes]
    memories = [retrieved(i, "m" * (n + 1)) for i, n in enumerate(sizes[:10])]
    context = build_context(turns, memories, summary, budget, now=NOW)
    assert context.tokens <= budget


def test_truncate_to_tokens_respects_the_estimate() -> None:
    for tokens in (1, 4, 5, 10, 100):
        cut = truncate_to_tokens("palabra " * 500, tokens)
        assert cut == "" or estimate_tokens(cut) <= tokens
