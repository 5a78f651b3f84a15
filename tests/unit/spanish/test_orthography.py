"""Syllables, stress and accent placement (the rules the conjugator relies on)."""

from __future__ import annotations

import pytest

from espaluz.spanish.orthography import (
    add_enclitic,
    add_prefix,
    normalize_accent,
    stressed_syllable,
    syllabify,
)


@pytest.mark.parametrize(
    ("word", "syllables"),
    [
        ("perro", ("pe", "rro")),
        ("hombre", ("hom", "bre")),
        ("instante", ("ins", "tan", "te")),
        ("construir", ("cons", "truir")),
        ("pingüino", ("pin", "güi", "no")),
        ("guerra", ("gue", "rra")),
        ("queso", ("que", "so")),
        ("calle", ("ca", "lle")),
        ("coche", ("co", "che")),
        ("hoy", ("hoy",)),
        ("estoy", ("es", "toy")),
        ("aéreo", ("a", "é", "re", "o")),
        ("país", ("pa", "ís")),
        ("ciudad", ("ciu", "dad")),
        ("abstracto", ("abs", "trac", "to")),
        ("leyó", ("le", "yó")),
        ("ahora", ("a", "ho", "ra")),
        ("transporte", ("trans", "por", "te")),
    ],
)
def test_syllabify(word: str, syllables: tuple[str, ...]) -> None:
    assert syllabify(word) == syllables


@pytest.mark.parametrize(
    ("word", "index"),
    [("casa", 0), ("ciudad", 1), ("café", 1), ("árbol", 0), ("examen", 1), ("reloj", 1), ("música", 0)],
)
def test_stressed_syllable(word: str, index: int) -> None:
    assert stressed_syllable(word) == index


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("rió", "rio"),
        ("huí", "hui"),
        ("fié", "fie"),
        ("guió", "guio"),
        ("dió", "dio"),
        ("vió", "vio"),
        ("construí", "construí"),
        ("oíd", "oíd"),
        ("envío", "envío"),
        ("prohíbo", "prohíbo"),
        ("reúno", "reúno"),
    ],
)
def test_normalize_accent_2010_monosyllables(raw: str, expected: str) -> None:
    assert normalize_accent(raw) == expected


@pytest.mark.parametrize(
    ("prefix", "word", "expected"),
    [
        ("de", "ten", "detén"),
        ("son", "rio", "sonrió"),
        ("f", "rio", "frio"),
        ("pre", "ve", "prevé"),
        ("pre", "veis", "prevéis"),
        ("des", "haz", "deshaz"),
        ("re", "hizo", "rehízo"),
        ("son", "riais", "sonriáis"),
    ],
)
def test_add_prefix_keeps_stress(prefix: str, word: str, expected: str) -> None:
    assert add_prefix(prefix, word) == expected


@pytest.mark.parametrize(
    ("word", "clitic", "drop", "expected"),
    [
        ("levanta", "te", 0, "levántate"),
        ("levantemos", "nos", 1, "levantémonos"),
        ("vestid", "os", 1, "vestíos"),
        ("levantad", "os", 1, "levantaos"),
        ("levantá", "te", 0, "levantate"),
        ("detén", "te", 0, "detente"),
        ("dé", "me", 0, "deme"),
        ("levantando", "se", 0, "levantándose"),
    ],
)
def test_add_enclitic(word: str, clitic: str, drop: int, expected: str) -> None:
    assert add_enclitic(word, clitic, drop) == expected
