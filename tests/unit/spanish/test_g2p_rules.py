"""The G2P spelling rules beyond the regular alphabet, in both dialect families.

Covers: silent first consonant of learned initial clusters (ps- pn- mn- pt- ct- gn-), *sc*/*xc* before
e/i (one [s] under seseo, [sθ] with distinción), doubled consonant letters and *ck* in loanwords, final
-y after a consonant, no [e] added before s + consonant, *x* in Mexican place names,
loanwords read from their Spanish respelling, and that the regular seseo/distinción and yeísmo
contrasts still hold around them.
"""

from __future__ import annotations

import pytest

from espaluz.spanish.phonetic_lexicon import LOANWORDS, WORDS
from espaluz.spanish.phonetics import DIALECTS, g2p


def phones(word: str, dialect: str = "latam", **kw: bool) -> str:
    return " ".join(g2p(word, dialect, **kw).phones)


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("psicología", "s i k o l o x i a"),
        ("psiquiatra", "s i k j a t ɾ a"),
        ("pneumático", "n e u̯ m a t i k o"),
        ("mnemotecnia", "n e m o t e k n j a"),
        ("pterodáctilo", "t e ɾ o ð a k t i l o"),
        ("ctenóforo", "t e n o f o ɾ o"),
        ("gnomo", "n o m o"),
    ],
)
def test_learned_initial_cluster_drops_first_consonant(word: str, expected: str, dialect: str) -> None:
    assert phones(word, dialect) == expected


def test_silent_cluster_keeps_written_syllables_and_stress() -> None:
    p = g2p("psicología")
    assert p.syllables == ("psi", "co", "lo", "gí", "a")
    assert p.stress == 3
    # inside a word the cluster is two sounds: "cápsula", "apto"
    assert phones("cápsula", narrow=False) == "k a p s u l a"
    assert phones("apto") == "a p t o"


@pytest.mark.parametrize(
    ("word", "latam", "spain"),
    [
        ("escena", "e s e n a", "e s θ e n a"),
        ("piscina", "p i s i n a", "p i s θ i n a"),
        ("ascensor", "a s e n s o ɾ", "a s θ e n s o ɾ"),
        ("disciplina", "d i s i p l i n a", "d i s θ i p l i n a"),
        ("consciente", "k o n s j e n t e", "k o n s θ j e n t e"),
        ("excelente", "e k s e l e n t e", "e k s θ e l e n t e"),
    ],
)
def test_sc_before_front_vowel_by_dialect(word: str, latam: str, spain: str) -> None:
    assert phones(word, "latam") == latam
    assert phones(word, "spain") == spain


def test_sc_before_back_vowel_is_s_k() -> None:
    assert phones("escuela") == phones("escuela", "spain") == "e s k w e l a"


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("jazz", "ʝ a s"),
        ("cappuccino", "k a p u t͡ʃ i n o"),
        ("Mississippi", "m i s i s i p i"),
        ("lobby", "l o β i"),
        ("watt", "w a t"),
        ("rock", "r o k"),
        ("fútbol", "f u t β o l"),
    ],
)
def test_doubled_consonants_in_loanwords_are_one_sound(word: str, expected: str, dialect: str) -> None:
    assert phones(word, dialect) == expected


def test_spanish_double_letters_keep_their_values() -> None:
    assert phones("acción") == "a k s j o n"
    assert phones("acción", "spain") == "a k θ j o n"
    assert phones("innato") == "i n n a t o"
    assert phones("perro") == "p e r o"
    assert phones("calle", "spain", lleismo=True) == "k a ʎ e"


def test_initial_s_cluster_is_left_to_the_speaker() -> None:
    """No [e] is added before s + consonant: voice scoring reports that epenthesis as an insertion."""
    assert phones("stop") == "s t o p"
    assert phones("Starbucks") == "s t a ɾ β u k s"


def test_final_y_after_consonant_is_a_vowel() -> None:
    assert phones("rugby") == "r u ɣ β i"
    assert phones("rey") == "r e i̯"
    assert phones("muy") == "m u i̯"
    assert phones("y") == "i"


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("México", "m e x i k o"),
        ("mexicano", "m e x i k a n o"),
        ("Oaxaca", "o a x a k a"),
        ("oaxaqueño", "o a x a k e ɲ o"),
        ("Texas", "t e x a s"),
        ("Xalapa", "x a l a p a"),
        ("Xochimilco", "s o t͡ʃ i m i l k o"),
        ("Mixcoac", "m i s k o a k"),
        ("Tlaxcala", "t l a s k a l a"),
        ("Texcoco", "t e s k o k o"),
        ("taxi", "t a k s i"),
        ("extranjero", "e k s t ɾ a ŋ x e ɾ o"),
    ],
)
def test_x_in_mexican_names(word: str, expected: str, dialect: str) -> None:
    assert phones(word, dialect) == expected


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("pizza", "p i t s a"),
        ("wifi", "w i f i"),
        ("Wi-Fi", "w i f i"),
        ("whisky", "w i s k i"),
        ("show", "t͡ʃ o u̯"),
        ("sándwich", "s a n d w i t͡ʃ"),
        ("software", "s o f w e ɾ"),
        ("hobby", "x o β i"),
        ("croissant", "k ɾ w a s a n"),
        ("mozzarella", "m o t s a ɾ e l a"),
        ("spaghetti", "e s p a ɣ e t i"),
        ("ballet", "b a l e"),
    ],
)
def test_loanwords_from_respelling(word: str, expected: str, dialect: str) -> None:
    assert phones(word, dialect) == expected


def test_loanword_syllables_and_stress() -> None:
    hobby = g2p("hobby")
    assert (hobby.syllables, hobby.stress) == (("jo", "bi"), 0)
    pizza = g2p("pizza")
    assert (pizza.syllables, pizza.stress) == (("piz", "za"), 0)  # same count: the written syllables
    assert g2p("croissant").stress == 1
    assert g2p("pizza").to_json()["word"] == "pizza"


def test_loanword_table_is_clean() -> None:
    """Keys are what g2p looks up (lower case letters); respellings are plain Spanish spelling."""
    letters = set("abcdefghijklmnñopqrstuvwxyzáéíóúü")
    for written, spoken in LOANWORDS.items():
        assert set(written) <= letters, written
        assert set(spoken) <= letters - {"w", "k"}, spoken
        assert written not in WORDS  # never offered as a minimal-pair partner


@pytest.mark.parametrize(
    ("word", "latam", "spain"),
    [
        ("zapato", "s a p a t o", "θ a p a t o"),
        ("cielo", "s j e l o", "θ j e l o"),
        ("cerveza", "s e ɾ β e s a", "θ e ɾ β e θ a"),
        ("lluvia", "ʝ u β j a", "ʝ u β j a"),
        ("pizzería", "p i t s e ɾ i a", "p i t s e ɾ i a"),
    ],
)
def test_dialects_stay_distinct(word: str, latam: str, spain: str) -> None:
    assert phones(word, "latam") == latam
    assert phones(word, "spain") == spain
