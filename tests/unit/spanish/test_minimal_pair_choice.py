"""Which minimal pair the engine offers a learner: the contrast worth teaching (tap/trill first, vowels
late), common words before rare ones, never a slang word, and never two spellings of one sound for the
learner's dialect (b/v anywhere; s/z/c and ll/y in Latin America)."""

from __future__ import annotations

import re

import pytest

from espaluz.spanish.orthography import strip_accents
from espaluz.spanish.phonetic_lexicon import AVOID, RANK, WORDS, rank
from espaluz.spanish.phonetics import best_minimal_pair, contrast_tier, minimal_pairs


def best(word: str, dialect: str = "latam") -> str | None:
    pair = best_minimal_pair(word, dialect)
    return pair.word if pair else None


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("perro", "pero"),
        ("pero", "perro"),
        ("caro", "carro"),
        ("carro", "caro"),
        ("ahora", "ahorra"),
        ("quería", "querría"),
        ("cero", "cerro"),
        ("perrito", "perito"),
        ("una", "uña"),
        ("día", "tía"),
        ("cuatro", "cuadro"),
        ("hacha", "haya"),
        ("pollo", "polo"),
        ("jota", "gota"),
    ],
)
def test_best_pair_teaches_the_contrast(word: str, expected: str) -> None:
    """The regression: *perro* used to get *porro* (a vowel change, and slang) instead of *pero*."""
    assert best(word, "latam") == expected
    assert best(word, "spain") == expected


def test_vowel_pairs_exist_but_lose_to_a_consonant_contrast() -> None:
    """*cara* (o/a) and *pera* (e/a) are real pairs of *caro* / *pero*, but the tap/trill wins."""
    assert "cara" in {p.word for p in minimal_pairs("caro")}
    assert "pera" in {p.word for p in minimal_pairs("pero")}
    first = best_minimal_pair("caro")
    assert first is not None
    assert (first.phone, first.other) == ("ɾ", "r")


def test_a_vowel_pair_when_nothing_better_exists() -> None:
    """*mesa* has no consonant contrast a learner confuses, so a vowel pair is its best offer."""
    pair = best_minimal_pair("mesa")
    assert pair is not None
    assert contrast_tier(pair.phone, pair.other) == 3
    assert pair.word == "misa"


def test_s_theta_is_a_pair_in_spain_only() -> None:
    """Dialect: *casa/caza* contrast [s]/[θ] in Spain (and it is the pair to offer there); in Latin
    America they sound the same (seseo), so the offer is another word; *sierra/cierra* likewise."""
    assert best("casa", "spain") == "caza"
    assert best("casa", "latam") not in (None, "caza")
    assert best("sierra", "spain") == "cierra"
    assert "cierra" not in {p.word for p in minimal_pairs("sierra", "latam")}


def test_nothing_to_offer_is_none() -> None:
    """A word with no partner in the lexicon (bad input for the pair finder) gives ``None``."""
    assert best_minimal_pair("murciélago") is None


def test_rank_prefers_the_common_word() -> None:
    """Within one contrast, the commoner word first: every word's pairs are ordered by tier, then rank."""
    assert rank("de") < rank("parra") < rank("zzz") == len(WORDS)
    for dialect in ("latam", "spain"):
        for word in WORDS:
            keys = [(contrast_tier(p.phone, p.other), RANK[p.word]) for p in minimal_pairs(word, dialect)]
            assert keys == sorted(keys), word


def test_slang_and_vulgar_words_are_never_offered() -> None:
    """Bad data: none of the words left out on purpose is in the lexicon, so none is ever offered,
    even when the learner asks for one of them."""
    assert not AVOID & set(WORDS)
    assert "porro" not in {p.word for p in minimal_pairs("perro")}
    assert best("porro") == "poro"


def _merged_spelling(word: str, dialect: str) -> str:
    """The word's spelling with the letters a dialect pronounces alike written alike (independent of
    the G2P): b/v, ll/y and silent h everywhere; c(e,i)/z/s in Latin America."""
    w = strip_accents(word.lower()).replace("ch", "C").replace("h", "").replace("v", "b")
    w = w.replace("ll", "y")
    if dialect == "latam":
        w = re.sub(r"c(?=[ei])", "s", w).replace("z", "s")
    return w


@pytest.mark.parametrize("dialect", ["latam", "spain"])
def test_no_pair_is_a_merger(dialect: str) -> None:
    """No offered pair is two spellings of one sound: not b/v anywhere, not s/z or ll/y in Latin
    America (*vaso/baso*, *casa/caza*, *pollo/poyo* would teach a difference nobody makes)."""
    for word in WORDS:
        for pair in minimal_pairs(word, dialect):
            assert _merged_spelling(word, dialect) != _merged_spelling(pair.word, dialect), (word, pair)
            assert {pair.phone, pair.other} != {"s", "θ"} or dialect == "spain"
