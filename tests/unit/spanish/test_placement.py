"""Placement: WhatsApp constraints, pure serialisable state, convergence to the learner's level."""

from __future__ import annotations

import json
import random

import pytest

from espaluz.spanish.placement import (
    LEVELS,
    MAX_QUESTIONS,
    MIN_QUESTIONS,
    QUESTIONS,
    PlacementState,
    Question,
    answer,
    finished,
    next_question,
    p_correct,
    result,
    start,
)


def wrong_option(q: Question) -> str:
    return next(o for o in q.options if o != q.answer)


def run(learner_level: int, rng: random.Random | None = None) -> PlacementState:
    state = start()
    while (q := next_question(state)) is not None:
        if rng is None:
            ok = LEVELS.index(q.level) <= learner_level
        else:
            ok = rng.random() < p_correct(learner_level, q)
        state = answer(state, q.id, q.answer if ok else wrong_option(q))
        # the tutor keeps the state in Redis as JSON between messages
        state = PlacementState.from_json(json.loads(json.dumps(state.to_json())))
    return state


def test_questions_fit_whatsapp_buttons() -> None:
    assert len(QUESTIONS) >= 30
    for q in QUESTIONS.values():
        assert 2 <= len(q.options) <= 3
        assert all(len(o) <= 20 for o in q.options)
        assert q.answer in q.options
        assert len(set(q.options)) == len(q.options)
        payload = q.to_whatsapp()
        assert len(payload["action"]["buttons"]) == len(q.options)
        assert all(len(b["reply"]["title"]) <= 20 for b in payload["action"]["buttons"])
    assert {q.level for q in QUESTIONS.values()} == set(LEVELS)


def test_answer_positions_vary() -> None:
    positions = {q.options.index(q.answer) for q in QUESTIONS.values()}
    assert positions == {0, 1, 2}


@pytest.mark.parametrize("level", range(len(LEVELS)))
def test_consistent_learner_is_placed_at_their_level(level: int) -> None:
    state = run(level)
    r = result(state)
    assert r.level == LEVELS[level]
    assert MIN_QUESTIONS <= r.questions <= MAX_QUESTIONS
    assert r.confidence >= 0.8
    assert f"{LEVELS[level]} (about" in r.message()


def test_noisy_learners_mostly_placed_within_one_level() -> None:
    rng = random.Random(1234)
    exact = near = 0
    trials = 150
    for _ in range(trials):
        level = rng.randrange(len(LEVELS))
        r = result(run(level, rng))
        exact += r.level == LEVELS[level]
        near += abs(LEVELS.index(r.level) - level) <= 1
    assert exact / trials >= 0.6
    assert near / trials >= 0.9


def test_state_is_pure_and_posterior_normalised() -> None:
    s0 = start()
    q = next_question(s0)
    assert q is not None
    s1 = answer(s0, q.id, q.answer)
    assert s0.answers == ()
    assert s1.answers == ((q.id, True),)
    assert sum(s1.posterior) == pytest.approx(1.0)
    assert s1.posterior != s0.posterior


def test_answer_by_index_and_errors() -> None:
    s = start()
    q = next_question(s)
    assert q is not None
    by_index = answer(s, q.id, q.options.index(q.answer))
    assert by_index.answers == ((q.id, True),)
    with pytest.raises(ValueError, match="already answered"):
        answer(by_index, q.id, 0)
    with pytest.raises(KeyError):
        answer(s, "no-such-question", 0)


def test_correct_answers_raise_the_estimate() -> None:
    s = start()
    for _ in range(4):
        q = next_question(s)
        assert q is not None
        s = answer(s, q.id, q.answer)
    assert result(s).level in ("B2", "C1")


def test_stops_by_max_questions() -> None:
    rng = random.Random(5)
    state = start()
    while (q := next_question(state)) is not None:
        state = answer(state, q.id, rng.choice(q.options))
    assert finished(state)
    assert len(state.answers) <= MAX_QUESTIONS


def test_from_json_validates() -> None:
    with pytest.raises(ValueError, match="posterior"):
        PlacementState.from_json({"posterior": [1.0], "answers": []})
