"""Noun and adjective information (espaluz.spanish.nouns): genders from the lexicon (and the nouns forced to
either gender), gender guessed from the ending for unknown nouns (with its exceptions), stressed a-, plurals,
gender pairs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from espaluz.spanish import lexicon, nouns
from espaluz.spanish.lexicon import Entry
from espaluz.spanish.nouns import (
    adjective_form,
    adjective_info,
    ending_gender,
    guess_noun,
    is_invariant,
    noun_info,
    noun_plural,
    other_gender,
    plural_of,
    starts_with_stressed_a,
)


def _clear_caches() -> None:
    nouns._noun_table.cache_clear()
    nouns._adj_table.cache_clear()
    nouns.guess_noun.cache_clear()
    nouns._PLURALS.clear()


@pytest.fixture
def fake_lexicon(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A tiny lexicon, to see that its rows (plural columns, feminine forms) are what the tables hold."""

    def entry(lemma: str, pos: str, gender: str, plural: str) -> Entry:
        return Entry(lemma, pos, gender, plural, ("x",), "A1", "basics", (), "")

    rows = {
        "noun": (
            entry("sartén", "noun", "f", "sartenes"),  # built-in: mf
            entry("mar", "noun", "m", "mares"),  # gender changes the meaning: stays mf
            entry("pez", "noun", "m", "peces"),
            entry("carácter", "noun", "m", "caracteres"),
            entry("salud", "noun", "f", "-"),
            entry("tórax", "noun", "m", "="),
            entry("arpa", "noun", "f", "arpas"),
            entry("cruce", "noun", "m", "cruces"),
            entry("cruz", "noun", "f", "cruces"),
        ),
        "adj": (entry("trabajador", "adj", "trabajadora", ""), entry("cortés", "adj", "=", "")),
    }
    monkeypatch.setattr(lexicon, "of_pos", lambda pos: rows.get(pos, ()))
    _clear_caches()
    yield
    monkeypatch.undo()
    _clear_caches()


RARE = frozenset(
    {"rugosidad", "salinidad", "mansedumbre", "esbeltez", "conjuntivitis", "restricción", "fuselaje",
     "fonema", "telegrama", "resquemor", "hematoma"}
)  # fmt: skip


@pytest.fixture
def rare_words_unknown(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The real lexicon without the rare words the guess tests use, should a data file ever add them."""
    real = lexicon.of_pos
    monkeypatch.setattr(lexicon, "of_pos", lambda pos: tuple(e for e in real(pos) if e.lemma not in RARE))
    _clear_caches()
    yield
    monkeypatch.undo()
    _clear_caches()


def test_classic_exceptions_have_their_gender() -> None:
    expected = {
        "día": "m",
        "mapa": "m",
        "problema": "m",
        "idioma": "m",
        "mano": "f",
        "foto": "f",
        "moto": "f",
    }
    got = {w: info.gender for w in expected if (info := noun_info(w)) is not None}
    assert got == expected


def test_plural_forms_and_invariant_nouns() -> None:
    manos = noun_info("manos")
    assert manos is not None
    assert (manos.lemma, manos.plural) == ("mano", True)
    assert is_invariant("lunes")
    assert is_invariant("crisis")
    assert not is_invariant("casa")
    assert noun_plural("canción") == "canciones"
    assert [plural_of(w) for w in ("joven", "examen", "lápiz", "país", "café", "tórax")] == [
        "jóvenes", "exámenes", "lápices", "países", "cafés", "tórax",
    ]  # fmt: skip


def test_nouns_of_either_gender_are_marked_mf() -> None:
    for word in ("capital", "orden", "frente", "cometa", "estudiante", "mar", "radio"):
        info = noun_info(word)
        assert info is not None, word
        assert info.gender == "mf", word


def test_stressed_a_nouns_take_el_but_stay_feminine() -> None:
    for word in ("agua", "águila", "aula", "hambre", "hacha", "área", "alma"):
        assert starts_with_stressed_a(word), word
        info = noun_info(word)
        assert info is not None, word
        assert (info.gender, info.stressed_a) == ("f", True), word
    for word in ("abeja", "almohada", "árabe", "hache", "amiga"):
        assert not starts_with_stressed_a(word), word
    aguas = noun_info("aguas")
    assert aguas is not None
    assert aguas.plural
    assert aguas.stressed_a


def test_feminine_endings_are_guessed_for_unknown_nouns(rare_words_unknown: None) -> None:
    for word in ("rugosidad", "salinidad", "mansedumbre", "esbeltez", "conjuntivitis", "restricción"):
        info = noun_info(word, guess=True)
        assert info is not None, word
        assert info.gender == "f", word
    rug = guess_noun("rugosidades")
    assert rug is not None
    assert (rug.lemma, rug.gender, rug.plural, rug.guessed) == (
        "rugosidad",
        "f",
        True,
        True,
    )


def test_masculine_endings_are_guessed_for_unknown_nouns(rare_words_unknown: None) -> None:
    for word in ("fuselaje", "fonema", "telegrama", "resquemor", "hematoma"):
        info = guess_noun(word)
        assert info is not None, word
        assert (info.gender, info.guessed) == ("m", True), word
    fuselajes = guess_noun("fuselajes")
    assert fuselajes is not None
    assert (fuselajes.lemma, fuselajes.plural) == ("fuselaje", True)


def test_ending_exceptions_are_written_down() -> None:
    for word in (
        "flor",
        "labor",
        "cama",
        "forma",
        "llama",
        "rama",
        "norma",
        "crema",
        "pluma",
        "broma",
        "cabeza",
    ):
        assert ending_gender(word) == "f", word
    assert ending_gender("ajedrez") == "m"
    assert ending_gender("juez") == "mf"


def test_no_guess_for_agents_adjectives_verbs_or_plain_endings(rare_words_unknown: None) -> None:
    # agent nouns have a feminine form (la conductora); -or comparatives are adjectives (la mayor parte)
    for word in ("conductor", "traductor", "mayor", "interior", "mejor"):
        assert guess_noun(word) is None, word
    # verb forms are never nouns by their ending: "empieza" ends in -eza but is empezar
    assert ending_gender("empieza") == "f"
    assert guess_noun("empieza") is None
    # endings that say nothing reliable
    for word in ("entrada", "bolígrafo", "puente", "árbol", "xyzzy"):
        assert ending_gender(word) is None, word
    # without guess=True nothing is guessed: other rules ask "is this a noun?"
    assert noun_info("rugosidad") is None


def test_a_known_noun_is_never_guessed() -> None:
    assert guess_noun("canción") is None
    info = noun_info("canción", guess=True)
    assert info is not None
    assert not info.guessed


def test_other_gender_pairs() -> None:
    assert other_gender("profesor") == "profesora"
    assert other_gender("profesora") == "profesor"
    assert other_gender("amigo") == "amiga"
    assert other_gender("niña") == "niño"
    assert other_gender("jefe") == "jefa"
    assert other_gender("casa") is None
    assert other_gender("madre") is None
    assert other_gender("capital") is None


def test_adjective_forms() -> None:
    blanca = adjective_info("blanca")
    assert blanca is not None
    assert (blanca.lemma, blanca.gender, blanca.plural) == ("blanco", "f", False)
    assert adjective_form(blanca, "m", True) == "blancos"
    grande = adjective_info("grandes")
    assert grande is not None
    assert (grande.gender, grande.plural) == ("", True)
    inglesas = adjective_info("inglesas")
    assert inglesas is not None
    assert adjective_form(inglesas, "m", True) == "ingleses"


def test_the_lexicon_wins_over_built_in_words(fake_lexicon: None) -> None:
    sarten = noun_info("sartén")
    assert sarten is not None
    assert sarten.gender == "f"
    assert noun_info("sartenes") is not None
    mar = noun_info("mar")
    assert mar is not None
    assert mar.gender == "mf"
    caracteres = noun_info("caracteres")
    assert caracteres is not None
    assert caracteres.lemma == "carácter"
    assert noun_plural("carácter") == "caracteres"
    salud = noun_info("salud")
    assert salud is not None
    assert not salud.invariant
    assert noun_info("saludes") is None  # "-": no plural
    assert is_invariant("tórax")
    arpa = noun_info("arpa")
    assert arpa is not None
    assert arpa.stressed_a
    trabajadoras = adjective_info("trabajadoras")
    assert trabajadoras is not None
    assert trabajadoras.forms == (
        "trabajador",
        "trabajadora",
        "trabajadores",
        "trabajadoras",
    )
    corteses = adjective_info("corteses")
    assert corteses is not None
    assert corteses.gender == ""
    # a plural shared by a masculine and a feminine noun is of either gender: never corrected
    cruces = noun_info("cruces")
    assert cruces is not None
    assert (cruces.gender, cruces.plural) == ("mf", True)
    # only the lexicon feeds the table: a word it lacks is unknown (and only guessed on request)
    assert noun_info("día") is None
    assert noun_info("canción") is None
    cancion = noun_info("canción", guess=True)
    assert cancion is not None
    assert (cancion.gender, cancion.guessed) == ("f", True)
