"""Unit tests for :mod:`espaluz.spanish.object_rules`: rules ``gustar`` and ``le_les``.

Covers the agreement of gustar-type verbs with what is liked (nouns, possessives, numbers, infinitives,
nouns the lexicon lacks), the person wrongly used as subject (*yo gusto*, *yo me gusta*, *ella le gusta el
cine*, *María gusta la pizza*), the accentless *me gusto la película* → *gustó*, le/les agreement with the
doubled *a* phrase (after the verb, fronted, climbed from an infinitive, enclitic), and the places the rules
must stay silent (coordination, time adverbials, *ella le gusta a Juan*, *se lo*, leísmo, a person as direct
object). Also that both rules run inside ``corrections.check`` and explain themselves in English and
Spanish. The sentence-level cases live in ``cases/gustar.tsv`` and ``cases/le_les.tsv``.
"""

from __future__ import annotations

import pytest

from espaluz.spanish import corrections
from espaluz.spanish.correction_scan import Scan
from espaluz.spanish.object_rules import rule_gustar, rule_le_les


def _fixes(rule_name: str, text: str) -> list[tuple[str, str]]:
    return [(c.original, c.suggestion) for c in corrections.check(text) if c.rule == rule_name]


def test_rules_are_registered_in_check() -> None:
    assert rule_gustar in corrections._RULES
    assert rule_le_les in corrections._RULES
    assert not hasattr(corrections, "_rule_gustar")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Me gusta los perros.", [("gusta", "gustan")]),
        ("Nos encanta las películas.", [("encanta", "encantan")]),
        ("Le interesa los deportes.", [("interesa", "interesan")]),
        ("Me duelen la cabeza.", [("duelen", "duele")]),
        ("Me gustaba los dibujos animados.", [("gustaba", "gustaban")]),
        ("Me encantó los regalos.", [("encantó", "encantaron")]),
        ("Me gustaría las vacaciones en la playa.", [("gustaría", "gustarían")]),
        ("Me falta dos euros.", [("falta", "faltan")]),
        ("Me importa mis amigos.", [("importa", "importan")]),
        ("Me gustan tu casa.", [("gustan", "gusta")]),
        ("Me gusta mucho las fiestas.", [("gusta", "gustan")]),
        ("Me gustan bailar y cantar.", [("gustan", "gusta")]),
        ("Les encantan viajar.", [("encantan", "encanta")]),
        ("Me apetecen un café.", [("apetecen", "apetece")]),
        ("Me fascina los dinosaurios.", [("fascina", "fascinan")]),
        ("Te queda bien los pantalones.", [("queda", "quedan")]),
        ("Me gusto la película.", [("gusto", "gustó")]),
        ("¿Te gusto la comida?", [("gusto", "gustó")]),
        ("Me encanto los regalos.", [("encanto", "encantaron")]),
    ],
)
def test_verb_agrees_with_what_is_liked(text: str, expected: list[tuple[str, str]]) -> None:
    assert _fixes("gustar", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yo gusto la pizza.", [("Yo gusto", "Me gusta")]),
        ("Yo no gusto los perros.", [("Yo no gusto", "No me gustan")]),
        ("Ellos gustan el fútbol.", [("Ellos gustan", "A ellos les gusta")]),
        ("Yo me gusta el café.", [("Yo", "A mí")]),
        ("Yo no me gusta el frío.", [("Yo", "A mí")]),
        ("Tú te gusta bailar.", [("Tú", "A ti")]),
        ("Ella le gusta el cine.", [("Ella", "A ella")]),
        ("Ustedes les encantan los museos.", [("Ustedes", "A ustedes")]),
        ("María gusta la pizza.", [("María gusta", "A María le gusta")]),
        ("Juan no gusta los perros.", [("Juan no gusta", "A Juan no le gustan")]),
    ],
)
def test_person_is_not_the_subject(text: str, expected: list[tuple[str, str]]) -> None:
    assert _fixes("gustar", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Me gustan el café y el té.",  # coordination: either number
        "Me gusta la música y el cine.",
        "Me gustan cocinar y las fiestas.",  # infinitive + noun: not only infinitives
        "Me gusta los fines de semana dormir hasta tarde.",  # time adverbial, subject is dormir
        "Me gusta los lunes ir al gimnasio.",
        "Ella le gusta a Juan.",  # she pleases Juan
        "Ella le gusta mucho.",  # no subject after the verb: unclear, silent
        "Yo le gusto a María.",
        "Yo gusto de la buena comida.",
        "Yo me gusto con el pelo corto.",  # reflexive: I like myself
        "Ellos se gustan mucho.",
        "Me gustan las que tienen flores.",
        "Me gusta, a veces, los domingos.",
        "Se me olvidan las llaves.",
        "Me cae bien tus amigos.",  # caer bien is not in the verb list: silent rather than guess
        "Me gusto mucho.",  # I like myself a lot / I liked it a lot: no noun to decide
        "Juan le gusta a María.",
    ],
)
def test_gustar_stays_silent(text: str) -> None:
    assert _fixes("gustar", text) == []


def _has_all(text: str, *needles: str) -> None:
    for needle in needles:
        assert needle in text, (needle, text)


def test_gustar_explains_in_both_languages_and_offsets_match() -> None:
    text = "Hola. Me gusta los perros."
    (c,) = [c for c in corrections.check(text) if c.rule == "gustar"]
    assert text[c.start : c.end] == c.original == "gusta"
    _has_all(c.explanation, "los perros", "plural", "'gustan'")
    _has_all(c.explanation_es, "los perros", "plural", "'gustan'")
    (inf,) = [c for c in corrections.check("Me gustan bailar y cantar.") if c.rule == "gustar"]
    _has_all(inf.explanation, "infinitive")
    _has_all(inf.explanation_es, "infinitivo")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Le di el libro a mis padres.", [("Le", "Les")]),
        ("No le dije nada a mis padres.", [("le", "les")]),
        ("Le dije a ellos la verdad.", [("Le", "Les")]),
        ("Le dije a Juan y a María que vinieran.", [("Le", "Les")]),
        ("Les escribí a mi madre.", [("Les", "Le")]),
        ("Les regalé un libro a mi hermana.", [("Les", "Le")]),
        ("A mis padres le gusta viajar.", [("le", "les")]),
        ("A mi madre les encanta cocinar.", [("les", "le")]),
        ("A ellos no le importa.", [("le", "les")]),
        ("Quiero decirle a mis amigos la verdad.", [("decirle", "decirles")]),
        ("Voy a escribirles a mi abuela.", [("escribirles", "escribirle")]),
        ("Dile a tus padres que vengan.", [("Dile", "Diles")]),
        ("Pregúntale a tus amigos.", [("Pregúntale", "Pregúntales")]),
        ("Estoy diciéndole a mis hijos que se callen.", [("diciéndole", "diciéndoles")]),
        ("Le voy a decir a mis padres la verdad.", [("Le", "Les")]),
        ("Les tengo que escribir a mi abuela.", [("Les", "Le")]),
        ("Le quiero regalar flores a mis hermanas.", [("Le", "Les")]),
        ("No le he dicho nada a mis padres.", [("le", "les")]),
        ("Les había escrito a mi madre.", [("Les", "Le")]),
    ],
)
def test_le_les_agree_with_the_doubled_phrase(text: str, expected: list[tuple[str, str]]) -> None:
    assert _fixes("le_les", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Se lo di a ellos.",
        "Se lo dije a mis padres.",
        "Se le cayó el vaso a mis hijos.",  # se le: left alone on purpose
        "Le vi a tu hermano.",  # leísmo: a direct object, accepted in Spain
        "Le conozco desde hace años.",
        "Les presenté a mi madre.",  # mi madre is the direct object
        "Le presenté a mis padres.",
        "Le mandé la carta a las oficinas.",  # may be a place
        "Les escribo desde Madrid.",
        "Le dije a Juan la verdad.",
        "Les dije a Juan y a María la verdad.",
        "¿A usted le gusta el café?",
        "A ustedes les encanta la playa.",
        "Le dije que viniera a las ocho.",  # 'a las ocho' is a time, not a person
        "Le di la carta, y a mis padres les di el resto.",
        "Les he dicho a mi hijo y a mi hija que vuelvan.",
        "Dale al botón.",  # a thing, not a person
        "¡Dale, vamos!",
        "Le voy a ver a mi hermano.",  # ver: leísmo possible, silent
        "Hable con ella.",  # ends in -le but is no enclitic
    ],
)
def test_le_les_stays_silent(text: str) -> None:
    assert _fixes("le_les", text) == []


def test_le_les_explains_the_number_in_both_languages() -> None:
    (c,) = [c for c in corrections.check("Le di el libro a mis padres.") if c.rule == "le_les"]
    _has_all(c.explanation, "'a mis padres'", "plural", "'les'")
    _has_all(c.explanation_es, "'a mis padres'", "plural", "'les'")
    (s,) = [c for c in corrections.check("Les escribí a mi madre.") if c.rule == "le_les"]
    _has_all(s.explanation, "'a mi madre'", "singular", "'le'")
    _has_all(s.explanation_es, "'a mi madre'", "singular", "'le'")


def test_rules_work_on_a_bare_scan() -> None:
    """The rule functions are usable on their own (the bench calls them one by one)."""
    found = [corr.suggestion for _, corr in rule_gustar(Scan("Me duele los pies."))]
    assert found == ["duelen"]
    assert [corr.suggestion for _, corr in rule_le_les(Scan("Le compré helados a los niños."))] == ["Les"]
