"""Unit tests for :mod:`espaluz.spanish.mood_rules`: rules ``conditional_si`` and ``subjunctive``.

Covers *si* + conditional (with subjects, negation and clitics in between, *como si*) and the indirect
questions that must stay silent (*no sé si*, *no tengo claro si*, *la pregunta es si*, *si, por ejemplo,*);
the subjunctive after wishes, doubt (*dudo que*, never *no dudo que*), negated belief (*no creo que*, not the
plain *creo que* nor a question), denied facts, feelings with *de que* / *me da ... que* / *¡qué pena que!*,
purpose, and *cuando* + future (not *¿cuándo...?*); past triggers asking for the imperfect subjunctive; and
that each correction explains itself in English and Spanish. Sentence-level cases live in
``cases/conditional_si.tsv`` and ``cases/subjunctive.tsv``.
"""

from __future__ import annotations

import pytest

from espaluz.spanish.corrections import check


def _fixes(rule_name: str, text: str) -> list[tuple[str, str]]:
    return [(c.original, c.suggestion) for c in check(text) if c.rule == rule_name]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Si tendría dinero, viajaría.", [("tendría", "tuviera")]),
        ("Si yo sería rico, compraría una casa.", [("sería", "fuera")]),
        ("Si no me llamarías, me enfadaría.", [("llamarías", "llamaras")]),
        ("Si mi hermana podría, vendría.", [("podría", "pudiera")]),
        ("Habla como si sabría todo.", [("sabría", "supiera")]),
        ("Te lo diría si lo sabría.", [("sabría", "supiera")]),
    ],
)
def test_conditional_after_si(text: str, expected: list[tuple[str, str]]) -> None:
    assert _fixes("conditional_si", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "No sé si tendría tiempo.",
        "Me pregunto si sería posible.",
        "No tengo claro si podría venir.",
        "No estoy seguro si vendría.",
        "No tengo ni idea si llegaría a tiempo.",
        "La pregunta es si podríamos hacerlo.",
        "Depende de si tendríamos dinero.",
        "Si, por ejemplo, tendría tiempo, te avisaría.",  # punctuation right after si: silent
        "Sí, podría ir mañana.",
        "Por si acaso, lleva paraguas.",
        "Si tuviera dinero, viajaría.",
    ],
)
def test_conditional_si_stays_silent(text: str) -> None:
    assert _fixes("conditional_si", text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Espero que me da el libro.", [("da", "dé")]),
        ("Quiero que vienes.", [("vienes", "vengas")]),
        ("Dudo que es verdad.", [("es", "sea")]),
        ("Dudamos que llegan a tiempo.", [("llegan", "lleguen")]),
        ("No creo que tiene razón.", [("tiene", "tenga")]),
        ("Yo no pienso que es justo.", [("es", "sea")]),
        ("No me parece que es justo.", [("es", "sea")]),
        ("No es cierto que vive aquí.", [("vive", "viva")]),
        ("No estoy segura de que viene.", [("viene", "venga")]),
        ("Me alegra que estás aquí.", [("estás", "estés")]),
        ("Me alegro de que estás bien.", [("estás", "estés")]),
        ("Estamos felices de que vienes.", [("vienes", "vengas")]),
        ("Tengo miedo de que llueve.", [("llueve", "llueva")]),
        ("Me da pena que te vas.", [("vas", "vayas")]),
        ("¡Qué lástima que no puedes venir!", [("puedes", "puedas")]),
        ("Lo repito para que entiendes.", [("entiendes", "entiendas")]),
        ("Cuando llegaré, te llamo.", [("llegaré", "llegue")]),
        ("Me alegré de que vinieron.", [("vinieron", "vinieran")]),
        ("Dudaba que podía hacerlo.", [("podía", "pudiera")]),
        ("No creía que tenía razón.", [("tenía", "tuviera")]),
        ("No es posible que llueve.", [("llueve", "llueva")]),  # "No" at the start is not a name
        ("Ya es hora de que te vas.", [("vas", "vayas")]),
        ("Era hora de que llegaban.", [("llegaban", "llegaran")]),
        ("Quiero que las ayudas llegan pronto.", [("llegan", "lleguen")]),
    ],
)
def test_subjunctive_triggers(text: str, expected: list[tuple[str, str]]) -> None:
    assert _fixes("subjunctive", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Creo que tiene razón.",
        "Pienso que es verdad.",
        "Es verdad que es difícil.",
        "Está claro que no quiere venir.",
        "Estoy seguro de que es verdad.",
        "No dudo que es verdad.",
        "¿No crees que es demasiado caro?",
        "No crees que es caro?",  # a question without its ¿
        "¿Cuándo llegarás?",
        "No sé cuándo llegará.",
        "Cuando llego a casa, ceno.",
        "Tengo dudas que resolver.",
        "La duda que tengo es otra.",
        "Me alegra saber que estás bien.",
        "Espera, que voy.",
        "Ella es mejor que yo.",
        "María es mejor que yo.",
        "¡Qué bien que cocina tu madre!",  # how well she cooks: indicative
        "¡Qué suerte que tienes!",
        "Pidieron que las ayudas lleguen pronto.",  # las + noun that is also a verb form
        "No, creo que tiene razón.",
    ],
)
def test_subjunctive_stays_silent(text: str) -> None:
    assert _fixes("subjunctive", text) == []


def _has_all(text: str, *needles: str) -> None:
    for needle in needles:
        assert needle in text, (needle, text)


def test_reasons_in_both_languages_name_the_trigger_and_the_form() -> None:
    (doubt,) = [c for c in check("Dudo que es verdad.") if c.rule == "subjunctive"]
    _has_all(doubt.explanation.lower(), "'dudo que'", "doubt", "'sea'")
    _has_all(doubt.explanation_es, "duda", "'sea'")
    (feel,) = [c for c in check("Me alegro de que estás bien.") if c.rule == "subjunctive"]
    _has_all(feel.explanation, "feeling", "'estés'")
    _has_all(feel.explanation_es, "sentimiento", "'estés'")
    (past,) = [c for c in check("Me alegré de que vinieron.") if c.rule == "subjunctive"]
    _has_all(past.explanation, "imperfect subjunctive")
    _has_all(past.explanation_es, "pretérito imperfecto de subjuntivo")
    (si,) = [c for c in check("Si tendría tiempo, iría.") if c.rule == "conditional_si"]
    _has_all(si.explanation, "'si tuviera'")
    _has_all(si.explanation_es, "'si tuviera'")
