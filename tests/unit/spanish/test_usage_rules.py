"""Usage rules (ser/estar, por/para, personal a): what each fixes, its reasons, and the correct uses it must
never touch (events with ser, meaning-changing adjectives, *por/durante* for a duration, deadlines,
*tener/hay*, unspecific people), plus the case files in ``cases/`` and the cost per message."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from espaluz.spanish.correction_scan import Scan
from espaluz.spanish.corrections import check
from espaluz.spanish.review import review
from espaluz.spanish.usage_rules import (
    MEANING_CHANGE_ADJ,
    rule_personal_a,
    rule_por_para,
    rule_ser_estar,
)

CASES = Path(__file__).parent / "cases"
RULES = ("ser_estar", "por_para", "personal_a")

FIXES: list[tuple[str, str, str, str]] = [
    # text, original, suggestion, rule
    ("Soy preocupado por el examen.", "Soy", "Estoy", "ser_estar"),
    ("Ella es muy enfadada.", "es", "está", "ser_estar"),
    ("Soy nervioso hoy.", "Soy", "Estoy", "ser_estar"),
    ("Mi casa es en el centro.", "es", "está", "ser_estar"),
    ("¿Dónde eres?", "eres", "estás", "ser_estar"),
    ("Estamos profesores.", "Estamos", "Somos", "ser_estar"),
    ("Mi amiga está de Perú.", "está", "es", "ser_estar"),
    ("Estudié para tres años.", "para", "durante", "por_para"),
    ("Lo vendí para veinte dólares.", "para", "por", "por_para"),
    ("Gracias para la cena.", "para", "por", "por_para"),
    ("Para ejemplo, el cine.", "Para ejemplo", "Por ejemplo", "por_para"),
    ("Voy a la tienda por comprar leche.", "por", "para", "por_para"),
    ("Veo mis abuelos.", "mis", "a mis", "personal_a"),
    ("Busco el jefe.", "el", "al", "personal_a"),
    ("Conozco esa chica.", "esa", "a esa", "personal_a"),
    ("Ayer conocí Lucía.", "Lucía", "a Lucía", "personal_a"),
]


@pytest.mark.parametrize(("text", "original", "suggestion", "rule"), FIXES)
def test_fixes_with_reasons_in_both_languages(text: str, original: str, suggestion: str, rule: str) -> None:
    (corr,) = [c for c in check(text) if c.rule == rule]
    assert (corr.original, corr.suggestion) == (original, suggestion)
    assert text[corr.start : corr.end] == original
    assert corr.explanation
    assert corr.explanation_es
    assert corr.explanation != corr.explanation_es


def test_duration_reason_quotes_the_learners_span() -> None:
    (corr,) = check("Viví en Roma para 5 años.")
    assert corr.suggestion == "durante"
    assert "durante 5 años" in corr.explanation
    assert "durante 5 años" in corr.explanation_es


@pytest.mark.parametrize("adj", sorted(MEANING_CHANGE_ADJ))
@pytest.mark.parametrize("verb", ["soy", "estoy", "eres", "estás", "es", "está", "somos", "estamos"])
def test_meaning_changing_and_either_verb_adjectives_are_never_corrected(verb: str, adj: str) -> None:
    c = Scan(f"Hoy {verb} {adj}.")
    assert list(rule_ser_estar(c)) == []


@pytest.mark.parametrize("event", ["fiesta", "reunión", "boda", "clase", "cena", "concierto", "examen"])
@pytest.mark.parametrize("where", ["en mi casa", "en el parque", "en Madrid", "aquí"])
def test_events_take_ser_and_are_left_alone(event: str, where: str) -> None:
    det = "el" if event in ("concierto", "examen") else "la"
    assert list(rule_ser_estar(Scan(f"{det.capitalize()} {event} es {where}."))) == []


@pytest.mark.parametrize(
    "text",
    [
        "Es cansado trabajar así.",  # impersonal: "it is tiring"
        "Era preocupante que no llamara.",
        "Soy nervioso.",  # a trait, no sign of a passing state
        "Fui cansado al trabajo.",  # ir + predicative adjective
        "Estoy de camarero este verano.",  # estar de + job: working as
        "Está de Erasmus.",
    ],
)
def test_ser_estar_stays_silent_on_correct_uses(text: str) -> None:
    assert list(rule_ser_estar(Scan(text))) == []


@pytest.mark.parametrize("prep", ["por", "durante"])
@pytest.mark.parametrize("verb", ["Estudié", "Viví", "Trabajé", "Esperé", "Estuve allí", "He vivido aquí"])
def test_por_and_durante_for_a_duration_are_never_flagged(prep: str, verb: str) -> None:
    assert list(rule_por_para(Scan(f"{verb} {prep} dos años."))) == []


@pytest.mark.parametrize(
    "text",
    [
        "Necesito comida para dos semanas.",  # intended duration after a noun
        "Reservé el hotel para tres noches.",
        "Voy a Roma para cinco días.",  # ir: intended stay
        "Tengo que hacerlo para el lunes.",  # deadline
        "Es para ti.",
        "Es por ti.",
        "Lo hice para ayudar.",
        "Lo hice por ayudar.",  # cause
        "Me quedé en casa por no salir con frío.",
        "Gracias a todos.",
        "Gracias para todos.",  # "to everyone" is "a todos": not this rule's guess
        "Tengo trabajo para la noche.",
        "Compré pan para diez personas.",
    ],
)
def test_por_para_stays_silent_where_unsure_or_correct(text: str) -> None:
    assert list(rule_por_para(Scan(text))) == []


@pytest.mark.parametrize("noun", ["hermanos", "hijos", "amigos", "primos"])
def test_tener_hay_and_unspecific_people_never_get_personal_a(noun: str) -> None:
    for text in (
        f"Tengo dos {noun}.",
        f"Tengo mis {noun} aquí.",
        f"Hay unos {noun} fuera.",
        f"Busco unos {noun}.",
    ):
        assert list(rule_personal_a(Scan(text))) == [], text


def test_inverted_subjects_are_not_objects() -> None:
    assert list(rule_personal_a(Scan("Me visita mi madre."))) == []
    assert list(rule_personal_a(Scan("Me va a visitar mi madre."))) == []
    assert list(rule_personal_a(Scan("La película que vimos mi hermana y yo."))) == []
    # a missing "que" is not a missing "a": mi madre is the subject of llegue
    assert list(rule_personal_a(Scan("Espero mi madre llegue pronto."))) == []
    assert list(rule_personal_a(Scan("Espero mi madre en casa.")))  # but a person object still is


def test_review_applies_all_three_rules_in_one_message() -> None:
    r = review("Soy cansado. Estudié para dos años y veo mi madre cada día.")
    assert r.corrected == "Estoy cansado. Estudié durante dos años y veo a mi madre cada día."
    assert r.clean
    assert {f.rule for f in r.corrections} == set(RULES)


def _cases(rule: str) -> list[list[str]]:
    lines = (CASES / f"{rule}.tsv").read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("rule", RULES)
def test_case_files_all_pass(rule: str) -> None:
    rows = _cases(rule)
    errs = [r for r in rows if r[0] == "ERR"]
    oks = [r for r in rows if r[0] == "OK"]
    assert len(errs) >= 30
    assert len(oks) >= 30
    assert len(errs) + len(oks) == len(rows)
    for _, sentence, corrected in errs:
        assert any(c.rule == rule for c in check(sentence)), sentence
        assert review(sentence).corrected == corrected
    for row in oks:
        assert check(row[1]) == [], row[1]


def test_usage_rules_are_cheap_on_a_30_word_message() -> None:
    text = (
        "Ayer estudié español para dos horas con mi profesora y después fui al mercado por comprar pan; "
        "soy muy cansado pero contento porque conozco Juan y veo mi madre mañana."
    )
    list(rule_personal_a(Scan(text)))  # warm the caches
    times = []
    for _ in range(50):
        start = time.perf_counter()
        scan = Scan(text)
        for rule in (rule_ser_estar, rule_por_para, rule_personal_a):
            list(rule(scan))
        times.append(time.perf_counter() - start)
    times.sort()
    assert times[len(times) // 2] < 0.002  # the three rules, median; about 0.2 ms when the machine is idle
