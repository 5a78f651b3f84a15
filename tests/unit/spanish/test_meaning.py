"""What one Spanish word means, inflected forms included, and the Spanish for one English word, from the
lexicon (espaluz.spanish.meaning). Bad input covered: an unknown word, capitals and spaces around it,
the neuter demonstratives (no feminine or plural), a gloss with a bracketed note."""

from __future__ import annotations

import pytest

from espaluz.spanish.meaning import meanings, spanish_for


@pytest.mark.parametrize(
    ("word", "lemma", "pos", "form"),
    [
        ("casa", "casa", "noun", ""),
        ("canciones", "canción", "noun", "plural"),
        ("mis", "mi", "det", "plural"),
        ("nuestras", "nuestro", "det", "feminine plural"),
        ("estas", "este", "det", "feminine plural"),
        ("aquella", "aquel", "det", "feminine"),
        ("bonitas", "bonito", "adj", "feminine plural"),
        ("felices", "feliz", "adj", "plural"),
        ("inglesas", "inglés", "adj", "feminine plural"),
        (" Comemos ", "comer", "verb", "indicative.present"),
    ],
)
def test_a_word_is_found_through_its_form(word: str, lemma: str, pos: str, form: str) -> None:
    first = meanings(word)[0]
    assert (first.lemma, first.pos, first.form) == (lemma, pos, form)
    assert first.glosses


def test_a_verb_form_names_its_tense_and_person_and_every_verb_it_can_be() -> None:
    """*fui* is both *ser* and *ir* in the preterite, first person; *comemos* is the present, nosotros."""
    fui = {(m.lemma, m.form, m.person) for m in meanings("fui")}
    assert fui == {("ser", "indicative.preterite", "1s"), ("ir", "indicative.preterite", "1s")}
    (comemos,) = meanings("comemos")
    assert (comemos.form, comemos.person) == ("indicative.present", "1p")
    assert "to eat" in comemos.glosses


def test_a_word_written_without_its_accent_is_read_with_it() -> None:
    """Learners on a phone drop accents: *pelicula* is *película*, shown with its accent; a spelling that
    is a word of its own stays itself (*esta* is not read as *está*)."""
    (pelicula,) = meanings("pelicula")
    assert (pelicula.word, pelicula.lemma) == ("película", "película")
    assert all(m.word == "esta" for m in meanings("esta"))


def test_unknown_and_neuter_words() -> None:
    """No guess for a word the lexicon lacks; *esto* has no derived forms (*estos* is *este*'s plural)."""
    assert meanings("xyzzy") == []
    assert [m.form for m in meanings("esto")] == [""]
    assert [(m.lemma, m.form) for m in meanings("estos")] == [("este", "plural")]


def test_the_spanish_for_an_english_word_prefers_its_usual_meaning() -> None:
    """ "to be" is *ser* and *estar* (their usual meaning), not *medir* ("be (height)"); "you" finds the
    pronouns whose gloss carries a note; "to eat" and "eat" are the same request."""
    assert [e.lemma for e in spanish_for("to be")] == ["ser", "estar"]
    assert {e.lemma for e in spanish_for("you")} >= {"tú", "usted"}
    assert [e.lemma for e in spanish_for("eat")] == [e.lemma for e in spanish_for("to eat")] == ["comer"]
    assert spanish_for("dog")[0].lemma == "perro"
    assert spanish_for("qwertyuiop") == []
