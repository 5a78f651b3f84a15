"""The "pronunciar WORD" exercise: the word comes with the minimal pair that teaches its contrast for the
learner's dialect (the engine's first choice), stored where the voice service scores it."""

from __future__ import annotations

import random
from uuid import uuid4

import pytest

from espaluz.storage.learners import Learner
from espaluz.tutor.commands.pronounce import exercise
from espaluz.tutor.state import ConversationState
from espaluz.voice.drills import STATE_KEY


def learner(dialect: str = "latam", language: str = "en") -> Learner:
    return Learner(uuid4(), "15550001111", None, "Ana", "1", "A2", dialect, language, "free", "active")


def asked(word: str, dialect: str = "latam", language: str = "en") -> ConversationState:
    state = ConversationState()
    exercise(learner(dialect, language), state, random.Random(0), word)
    return state


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("perro", "perro, pero"),
        ("pero", "pero, perro"),
        ("caro", "caro, carro"),
        ("carro", "carro, caro"),
        ("ahora", "ahora, ahorra"),
        ("¡Perro!", "perro, pero"),
    ],
)
def test_chosen_word_gets_the_tap_trill_pair(word: str, expected: str) -> None:
    """The regression: "pronunciar perro" offered *porro* (slang, a vowel change); punctuation and
    capitals in the learner's word are bad input that must not reach the text to read aloud."""
    state = asked(word)
    assert state.pending_pronunciation == expected
    record = state.extra[STATE_KEY]
    assert record["kind"] == "minimal_pair"
    assert record["text"] == expected
    assert record["skill"] in ("pron:r", "pron:ɾ")


def test_casa_pairs_with_caza_in_spain_only() -> None:
    """Dialect: [s]/[θ] is a contrast in Spain; in Latin America *caza* sounds like *casa*."""
    assert asked("casa", "spain").pending_pronunciation == "casa, caza"
    latam = asked("casa", "latam").pending_pronunciation
    assert latam is not None
    assert latam.startswith("casa, ")
    assert "caza" not in latam
    assert asked("casa", "es").pending_pronunciation == "casa, caza"  # the stored code "es" is Spain


def test_pair_label_is_a_drillable_sound() -> None:
    """*casa/gasa* differ in [k]/[g]: the exercise is filed under the sound the drills know ([g])."""
    state = asked("casa", "latam")
    assert state.pending_pronunciation == "casa, gasa"
    assert state.extra[STATE_KEY]["phone"] == "g"


def test_prompt_in_the_learners_language() -> None:
    """The Spanish prompt names both words; an English learner also gets the gloss, a Spanish one not."""
    state = ConversationState()
    reply = exercise(learner(language="es"), state, random.Random(0), "perro")
    assert "*perro* / *pero*" in reply.text
    assert "Send a voice note" not in reply.text
    english = exercise(learner(language="en"), ConversationState(), random.Random(0), "perro")
    assert "_Send a voice note" in english.text
