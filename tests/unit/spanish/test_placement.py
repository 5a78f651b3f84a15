"""Placement: an easy start, a staircase that climbs and falls back, its stop rules, WhatsApp constraints,
pure serialisable state, and a Spanish layer that does not know the tutor."""

from __future__ import annotations

import ast
import json
import random
from pathlib import Path

import pytest

from espaluz.spanish import placement
from espaluz.spanish.placement import (
    BY_LEVEL,
    LEVELS,
    MAX_QUESTIONS,
    QUESTIONS,
    PlacementState,
    Question,
    answer,
    finished,
    next_question,
    result,
    start,
)
from espaluz.text import fold


def wrong_option(q: Question) -> str:
    return next(o for o in q.options if o != q.answer)


def run(knows: int, *, seed: int = 0, rng: random.Random | None = None) -> tuple[PlacementState, list[str]]:
    """A learner who knows every level up to index ``knows`` (with ``rng``: right 90 % of the time there,
    guessing one in three above). Returns the final state and the levels asked, in order."""
    state = start(seed)
    asked: list[str] = []
    while (q := next_question(state)) is not None:
        asked.append(q.level)
        within = LEVELS.index(q.level) <= knows
        ok = within if rng is None else rng.random() < (0.9 if within else 1 / 3)
        state = answer(state, q.id, q.answer if ok else wrong_option(q))
        # the tutor keeps the state in Redis as JSON between messages
        state = PlacementState.from_json(json.loads(json.dumps(state.to_json())))
    return state, asked


def test_items_fit_whatsapp_buttons_and_typed_answers() -> None:
    """Covers options a typed answer could not tell apart: none may be equal once accents are dropped."""
    assert all(len(BY_LEVEL[lv]) >= 6 for lv in LEVELS)
    for q in QUESTIONS.values():
        assert len(q.options) == 3
        assert all(0 < len(o) <= 20 for o in q.options)
        assert q.answer in q.options
        assert len({fold(o) for o in q.options}) == 3
        assert "___" in q.prompt
        payload = q.to_whatsapp()
        assert [b["reply"]["title"] for b in payload["action"]["buttons"]] == list(q.options)


def test_answer_positions_vary() -> None:
    positions = {q.options.index(q.answer) for q in QUESTIONS.values()}
    assert positions == {0, 1, 2}


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5, 6, 97])
def test_the_first_item_is_always_a1(seed: int) -> None:
    """Covers any seed: a new learner never opens with the subjunctive."""
    first = next_question(start(seed))
    assert first is not None
    assert first.level == "A1"


def test_the_seed_varies_the_items_not_the_levels() -> None:
    firsts = {q.id for s in range(10) if (q := next_question(start(s))) is not None}
    assert len(firsts) > 1
    assert run(2, seed=3)[1] == run(2, seed=8)[1]


def test_right_answers_climb_one_level_at_a_time_and_wrong_ones_step_down() -> None:
    state = start()
    for expected in ("A1", "A2", "B1"):
        q = next_question(state)
        assert q is not None
        assert q.level == expected
        state = answer(state, q.id, q.answer)
    q = next_question(state)
    assert q is not None
    assert q.level == "B2"
    state = answer(state, q.id, wrong_option(q))
    back = next_question(state)
    assert back is not None
    assert back.level == "B1"  # a miss is checked one level down
    state = answer(state, back.id, back.answer)
    again = next_question(state)
    assert again is not None
    assert again.level == "B2"
    assert again.id != q.id  # a fresh item, never the same one twice


@pytest.mark.parametrize("knows", range(len(LEVELS)))
def test_consistent_learner_is_placed_at_their_level(knows: int) -> None:
    state, asked = run(knows)
    r = result(state)
    assert r.level == LEVELS[knows]
    assert asked[0] == "A1"
    assert asked[: knows + 1] == list(LEVELS[: knows + 1])  # climbs straight to their level
    assert r.questions <= MAX_QUESTIONS
    assert finished(state)


def test_a_beginner_stops_after_two_a1_misses() -> None:
    """Covers a learner who knows nothing: two questions, A1, the 'basics' reason."""
    state, asked = run(-1)
    r = result(state)
    assert asked == ["A1", "A1"]
    assert (r.level, r.reason, r.stopped_at, r.right) == ("A1", "basics", "A1", 0)


def test_stop_reasons() -> None:
    top = result(run(4)[0])
    assert (top.level, top.reason, top.stopped_at) == ("C1", "top", "")
    ceiling = result(run(1)[0])
    assert (ceiling.level, ceiling.reason, ceiling.stopped_at) == ("A2", "ceiling", "B1")


def test_the_test_never_asks_more_than_the_limit() -> None:
    """Covers an erratic learner (right and wrong by turns): the cap ends the test with 'limit'."""
    state = start()
    flip = True
    while (q := next_question(state)) is not None:
        state = answer(state, q.id, q.answer if flip else wrong_option(q))
        flip = not flip
    r = result(state)
    assert r.questions <= MAX_QUESTIONS
    for seed in range(20):
        rng = random.Random(seed)
        state = start(seed)
        while (q := next_question(state)) is not None:
            state = answer(state, q.id, rng.choice(q.options))
        assert len(state.answers) <= MAX_QUESTIONS
        assert result(state).reason in ("basics", "ceiling", "top", "limit")


def test_noisy_learners_mostly_placed_within_one_level() -> None:
    rng = random.Random(1234)
    exact = near = 0
    trials = 400
    for _ in range(trials):
        knows = rng.randrange(len(LEVELS))
        r = result(run(knows, seed=rng.randrange(100), rng=rng)[0])
        exact += r.level == LEVELS[knows]
        near += abs(LEVELS.index(r.level) - knows) <= 1
    assert exact / trials >= 0.6
    assert near / trials >= 0.85


def test_state_is_pure() -> None:
    s0 = start()
    q = next_question(s0)
    assert q is not None
    s1 = answer(s0, q.id, q.answer)
    assert s0.answers == ()
    assert s1.answers == ((q.id, True),)


def test_answer_by_index_and_errors() -> None:
    """Covers a question answered twice, an unknown question and an index out of range."""
    s = start()
    q = next_question(s)
    assert q is not None
    by_index = answer(s, q.id, q.options.index(q.answer))
    assert by_index.answers == ((q.id, True),)
    with pytest.raises(ValueError, match="already answered"):
        answer(by_index, q.id, 0)
    with pytest.raises(KeyError):
        answer(s, "no-such-question", 0)
    with pytest.raises(ValueError, match="out of range"):
        answer(s, q.id, 3)


def test_from_json_validates_and_reads_older_states() -> None:
    """Covers a forged question id in a stored state, and a state saved by the older Bayesian test."""
    with pytest.raises(ValueError, match="unknown"):
        PlacementState.from_json({"answers": [["nope", True]]})
    old = PlacementState.from_json({"posterior": [0.2] * 5, "answers": [["a1-ser", True]]})
    assert old.answers == (("a1-ser", True),)
    q = next_question(old)
    assert q is not None
    assert q.level == "A2"


def test_the_spanish_layer_does_not_import_the_tutor() -> None:
    tree = ast.parse(Path(placement.__file__).read_text())
    imported = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)] + [
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    ]
    assert not [m for m in imported if m.startswith("espaluz.tutor")]
