"""Exercises generated from the course data and the checker they all go through.

Covers: each of the seven types is generated at every level and its accepted answers are accepted by
its checker; near misses get the right verdict (a wrong person is wrong with the person named, a wrong
gender is wrong with the engine's reason, a missing accent is "almost", equivalent wordings are right);
generation is deterministic for a seed; the learner's path (placement, lessons mixing reviews, units
unlocking) over FSRS cards on an explicit clock; the CLI contract. Bad input: an unknown level or type.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from fsrs import Card, State

from espaluz.cli import main
from espaluz.curriculum import answers, course, exercises
from espaluz.curriculum.exercises import TYPES, Exercise, available, generate, make
from espaluz.curriculum.syllabus import load
from espaluz.spanish import lexicon
from espaluz.spanish.conjugation import conjugate_form

NOW = datetime.now(UTC)


@pytest.mark.parametrize("level", lexicon.LEVELS)
@pytest.mark.parametrize("kind", TYPES)
def test_every_type_at_every_level_accepts_its_own_answers(level: str, kind: str) -> None:
    for seed in range(15):
        ex = generate(level, kind, seed)
        assert ex.type == kind
        assert ex.unit.startswith(level)
        for accepted in ex.accepted:
            verdict = answers.check(ex, accepted)
            assert verdict.verdict == "right", (ex, accepted, verdict)


def test_generation_is_deterministic_for_a_seed() -> None:
    assert generate("A1", None, 7) == generate("A1", None, 7)
    assert len({generate("A2", None, s).content for s in range(20)}) > 10


def _cloze(person: str) -> Exercise:
    """A present-tense cloze exercise for ``person``, built from the data."""
    syl = load()
    for unit in syl.units:
        for gid in unit.grammar:
            for item in syl.points[gid].items:
                r = item.render()
                if r.verb and r.person == person and r.tense == "indicative.present":
                    return exercises._cloze(unit, syl.points[gid], item)
    raise AssertionError("no present-tense cloze item")


def test_a_wrong_person_is_wrong_and_named() -> None:
    ex = _cloze("1p")
    wrong = conjugate_form(ex.verb, ex.tense, "3s")
    verdict = answers.check(ex, wrong)
    assert verdict.verdict == "wrong"
    assert "él" in verdict.reason["es"] or "3" in verdict.reason["es"] or "ella" in verdict.reason["es"]


def test_a_missing_accent_is_almost_and_a_wrong_gender_is_wrong_with_the_engines_reason() -> None:
    ex = Exercise(
        "translation", {"es": "Traduce al español:", "en": "Translate into Spanish."}, "“The water is cold.”",
        ("El agua está fría.",), "A1.1", "x", "gp:x",
        reason={"es": "Una traducción correcta: *El agua está fría.*", "en": "A correct translation."},
    )  # fmt: skip
    assert answers.check(ex, "el agua esta fria").verdict == "almost"
    assert answers.check(ex, "El agua está fría").verdict == "right"
    wrong = answers.check(ex, "La agua está fría.")
    assert wrong.verdict == "wrong"
    assert wrong.reason["es"].startswith("*La* → *El*: 'agua' es femenino")
    assert wrong.reason["es"].endswith("Una traducción correcta: *El agua está fría.*")


def test_a_choice_between_accented_and_plain_options_takes_the_accent_as_the_answer() -> None:
    ex = Exercise(
        "choice", {"es": "Elige", "en": "Choose"}, "¿…… vives?", ("Dónde",), "A1.1", "x", "gp:x",
        options=("Donde", "Dónde", "Cuándo"), reason={"es": "Es *Dónde*.", "en": "It is “Dónde”."},
    )  # fmt: skip
    assert answers.check(ex, "Dónde").verdict == "right"
    assert answers.check(ex, "donde").verdict == "wrong"  # the other option, not an accent slip
    ex = replace(ex, options=("Dónde", "Cuándo"))
    assert answers.check(ex, "donde").verdict == "almost"  # typed without its accent


def test_equivalent_wordings_are_right() -> None:
    ex = Exercise(
        "translation", {"es": "Traduce", "en": "Translate"}, "“I want to see it.”", ("Quiero verlo.",),
        "A2.1", "x", "gp:x",
    )  # fmt: skip
    for said in ("Quiero verlo", "Lo quiero ver.", "Yo quiero verlo.", "yo lo quiero ver"):
        assert answers.check(ex, said).verdict == "right", said
    assert answers.check(ex, "Quieres verlo.").verdict == "wrong"
    assert answers.check(ex, "Ella quiere verlo.").verdict == "wrong"


def test_vocabulary_both_ways_accepts_variants_articles_and_glosses() -> None:
    syl = load()
    coche = lexicon.lookup("coche", "noun")
    assert coche is not None
    assert coche.variants, "coche has its dialect variants"
    unit = next(u for u, es in syl.vocabulary.items() if coche in es)
    rng = random.Random(1)
    while True:
        ex = make(syl, syl.unit(unit), "vocabulary", rng, lemma="coche")
        if ex.direction == "to_es":
            break
    for said in ("coche", "el coche", *coche.variants):
        assert answers.check(ex, said).verdict == "right", said
    assert answers.check(ex, "casa").verdict == "wrong"
    while ex.direction != "to_en":
        ex = make(syl, syl.unit(unit), "vocabulary", rng, lemma="coche")
    assert answers.check(ex, "a car").verdict == "right"
    assert answers.check(ex, "house").reason["es"].startswith("*el coche* significa")


def test_word_order_and_listening_accept_the_sentence_only() -> None:
    ex = generate("A1", "word_order", 3)
    assert sorted(ex.options) == sorted(answers.tokens(ex.accepted[0]))
    assert answers.check(ex, " ".join(ex.options)).verdict in ("wrong", "right")
    listening = generate("A1", "listening", 3)
    assert listening.say == listening.accepted[0]


def test_unknown_level_or_type_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown level"):
        generate("C2", None, 1)
    result = CliRunner().invoke(main, ["exercise", "--level", "A1", "--type", "poetry", "--json"])
    assert result.exit_code == 2
    assert "cloze" in result.output


def card(state: State, due: datetime) -> SimpleNamespace:
    return SimpleNamespace(card=Card(state=state, due=due), due=due, retrievability=0.5)


def test_placement_lessons_and_units_unlocking_over_fsrs_cards() -> None:
    syl = load()
    first = syl.of_level("A2")[0]
    assert course.current_unit(syl, "A2", {}).unit == first  # placement: the level's first unit
    done = {f"gp:{g}": card(State.Review, NOW + timedelta(days=3)) for g in first.grammar}
    done |= {
        f"word:{e.lemma}": card(State.Review, NOW + timedelta(days=3)) for e in syl.vocabulary[first.unit]
    }
    assert course.current_unit(syl, "A2", done).unit == syl.of_level("A2")[1]  # goals met: unlocked
    # a lesson mixes types, new items of the unit and due reviews of earlier ones
    due = {k: card(State.Review, NOW - timedelta(hours=1)) for k in list(done)[:3]}
    rng = random.Random(3)
    kinds, reviewed, step, since = set(), [], 0, 0
    for _ in range(course.LESSON_SIZE * 4):
        ex, review = course.next_exercise(syl, "A2", {**done, **due}, step, rng, NOW, since_review=since)
        kinds.add(ex.type)
        reviewed.append(review)
        step += 0 if review else 1  # as the tutor counts: new items take the types in turn
        since = 0 if review else since + 1
        if review:
            assert ex.skill in due
    # while cards are due, every third exercise is a review: never two in a row, never three without one
    assert reviewed == [False, False, True] * (course.LESSON_SIZE * 4 // 3)
    ex, review = course.next_exercise(syl, "A2", done, 5, rng, NOW, since_review=9)
    assert not review  # nothing due: no review, however long since the last
    assert kinds >= {"cloze", "vocabulary", "translation", "word_order", "listening"}
    assert "speaking" not in kinds  # no voice path set up
    ex, _ = course.next_exercise(syl, "A1", {}, 6, random.Random(0), NOW, since_review=0, voice=True)
    assert ex.type == TYPES[6 % len(TYPES)]


def test_the_cli_contracts() -> None:
    runner = CliRunner()
    out = runner.invoke(main, ["curriculum", "--level", "A1", "--json"])
    assert out.exit_code == 0, out.output
    rows = [json.loads(line) for line in out.output.splitlines()]
    assert len(rows) == 8
    assert {r["level"] for r in rows} == {"A1"}
    for row in rows:
        assert set(row) >= {"level", "unit", "title", "can_do", "grammar", "vocabulary", "exercises"}
        assert set(row["exercises"]) == set(TYPES)
        assert row["vocabulary"] > 0
        assert row["exercises"] == available(load(), load().unit(row["unit"]))
    out = runner.invoke(main, ["exercise", "--level", "B1", "--type", "translation", "--seed", "4", "--json"])
    ex = json.loads(out.output)
    assert set(ex) >= {"type", "prompt", "accepted", "unit", "grammar"}
    assert ex["type"] == "translation"
    assert ex["unit"].startswith("B1")
    assert ex["accepted"]
    again = runner.invoke(
        main, ["exercise", "--level", "B1", "--type", "translation", "--seed", "4", "--json"]
    )
    assert again.output == out.output
