"""Drills: selection by skill/level and the five answer verdicts."""

from __future__ import annotations

import random

import pytest

from espaluz.spanish.drills import (
    LEVELS,
    SKILLS,
    AnswerCheck,
    Drill,
    all_drills,
    check_answer,
    drill_by_id,
    make_drill,
)


def test_every_skill_has_drills_and_answers() -> None:
    drills = all_drills()
    assert {d.skill for d in drills} == set(SKILLS)
    for d in drills:
        assert d.answers
        assert all(d.answers)
        assert "___" in d.prompt
        assert d.level in LEVELS
        if d.options:
            assert d.answers[0] in d.options


def test_make_drill_respects_skill_and_level() -> None:
    rng = random.Random(7)
    for _ in range(20):
        d = make_drill("present_stem_change", "A2", rng)
        assert d.skill == "present_stem_change"
        assert d.level in ("A1", "A2")
    # nearest lower level when the exact one has none
    assert make_drill("present_subjunctive", "A1", random.Random(1)).level == "B1"
    assert make_drill("ser_estar", "A1", random.Random(3)).level == "A1"


def test_make_drill_is_deterministic_for_a_seed() -> None:
    a = [make_drill("preterite_irregular", "B1", random.Random(42)).id for _ in range(3)]
    b = [make_drill("preterite_irregular", "B1", random.Random(42)).id for _ in range(3)]
    assert a == b


def test_make_drill_rejects_unknown_skill_or_level() -> None:
    with pytest.raises(ValueError, match="skill"):
        make_drill("telepathy", "A1", random.Random())
    with pytest.raises(ValueError, match="level"):
        make_drill("ser_estar", "D1", random.Random())


def test_conjugation_answers_come_from_the_conjugator() -> None:
    d = drill_by_id("preterite_irregular:0")
    assert d.prompt == "Ayer yo ___ (tener) que trabajar."
    assert d.answers == ("tuve",)
    assert d.hint.endswith(": tuve")
    assert drill_by_id("imperfect_subjunctive:0").answers == ("tuviera", "tuviese")
    assert drill_by_id("participles:0").answers == ("visto",)
    assert drill_by_id("imperative:4").answers == ("siéntese",)


def verdict(drill_id: str, answer: str, dialect: str = "latam") -> AnswerCheck:
    return check_answer(drill_by_id(drill_id), answer, dialect)


def test_right_including_case_and_punctuation() -> None:
    assert verdict("preterite_irregular:0", "tuve").verdict == "right"
    assert verdict("preterite_irregular:0", "  Tuve. ").verdict == "right"
    assert verdict("preterite_irregular:0", "tuve").correct


def test_ra_and_se_both_right() -> None:
    assert verdict("imperfect_subjunctive:0", "tuviera").verdict == "right"
    check = verdict("imperfect_subjunctive:0", "tuviese")
    assert check.verdict == "right"
    assert "tuviera" in check.message


def test_accent_missing_or_extra() -> None:
    check = verdict("preterite_vs_imperfect:5", "viajo")
    assert check.verdict == "accent"
    assert check.correct
    assert "viajó" in check.message
    assert "yo present" in check.message
    extra = verdict("preterite_irregular:0", "tuvé")
    assert extra.verdict == "accent"
    assert "without" in extra.message
    assert verdict("ser_estar:1", "esta").verdict == "accent"


def test_other_form_of_same_verb_says_which() -> None:
    check = verdict("preterite_irregular:0", "tuvo")
    assert check.verdict == "other_form"
    assert not check.correct
    assert (check.verb, check.tense, check.person) == ("tener", "indicative.preterite", "3s")
    assert "él/ella/usted preterite" in check.message
    present = verdict("preterite_irregular:0", "tengo")
    assert (present.tense, present.person) == ("indicative.present", "1s")
    imperfect = verdict("preterite_vs_imperfect:5", "viajaba")
    assert (imperfect.tense, imperfect.person) == ("indicative.imperfect", "3s")
    indicative = verdict("present_subjunctive:0", "vienes")
    assert indicative.verdict == "other_form"
    assert indicative.tense == "indicative.present"


def test_other_verb() -> None:
    check = verdict("preterite_irregular:0", "estuve")
    assert check.verdict == "other_verb"
    assert check.verb == "estar"
    ser = verdict("ser_estar:1", "es")
    assert ser.verdict == "other_verb"
    assert ser.verb == "ser"
    assert "Location uses estar" in ser.message


def test_wrong_gives_the_diagnosis() -> None:
    check = verdict("present_stem_change:5", "podo")
    assert check.verdict == "wrong"
    assert check.expected == "puedo"
    assert "o→ue in stressed syllables" in check.message
    assert verdict("present_stem_change:0", "quero").message.count("e→ie") == 1
    assert verdict("por_para:0", "por").verdict == "wrong"


def test_vos_accepted_only_for_rioplatense() -> None:
    assert verdict("present_subjunctive:0", "vengás", "rioplatense").verdict == "right"
    assert verdict("present_subjunctive:0", "vengas", "rioplatense").verdict == "right"
    latam = verdict("present_subjunctive:0", "vengás", "latam")
    assert latam.verdict == "other_form"
    assert latam.person == "vos"
    assert verdict("present_stem_change:8", "preferís", "rioplatense").verdict == "right"
    assert verdict("imperative:0", "vení", "rioplatense").verdict == "right"
    assert verdict("imperative:0", "ven", "spain").verdict == "right"


def test_unknown_dialect_rejected() -> None:
    with pytest.raises(ValueError, match="dialect"):
        verdict("preterite_irregular:0", "tuve", "martian")


def test_json_round_trip_fields() -> None:
    d = drill_by_id("ser_estar:0")
    data = d.to_json()
    assert data["options"] == ["es", "está"]
    assert drill_by_id(data["id"]) == d
    assert verdict("ser_estar:0", "es").to_json()["correct"] is True
    with pytest.raises(KeyError):
        drill_by_id("nope:0")


def test_vocabulary_false_friends() -> None:
    assert verdict("vocabulary:0", "avergonzado").verdict == "right"
    wrong = verdict("vocabulary:0", "embarazado")
    assert wrong.verdict == "wrong"
    assert "pregnant" in wrong.message
    other = verdict("vocabulary:3", "realicé")
    assert other.verdict == "other_verb"
    assert other.verb == "realizar"


# ---------------------------------------------------------------------------------------------
# Diagnoses in Spanish


def test_spanish_diagnosis_names_the_person_and_tense() -> None:
    """A learner form from the wrong person: the Spanish message says whose form it is, in Spanish terms."""
    d = drill_by_id("present_regular:0")  # Yo ___ (hablar)
    check = check_answer(d, "hablamos")
    assert check.verdict == "other_form"
    assert check.message_es.startswith(
        "*hablamos* es la forma de nosotros (presente) de *hablar*; aquí hace falta *hablo*."
    )
    assert "regular present" in check.message  # the English message is unchanged
    assert check.message_for("es") == check.message_es
    assert check.message_for("en") == check.message


@pytest.mark.parametrize(
    ("drill_id", "answer", "words"),
    [
        ("preterite_irregular:0", "tuvo", "forma de él/ella/usted (pretérito indefinido)"),
        ("preterite_irregular:0", "tengo", "forma de yo (presente)"),
        ("preterite_vs_imperfect:5", "viajaba", "(pretérito imperfecto)"),
        ("present_subjunctive:0", "vienes", "forma de tú (presente)"),
        ("imperfect_subjunctive:0", "tendría", "(condicional)"),
        ("preterite_irregular:0", "tendré", "(futuro)"),
        ("preterite_irregular:0", "tenga", "(presente de subjuntivo)"),
        ("preterite_irregular:0", "tuviera", "(pretérito imperfecto de subjuntivo)"),
    ],
)
def test_spanish_tense_terms(drill_id: str, answer: str, words: str) -> None:
    """Spanish grammar terms, not translations of the English labels."""
    check = verdict(drill_id, answer)
    assert check.verdict == "other_form"
    assert words in check.message_es


def test_spanish_messages_for_every_verdict() -> None:
    """Each verdict has its Spanish message; the forms are in WhatsApp bold and nothing English leaks."""
    right = verdict("imperfect_subjunctive:0", "tuviese")
    assert right.message_es == "¡Correcto! (también vale: *tuviera*)"
    accent = verdict("preterite_vs_imperfect:5", "viajo")
    assert accent.message_es.startswith("Casi: se escribe *viajó*, con tilde")
    assert "forma de yo (presente)" in accent.message_es
    extra = verdict("preterite_irregular:0", "tuvé")
    assert "sin esa tilde" in extra.message_es
    other_verb = verdict("ser_estar:1", "es")
    assert other_verb.message_es == (
        "*es* es una forma de *ser* (él/ella/usted, presente); aquí hace falta *está*. "
        "La ubicación se expresa con estar."
    )
    wrong = verdict("present_stem_change:5", "podo")
    assert wrong.message_es == "No exactamente: la respuesta es *puedo*. O→ue en la sílaba tónica: puedo."
    vos = verdict("present_subjunctive:0", "vengás", "latam")
    assert vos.message_es == "*vengás* es la forma de vos; con tú es *vengas*."
    for check in (right, accent, extra, other_verb, wrong, vos):
        assert check.message_es
        assert check.message_es != check.message
        for english in ("the answer", "here you need", "is the", "Almost", "Right"):
            assert english not in check.message_es
        assert check.to_json()["message_es"] == check.message_es


def test_every_hint_and_tense_has_its_spanish_version() -> None:
    """A drill added to the bank without a Spanish explanation would fall back to no hint in Spanish."""
    from espaluz.spanish import drill_bank, drill_hints_es
    from espaluz.spanish.conjugation import TENSES

    for items in drill_bank.CHOICE.values():
        for item in items:
            assert item[4] in drill_hints_es.CHOICE_HINTS, item
    assert set(TENSES) <= set(drill_hints_es.TENSE_LABELS)
    for d in all_drills():
        check = check_answer(d, "zzz")
        assert check.verdict == "wrong"
        assert check.message_es.startswith(f"No exactamente: la respuesta es *{d.answers[0]}*")
        if d.hint and d.hint != d.answers[0]:
            assert check.message_es.count(".") >= 2, check.message_es  # the hint came along


def test_a_drill_without_hint_has_no_spanish_hint() -> None:
    """Drills the tutor builds on the fly (no hint): the Spanish message is the diagnosis alone."""
    d = Drill(
        id="conj:hablar",
        skill="conjugation:indicative.present",
        level="A1",
        prompt="Yo ___ (hablar).",
        answers=("hablo",),
        verb="hablar",
        tense="indicative.present",
        person="1s",
    )
    assert check_answer(d, "hablas").message_es == (
        "*hablas* es la forma de tú (presente) de *hablar*; aquí hace falta *hablo*."
    )
    assert check_answer(d, "xyz").message_es == "No exactamente: la respuesta es *hablo*."
    legacy = AnswerCheck("wrong", expected="hablo", message="Not quite.")
    assert legacy.message_for("es") == "Not quite."  # no Spanish: the English rather than nothing
