"""The learner's path: which unit they are in, what the next exercise of a lesson is, when a unit is done.

- **Placement** puts the learner at the first unit of their level (the placement test or *nivel* sets the
  level); units below it count as done.
- **A unit is done** when each of its grammar points has graduated in FSRS (its card reached the
  ``Review`` state: two right answers, the second after the learning step, or one easy one) and
  :data:`WORDS_TO_PASS` of its words have too. The next unit then unlocks, across levels (A1.8 → A2.1).
- **A lesson** is :data:`LESSON_SIZE` exercises. While FSRS says an item already met is due (grammar
  points and words of this unit and earlier ones, weakest first), every :data:`REVIEW_EVERY`-th exercise
  reviews it; the others are new items of the unit, with the exercise types taken in turn so a lesson
  mixes them. The rhythm is fixed rather than drawn at random so that a due review always comes back
  within a few exercises (a random 35 % share left 0.65¹² ≈ 0.6 % of twelve-exercise runs without one).

Everything here is pure over the learner's skill cards (``espaluz.memory.skills.SkillStatus``), which the
tutor reads once per exercise; no state of its own is stored, so the path can never drift from the cards.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from fsrs import State

from espaluz.curriculum.exercises import TYPES, Exercise, available, make
from espaluz.curriculum.syllabus import Syllabus, Unit
from espaluz.spanish import lexicon

LESSON_SIZE = 6
REVIEW_EVERY = 3
WORDS_TO_PASS = 8
_REVIEW_TYPES = ("cloze", "choice", "translation", "word_order")


class CardStatus(Protocol):
    """What the path reads of a skill card (``espaluz.memory.skills.SkillStatus`` has it)."""

    @property
    def card(self) -> object: ...  # an fsrs.Card

    @property
    def due(self) -> datetime: ...

    @property
    def retrievability(self) -> float: ...


def _graduated(status: CardStatus | None) -> bool:
    return status is not None and getattr(status.card, "state", None) == State.Review


@dataclass(frozen=True, slots=True)
class UnitProgress:
    unit: Unit
    points_done: tuple[str, ...]
    words_done: int
    words_needed: int

    @property
    def done(self) -> bool:
        return len(self.points_done) == len(self.unit.grammar) and self.words_done >= self.words_needed


def progress(syl: Syllabus, unit: Unit, skills: Mapping[str, CardStatus]) -> UnitProgress:
    points = tuple(g for g in unit.grammar if _graduated(skills.get(f"gp:{g}")))
    words = syl.vocabulary.get(unit.unit, ())
    known = sum(_graduated(skills.get(f"word:{e.lemma}")) for e in words)
    return UnitProgress(unit, points, known, min(WORDS_TO_PASS, len(words)))


def current_unit(syl: Syllabus, level: str, skills: Mapping[str, CardStatus]) -> UnitProgress:
    """The first unit, from the first one of ``level`` on, whose goals are not met (the last unit when
    every one is)."""
    start = lexicon.level_rank(level)
    path = [u for u in syl.units if lexicon.level_rank(u.level) >= start]
    for unit in path:
        state = progress(syl, unit, skills)
        if not state.done:
            return state
    return progress(syl, path[-1], skills)


def _skills_up_to(syl: Syllabus, unit: Unit) -> dict[str, Unit]:
    """Every skill taught up to and including ``unit``, with the unit that teaches it."""
    owners: dict[str, Unit] = {}
    for u in syl.units:
        owners |= {f"gp:{g}": u for g in u.grammar}
        owners |= {f"word:{e.lemma}": u for e in syl.vocabulary.get(u.unit, ())}
        if u is unit:
            break
    return owners


def due_reviews(
    syl: Syllabus, unit: Unit, skills: Mapping[str, CardStatus], now: datetime
) -> list[tuple[str, Unit]]:
    """The course skills met so far that FSRS says are due, weakest first."""
    owners = _skills_up_to(syl, unit)
    due = [(s, st) for s, st in skills.items() if s in owners and st.due <= now]
    due.sort(key=lambda pair: pair[1].retrievability)
    return [(s, owners[s]) for s, _ in due]


def next_exercise(
    syl: Syllabus,
    level: str,
    skills: Mapping[str, CardStatus],
    step: int,
    rng: random.Random,
    now: datetime,
    *,
    since_review: int,
    voice: bool = False,
) -> tuple[Exercise, bool]:
    """The exercise at ``step`` (new items asked so far; the types are taken in turn) of a lesson, and
    whether it is a review. ``since_review``: exercises asked since the last review (the caller keeps
    it). ``voice``: the voice path is set up (only then is a speaking exercise asked)."""
    here = current_unit(syl, level, skills).unit
    due = due_reviews(syl, here, skills, now)
    if due and since_review >= REVIEW_EVERY - 1:
        skill, owner = due[0]
        kind, _, name = skill.partition(":")
        if kind == "word":
            return make(syl, owner, "vocabulary", rng, lemma=name), True
        kinds = [k for k in _REVIEW_TYPES if available(syl, owner, name).get(k)]
        return make(syl, owner, rng.choice(kinds), rng, point=name), True
    counts = available(syl, here)
    kinds = [k for k in TYPES if counts[k] and (voice or k != "speaking")]
    kind = kinds[step % len(kinds)]
    if kind == "vocabulary":
        fresh = [e.lemma for e in syl.vocabulary[here.unit] if not _graduated(skills.get(f"word:{e.lemma}"))]
        return make(syl, here, kind, rng, lemma=rng.choice(fresh) if fresh else ""), False
    fresh_points = [g for g in here.grammar if not _graduated(skills.get(f"gp:{g}"))]
    usable = [g for g in fresh_points or list(here.grammar) if available(syl, here, g).get(kind)]
    return make(syl, here, kind, rng, point=rng.choice(usable) if usable else ""), False


__all__ = [
    "LESSON_SIZE",
    "REVIEW_EVERY",
    "WORDS_TO_PASS",
    "UnitProgress",
    "current_unit",
    "due_reviews",
    "next_exercise",
    "progress",
]
