"""The course data, checked against the Spanish engine: the quality rules of the curriculum issue.

Covers: the syllabus loads and validates (malformed data is refused with the entry named); its size
(grammar points, vocabulary, phrasebook); every Spanish sentence of the data passes the engine's checker
without a correction; every verb form is the conjugator's; every noun's gender agrees with the agreement
checker; every lexicon verb is conjugated by the engine; no unit uses a grammar point or word of a higher
level.
"""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources

import pytest

from espaluz.curriculum import syllabus
from espaluz.curriculum.syllabus import Item, SyllabusError, load
from espaluz.spanish import lexicon
from espaluz.spanish.conjugation import conjugate_form, conjugate_table
from espaluz.spanish.corrections import check
from espaluz.spanish.nouns import noun_info
from espaluz.spanish.verb_index import readings

LEVEL_ORDER = {lv: k for k, lv in enumerate(lexicon.LEVELS)}


def sentences() -> list[tuple[str, str]]:
    """Every Spanish sentence of the data, with where it comes from."""
    out = []
    for point in load().points.values():
        out += [(f"{point.id} example", e["es"]) for e in point.examples]
        for item in point.items:
            out.append((f"{point.id} item", item.render().text))
            out += [(f"{point.id} alt", alt) for alt in item.alt]
    return out


def test_the_syllabus_has_the_size_the_issue_asks_for() -> None:
    syl = load()
    by_level = Counter(p.level for p in syl.points.values())
    assert len(syl.points) >= 60, by_level
    assert all(by_level[lv] >= 12 for lv in lexicon.LEVELS), by_level
    assert [len(syl.of_level(lv)) for lv in lexicon.LEVELS] == [8, 8, 8, 8]
    assert len(lexicon.entries()) >= 1500
    raw = json.loads(
        resources.files("espaluz.curriculum").joinpath("data/phrasebook.json").read_text("utf-8")
    )
    assert len(raw["entries"]) >= 300
    for point in syl.points.values():  # explanations and worked examples in both languages
        assert point.explanation["es"] != point.explanation["en"]
        assert all(e["es"] and e["en"] for e in point.examples)


def test_every_word_belongs_to_exactly_one_unit_of_its_level() -> None:
    syl = load()
    dealt = [(e.lemma, e.pos, e.level) for es in syl.vocabulary.values() for e in es]
    assert len(dealt) == len(lexicon.entries()) == len(set(dealt))
    for unit_id, words in syl.vocabulary.items():
        assert {e.level for e in words} <= {syl.unit(unit_id).level}


def test_every_spanish_sentence_of_the_data_passes_the_engine_without_a_correction() -> None:
    flagged = [(where, s, [(c.original, c.suggestion, c.rule) for c in check(s)]) for where, s in sentences()]
    flagged = [f for f in flagged if f[2]]
    assert not flagged, "\n".join(map(str, flagged[:20]))


def test_every_verb_form_is_the_conjugators() -> None:
    for point in load().points.values():
        for item in point.items:
            r = item.render()
            if r.verb:
                assert r.focus == conjugate_form(r.verb, r.tense, r.person)
                assert r.text[r.start : r.end] == r.focus


def test_every_lexicon_verb_is_conjugated_by_the_engine() -> None:
    for entry in lexicon.of_pos("verb"):
        table = conjugate_table(entry.lemma)
        assert table.form("indicative.present", "3s"), entry.lemma


def test_every_nouns_gender_agrees_with_the_agreement_checker() -> None:
    """The right article is never corrected; the wrong one, when corrected, is put back to the lexicon's."""
    wrong_caught = wrong_total = 0
    for entry in lexicon.of_pos("noun"):
        if " " in entry.lemma:  # a compound (fin de semana): the engine agrees with its head word
            continue
        info = noun_info(entry.lemma)
        assert info is not None, entry.lemma
        if entry.gender == "mf":
            assert info.gender == "mf", entry.lemma
            continue
        assert info.gender == entry.gender, entry.lemma
        right = "el" if entry.gender == "m" or info.stressed_a else "la"
        assert not check(f"Pienso en {right} {entry.lemma}."), (right, entry.lemma)
        wrong = {"el": "la", "la": "el"}[right]
        fixes = check(f"Pienso en {wrong} {entry.lemma}.")
        wrong_total += 1
        if fixes:
            wrong_caught += 1
            assert fixes[0].suggestion.split()[0].lower() == right, (entry.lemma, fixes[0])
    assert wrong_caught >= 0.9 * wrong_total, (wrong_caught, wrong_total)


def _lowest_level(token: str) -> int | None:
    """The lowest level at which the lexicon teaches ``token`` (as itself, a plural or a verb form)."""
    levels = [LEVEL_ORDER[e.level] for e in lexicon.entries() if e.lemma == token]
    info = noun_info(token)
    if info is not None:
        levels += [LEVEL_ORDER[e.level] for e in lexicon.entries() if e.lemma == info.lemma]
    for reading in readings(token):
        entry = lexicon.lookup(reading.verb, "verb")
        if entry is not None:
            levels.append(LEVEL_ORDER[entry.level])
    return min(levels) if levels else None


def test_no_unit_uses_a_word_of_a_higher_level() -> None:
    above = []
    for point in load().points.values():
        for item in point.items:
            for token in item.render().text.lower().replace("¿", " ").replace("¡", " ").split():
                word = token.strip('.,;:!?«»"')
                lowest = _lowest_level(word)
                if lowest is not None and lowest > LEVEL_ORDER[point.level]:
                    above.append((point.id, point.level, word))
    assert not above, above[:30]


def test_malformed_data_is_refused_with_the_entry_named() -> None:
    with pytest.raises(SyllabusError, match="exactly one focus"):
        syllabus._point(
            {"id": "x", "level": "A1", "title": {"es": "a", "en": "b"}, "explanation": {"es": "a", "en": "b"},
             "examples": [{"es": "a", "en": "b"}], "sentences": [{"es": "Sin foco.", "en": "No focus."}] * 5}
        )  # fmt: skip
    with pytest.raises(SyllabusError, match="wrong choices"):
        syllabus._point(
            {"id": "x", "level": "A1", "title": {"es": "a", "en": "b"}, "explanation": {"es": "a", "en": "b"},
             "examples": [{"es": "a", "en": "b"}], "sentences": [{"es": "Voy [al] cine.", "en": "x"}] * 5}
        )  # fmt: skip
    with pytest.raises(SyllabusError, match="Spanish and English"):
        syllabus._point(
            {"id": "x", "level": "A1", "title": {"es": "solo"}, "explanation": {"es": "a", "en": "b"},
             "examples": [{"es": "a", "en": "b"}],
             "sentences": [{"es": "Yo {ir:indicative.present:1s}.", "en": "x"}] * 5}
        )  # fmt: skip
    with pytest.raises(lexicon.LexiconError, match="line 2: unknown theme"):
        lexicon._parse(
            "A1",
            "lemma\tpos\tgender\tplural\tgloss\ttheme\tvariants\tnote\nperro\tnoun\tm\tperros\tdog\tpets\t\t\n",
        )
    with pytest.raises(lexicon.LexiconError, match="needs gender"):
        lexicon._parse(
            "A1",
            "lemma\tpos\tgender\tplural\tgloss\ttheme\tvariants\tnote\nperro\tnoun\t\tperros\tdog\tpeople\t\t\n",
        )


def test_the_markup_renders_the_engines_form_and_the_focus_span() -> None:
    r = Item("Nosotros {vivir:indicative.present:1p} en Lima.", "We live in Lima.").render()
    assert (r.text, r.focus, r.blanked()) == ("Nosotros vivimos en Lima.", "vivimos", "Nosotros …… en Lima.")
    r = Item("Voy [al] cine.", "I go to the cinema.", choices=("a el",)).render()
    assert (r.text, r.focus, r.verb) == ("Voy al cine.", "al", "")
