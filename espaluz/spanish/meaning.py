"""What a single Spanish word means, and the Spanish for a single English word, from the lexicon.

The phrasebook (``espaluz.tutor.phrasebook``) answers "¿qué significa X?" for its 500-odd expressions; a
learner at A1 mostly asks about one word, often an inflected one (*mis*, *comemos*, *bonitas*). This
module finds it in :mod:`espaluz.spanish.lexicon` (about 2,900 lemmas with English glosses), through the
forms the engine can derive:

- the lemma itself (every part of speech it has: *como* is not here, see below);
- a noun's plural (the lexicon's ``plural`` column: *canciones* → *canción*);
- an adjective's, determiner's or pronoun's feminine and plural (*bonitas* → *bonito*, *mis* → *mi*,
  *nuestras* → *nuestro*): the lexicon's feminine for adjectives, ``-o`` → ``-a`` for the rest;
- a verb form of the conjugator's common verbs (``espaluz.spanish.verb_index.readings``: *comemos* →
  *comer*, present, 1st person plural), when the lexicon glosses the infinitive.

It writes no chat text (the tutor frames the answer in the learner's language). Why not an LLM: the
answer is exact, instant and free, and keyless stacks need it too.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache

from espaluz.spanish import lexicon
from espaluz.spanish.nouns import plural_of
from espaluz.spanish.orthography import strip_accents
from espaluz.spanish.verb_index import readings

_INFLECTING = ("adj", "det", "pron", "num")


@dataclass(frozen=True, slots=True)
class Meaning:
    """``word`` (lower case, with its accents even when asked without) is a form of ``lemma`` (``pos``)
    meaning ``glosses``.

    ``form``: "" for the lemma itself, "plural", "feminine", "feminine plural", or a verb tense key
    (``indicative.present``...) with ``person`` (``1s``...)."""

    word: str
    lemma: str
    pos: str
    glosses: tuple[str, ...]
    form: str = ""
    person: str = ""


# Forms no rule derives: the demonstratives (feminine, plural, feminine plural), and the neuter
# pronouns, which have none.
_DEMONSTRATIVES = {
    "este": ("esta", "estos", "estas"),
    "ese": ("esa", "esos", "esas"),
    "aquel": ("aquella", "aquellos", "aquellas"),
}
_NEUTER = frozenset({"esto", "eso", "aquello", "lo", "algo", "nada"})


def _derived(entry: lexicon.Entry) -> dict[str, str]:
    """An inflecting word's other forms -> their names (see the module docstring)."""
    if entry.lemma in _NEUTER or " " in entry.lemma:
        return {}
    if entry.lemma in _DEMONSTRATIVES:
        she, they, they_f = _DEMONSTRATIVES[entry.lemma]
        return {she: "feminine", they: "plural", they_f: "feminine plural"}
    feminine: str | None
    if entry.pos == "adj":
        feminine = None if entry.gender in ("", "=") else entry.gender
    else:
        feminine = entry.lemma[:-1] + "a" if entry.lemma.endswith("o") else None
    derived = {plural_of(entry.lemma): "plural"}
    if feminine:
        derived |= {feminine: "feminine", plural_of(feminine): "feminine plural"}
    return {form: name for form, name in derived.items() if form != entry.lemma}


@cache
def _forms() -> dict[str, list[tuple[lexicon.Entry, str]]]:
    """Every derivable form -> (entry, form name), the lemmas first."""
    index: defaultdict[str, list[tuple[lexicon.Entry, str]]] = defaultdict(list)
    for entry in lexicon.entries():
        index[entry.lemma].append((entry, ""))
    for entry in lexicon.entries():
        if entry.pos == "noun" and entry.plural not in ("", "=", "-"):
            index[entry.plural].append((entry, "plural"))
        if entry.pos in _INFLECTING:
            for form, name in _derived(entry).items():
                index[form].append((entry, name))
    return dict(index)


def meanings(word: str, limit: int = 3) -> list[Meaning]:
    """What ``word`` can be, the lexicon's own forms first, then verb forms; at most ``limit``, each lemma
    once per part of speech. A word known only with an accent it lacks is read with it (*pelicula*).
    Empty when the word is unknown."""
    low = word.strip().lower()
    if low not in _forms() and not readings(low):
        low = _unaccented().get(low, low)  # "pelicula": learners on a phone drop accents
    out: list[Meaning] = []
    seen: set[tuple[str, str]] = set()
    for entry, form in _forms().get(low, ()):
        if (entry.lemma, entry.pos) not in seen:
            seen.add((entry.lemma, entry.pos))
            out.append(Meaning(low, entry.lemma, entry.pos, entry.glosses, form))
    for reading in readings(low):
        verb = lexicon.lookup(reading.verb, "verb")
        if verb is None or (verb.lemma, "verb") in seen:
            continue
        seen.add((verb.lemma, "verb"))
        out.append(Meaning(low, verb.lemma, "verb", verb.glosses, reading.tense, reading.person))
    return out[:limit]


@cache
def _unaccented() -> dict[str, str]:
    """Forms written with an accent, by their spelling without it, where only one form has that spelling."""
    found: defaultdict[str, set[str]] = defaultdict(set)
    for form in _forms():
        bare = strip_accents(form)
        if bare != form:
            found[bare].add(form)
    return {bare: forms.pop() for bare, forms in found.items() if len(forms) == 1}


@cache
def _by_gloss() -> dict[str, list[lexicon.Entry]]:
    index: defaultdict[str, list[lexicon.Entry]] = defaultdict(list)
    for entry in lexicon.entries():
        for gloss in entry.glosses:
            index[_gloss_key(gloss)].append(entry)
    return dict(index)


def _gloss_key(gloss: str) -> str:
    """A gloss as it is looked up: lower case, without "to " and without a note in brackets ("you
    (informal singular)" is found as "you")."""
    return re.sub(r"\s*\([^)]*\)", "", gloss.lower()).removeprefix("to ").strip()


def spanish_for(english: str, limit: int = 3) -> list[lexicon.Entry]:
    """Lexicon entries glossed exactly ``english`` ("dog", "to eat", "eat"; a gloss's bracketed note
    aside): those whose usual meaning it is when there are any (*ser, estar* for "to be", not *medir*),
    lowest level first; at most ``limit``, each lemma once."""
    key = _gloss_key(english)
    found = list(dict.fromkeys(_by_gloss().get(key, ())))
    usual = [e for e in found if _gloss_key(e.glosses[0]) == key]
    ranked = sorted(usual or found, key=lambda e: lexicon.level_rank(e.level))
    out: list[lexicon.Entry] = []
    for entry in ranked:
        if all(entry.lemma != other.lemma for other in out):
            out.append(entry)
    return out[:limit]


__all__ = ["Meaning", "meanings", "spanish_for"]
