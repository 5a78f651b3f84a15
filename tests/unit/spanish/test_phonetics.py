"""G2P in both dialect families, syllables/stress, numbers and minimal pairs."""

from __future__ import annotations

import pytest

from espaluz.spanish.numbers import number_to_words
from espaluz.spanish.phonetic_lexicon import LOANWORDS
from espaluz.spanish.phonetics import DIALECTS, contrast_message, g2p, minimal_pairs


def phones(word: str, dialect: str = "latam", **kw: bool) -> str:
    return " ".join(g2p(word, dialect, **kw).phones)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("rosa", "r o s a"),
        ("honra", "o n r a"),
        ("alrededor", "a l r e ð e ð o ɾ"),
        ("Israel", "i s r a e l"),
        ("perro", "p e r o"),
        ("pero", "p e ɾ o"),
        ("caro", "k a ɾ o"),
        ("carro", "k a r o"),
        ("México", "m e x i k o"),
        ("Oaxaca", "o a x a k a"),
        ("Texas", "t e x a s"),
        ("taxi", "t a k s i"),
        ("examen", "e k s a m e n"),
        ("pingüino", "p i ŋ g w i n o"),
        ("queso", "k e s o"),
        ("guerra", "g e r a"),
        ("guitarra", "g i t a r a"),
        ("rey", "r e i̯"),
        ("y", "i"),
        ("hoy", "o i̯"),
        ("hola", "o l a"),
        ("ahora", "a o ɾ a"),
        ("hielo", "ʝ e l o"),
        ("huevo", "w e β o"),
        ("chico", "t͡ʃ i k o"),
        ("niño", "n i ɲ o"),
        ("yo", "ʝ o"),
        ("calle", "k a ʝ e"),
        ("tengo", "t e ŋ g o"),
        ("envío", "e m b i o"),
        ("agua", "a ɣ w a"),
        ("caldo", "k a l d o"),
        ("ciudad", "s j u ð a ð"),
        ("bueno", "b w e n o"),
        ("aire", "a i̯ ɾ e"),
        ("jamón", "x a m o n"),
        ("gente", "x e n t e"),
    ],
)
def test_g2p_latam(word: str, expected: str) -> None:
    assert phones(word) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("cielo", "θ j e l o"),
        ("zapato", "θ a p a t o"),
        ("acción", "a k θ j o n"),
        ("casa", "k a s a"),
        ("caza", "k a θ a"),
        ("calle", "k a ʝ e"),
        ("perro", "p e r o"),
    ],
)
def test_g2p_spain_distincion(word: str, expected: str) -> None:
    assert phones(word, "spain") == expected


def test_spain_lleismo_option() -> None:
    assert phones("calle", "spain", lleismo=True) == "k a ʎ e"
    assert phones("calle", "latam") == "k a ʝ e"


def test_latam_seseo_merges_s_and_z() -> None:
    assert phones("caza") == phones("casa") == "k a s a"
    assert phones("cielo") == "s j e l o"


def test_broad_transcription_has_no_allophones() -> None:
    assert phones("agua", narrow=False) == "a g w a"
    assert phones("tengo", narrow=False) == "t e n g o"
    assert phones("lado", narrow=True) == "l a ð o"


def test_one_phone_per_item_with_tie_bar() -> None:
    p = g2p("coche")
    assert p.phones == ("k", "o", "t͡ʃ", "e")
    assert all(ph for ph in p.phones)


@pytest.mark.parametrize(
    ("word", "syllables", "stress"),
    [
        ("perro", ["pe", "rro"], 0),
        ("ciudad", ["ciu", "dad"], 1),
        ("café", ["ca", "fé"], 1),
        ("árbol", ["ár", "bol"], 0),
        ("música", ["mú", "si", "ca"], 0),
        ("México", ["mé", "xi", "co"], 0),
        ("país", ["pa", "ís"], 1),
        ("hablar", ["ha", "blar"], 1),
        ("examen", ["e", "xa", "men"], 1),
    ],
)
def test_syllables_and_stress(word: str, syllables: list[str], stress: int) -> None:
    data = g2p(word).to_json()
    assert data["syllables"] == syllables
    assert data["stress"] == stress
    assert data["word"] == word


def test_digits_are_spelled_out() -> None:
    p = g2p("25")
    assert p.syllables == ("vein", "ti", "cin", "co")
    assert p.stress == 2
    assert phones("25") == "b e i̯ n t i s i ŋ k o"
    assert phones("25", "spain") == "b e i̯ n t i θ i ŋ k o"


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "cero"),
        (1, "uno"),
        (16, "dieciséis"),
        (21, "veintiuno"),
        (22, "veintidós"),
        (25, "veinticinco"),
        (31, "treinta y uno"),
        (100, "cien"),
        (101, "ciento uno"),
        (555, "quinientos cincuenta y cinco"),
        (1000, "mil"),
        (2024, "dos mil veinticuatro"),
        (21000, "veintiún mil"),
        (31000, "treinta y un mil"),
        (1_000_000, "un millón"),
        (2_500_000, "dos millones quinientos mil"),
        (21_000_000, "veintiún millones"),
    ],
)
def test_number_to_words(n: int, words: str) -> None:
    assert number_to_words(n) == words


def test_number_out_of_range() -> None:
    with pytest.raises(ValueError, match="out of range"):
        number_to_words(-1)


def test_rejects_unknown_dialect_and_empty_word() -> None:
    with pytest.raises(ValueError, match="dialect"):
        g2p("casa", "mars")
    with pytest.raises(ValueError, match="nothing"):
        g2p("¿?")


@pytest.mark.parametrize(
    ("word", "other", "a", "b"),
    [
        ("pero", "perro", "ɾ", "r"),
        ("caro", "carro", "ɾ", "r"),
        ("cero", "cerro", "ɾ", "r"),
        ("para", "parra", "ɾ", "r"),
        ("coro", "corro", "ɾ", "r"),
        ("quería", "querría", "ɾ", "r"),
        ("peso", "piso", "e", "i"),
        ("peso", "beso", "p", "b"),
        ("pala", "bala", "p", "b"),
        ("cama", "cana", "m", "n"),
        ("caro", "cara", "o", "a"),
    ],
)
def test_minimal_pairs(word: str, other: str, a: str, b: str) -> None:
    pairs = {(p.word, p.phone, p.other) for p in minimal_pairs(word)}
    assert (other, a, b) in pairs


def test_minimal_pair_position_indexes_phones() -> None:
    pair = next(p for p in minimal_pairs("pero") if p.word == "perro")
    assert pair.position == 2
    assert g2p("pero", narrow=False).phones[pair.position] == "ɾ"


def test_seseo_removes_s_theta_pairs() -> None:
    assert "caza" not in {p.word for p in minimal_pairs("casa", "latam")}
    assert ("caza", "s", "θ") in {(p.word, p.phone, p.other) for p in minimal_pairs("casa", "spain")}


def test_contrast_message() -> None:
    msg = contrast_message("perro", "pero")
    assert msg == "You made a tap [ɾ]: that is *pero*; *perro* needs a trill [r]."
    assert contrast_message("perro", "gato") is None


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_loanword_transcribes_consistently(dialect: str) -> None:
    """A respelled loanword still gives one phone per item and a stress index inside its syllables."""
    for word in LOANWORDS:
        p = g2p(word, dialect)
        assert p.word == word
        assert p.phones
        assert all(p.phones)
        assert 0 <= p.stress < len(p.syllables), word


def test_respelling_rules_do_not_change_regular_words() -> None:
    assert phones("estación") == "e s t a s j o n"
    assert phones("estación", "spain") == "e s t a θ j o n"
    assert phones("examen", "spain") == "e k s a m e n"
    assert phones("psicólogo") == "s i k o l o ɣ o"
