"""The agreement rule (espaluz.spanish.agreement) through corrections.check: what it suggests, the reasons
in English and Spanish, and where it must stay silent (either-gender nouns, person nouns with a form for the
other gender, coordination, adjectives that may belong to another noun, guessed genders).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from espaluz.spanish import lexicon, nouns
from espaluz.spanish.agreement import DETS, POSSESSIVES
from espaluz.spanish.corrections import check
from espaluz.spanish.review import review


def _agreement(text: str) -> list[tuple[str, str]]:
    return [(c.original, c.suggestion) for c in check(text) if c.rule == "agreement"]


@pytest.fixture
def rugosidad_unknown(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The real lexicon without *rugosidad*, the guessed noun of these tests, should a data file add it."""
    real = lexicon.of_pos

    def clear() -> None:
        nouns._noun_table.cache_clear()
        nouns._adj_table.cache_clear()
        nouns.guess_noun.cache_clear()
        nouns._PLURALS.clear()

    monkeypatch.setattr(lexicon, "of_pos", lambda pos: tuple(e for e in real(pos) if e.lemma != "rugosidad"))
    clear()
    yield
    monkeypatch.undo()
    clear()


def test_shared_determiner_table_keeps_its_meaning() -> None:
    """Other rules (gustar, personal a) read DETS: (family, index) with index >= 2 for plural forms."""
    assert DETS["las"] == ("def", 3)
    assert DETS["algún"] == ("alguno", 0)
    assert DETS["nuestras"] == ("nuestro", 3)
    assert "tantos" not in DETS  # the extra quantifiers are this rule's own
    assert POSSESSIVES == {"mi": "mis", "tu": "tus", "su": "sus"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("La problema es difícil.", [("La", "El")]),
        ("Tengo un mano rota.", [("un", "una")]),
        ("Los transiciones son difíciles.", [("Los", "Las")]),
        ("Vivo con mis amigo.", [("mis amigo", "mis amigos")]),
        ("Mis libro está aquí.", [("Mis", "Mi")]),
        ("Tengo muchos canciones.", [("muchos", "muchas")]),
        ("Había muchos gente.", [("muchos gente", "mucha gente")]),
        ("Todo la semana llovió.", [("Todo", "Toda")]),
        ("La casa blanco es mía.", [("blanco", "blanca")]),
        ("Las chicas están cansados.", [("cansados", "cansadas")]),
        ("La casa no es muy bonito.", [("bonito", "bonita")]),
        ("La agua está fría.", [("La", "El")]),
        ("El agua está frío.", [("frío", "fría")]),
        ("Tengo poco hambre.", [("poco", "poca")]),
        ("Me tiré a la agua.", [("a la", "al")]),
        ("Vengo de la mercado.", [("de la", "del")]),
    ],
)
def test_suggestions(text: str, expected: list[tuple[str, str]]) -> None:
    assert _agreement(text) == expected


def test_reason_names_the_gender_and_the_exception_in_both_languages() -> None:
    (corr,) = check("La problema es difícil.")
    assert "masculine" in corr.explanation
    assert "Greek -ma" in corr.explanation
    assert "masculino" in corr.explanation_es
    assert "-ma griego" in corr.explanation_es
    (corr,) = check("Me duele el mano.")
    assert "ends in -o but is feminine" in corr.explanation
    assert "termina en -o pero es femenino" in corr.explanation_es


def test_reason_for_a_guessed_gender_names_the_ending(rugosidad_unknown: None) -> None:
    (corr,) = check("El rugosidad es alta.")  # not in the lexicon: guessed from -dad
    assert corr.suggestion == "La"
    assert "nouns in -dad are feminine" in corr.explanation
    assert "los sustantivos en -dad son femeninos" in corr.explanation_es


def test_reason_for_a_known_noun_names_the_ending_rule_it_follows() -> None:
    (corr,) = check("Escucho el canción.")
    assert "nouns in -ción are feminine" in corr.explanation
    assert "los sustantivos en -ción son femeninos" in corr.explanation_es


def test_stressed_a_reason_and_feminine_adjective() -> None:
    (corr,) = check("La agua está fría.")
    assert "stressed a-" in corr.explanation
    assert "a tónica" in corr.explanation_es
    (corr,) = check("El agua frío no me gusta.")
    assert corr.suggestion == "fría"
    assert "el agua fría" in corr.explanation
    assert "el agua fría" in corr.explanation_es


@pytest.mark.parametrize(
    "text",
    [
        "El capital de la empresa creció.",
        "La capital de Chile es Santiago.",
        "El orden de los factores no importa.",
        "La orden llegó ayer.",
        "El frente frío llega mañana.",
        "La frente le duele.",
    ],
)
def test_either_gender_nouns_are_never_corrected(text: str) -> None:
    assert _agreement(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Mi amigo está cansada.",  # mi amiga?
        "Todos mis amigas vienen.",  # todas mis amigas or todos mis amigos?
    ],
)
def test_person_nouns_with_a_pair_and_one_clue_are_left_alone(text: str) -> None:
    assert _agreement(text) == []


def test_article_before_a_person_noun_offers_the_other_noun_too() -> None:
    (corr,) = check("La profesor llegó tarde.")
    assert corr.suggestion == "El"
    assert "'la profesora'" in corr.explanation
    assert "'la profesora'" in corr.explanation_es
    (corr,) = check("Hablé con los niñas.")
    assert corr.suggestion == "las"
    assert "'los niños'" in corr.explanation


def test_a_verb_reading_is_left_alone_unless_a_preposition_rules_it_out() -> None:
    assert _agreement("La cambio mañana.") == []  # I change it tomorrow
    assert _agreement("Pienso en la cambio.") == [("la", "el")]


def test_person_noun_with_two_clues_is_corrected() -> None:
    assert _agreement("El amigo está cansada.") == [("cansada", "cansado")]


@pytest.mark.parametrize(
    "text",
    [
        "El padre y la madre son altos.",
        "Tengo una falda y unos zapatos negros.",
        "Me compré una camisa de algodón blanca.",
        "Él abrió la carta contento.",
        "Lo que dice la gente es falso.",
        "El problema es mala suerte.",
        "Los niños hablan alto.",
        "La pelota está bajo la mesa.",
        "El niño limpia la mesa.",
        "El trayecto dura unos minutos.",
        "La cambio mañana.",
        "Es mucho mejor así.",
    ],
)
def test_silent_where_the_adjective_or_subject_is_unclear(text: str) -> None:
    assert _agreement(text) == []


def test_guessed_nouns_only_get_the_determiner_checked(rugosidad_unknown: None) -> None:
    # "rugosidad" is not in the lexicon: its gender is guessed from -dad
    assert _agreement("El rugosidad es alta.") == [("El", "La")]
    assert _agreement("La rugosidad es alto.") == []
    assert _agreement("La rugosidad blanco.") == []


def test_review_gives_the_whole_corrected_sentence() -> None:
    result = review("La día fue muy largo y mis amigo estaban cansadas.")
    assert result.corrected == "El día fue muy largo y mis amigos estaban cansadas."
    result = review("Esta foto es muy bonito.")
    assert result.corrected == "Esta foto es muy bonita."
    assert result.clean


def test_offsets_point_at_the_original_words() -> None:
    text = "Ayer vi la casa blanco."
    (corr,) = check(text)
    assert text[corr.start : corr.end] == corr.original == "blanco"
