"""The built-in phrasebook: "how do I say ...?" answered from data, with no provider and no key.

The entries live in ``espaluz/curriculum/data/phrasebook.json`` (written for Espaluz; the curriculum
counts them). Each has the English phrase, the Spanish expression (general Latin American Spanish),
the variants where Spain or the River Plate say it differently, a register and extra keys (other
English wordings; every Spanish form is a key too). Usage::

    request = parse_request("How do I say 'I miss you' in Spanish?")   # PhraseRequest("say", "i miss you")
    entry = lookup(request.query) if request else None                 # the entry, or None
    text = format_entry(entry, request, language="en", dialect="spain")

What a caller must know:

- Matching is on folded text (case, accents, punctuation and quotes ignored; ``ñ`` kept) and tolerates a
  small typo (one edit in a short phrase, two in a long one); a phrase that is not close to a key is a
  miss (``None``), never a guess from a distant entry. :func:`suggest` gives near keys for a miss.
- :func:`parse_request` only recognises an explicit request ("how do I say X", "cómo se dice X",
  "qué significa X", "what does X mean", "translate X"); any other text gives ``None``.
- :func:`word_text` answers a one-word request the phrasebook lacks from the lexicon
  (``espaluz.spanish.meaning``): a Spanish word through its forms (*mis*, *comemos*, *pelicula*), or the
  Spanish for an English word; ``None`` when the lexicon does not know it either.
- The data loads once per process (over 500 entries, a few tens of milliseconds); a miss scans every
  key with a bounded edit distance (about a millisecond).
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Literal

from espaluz.spanish.conjugation import PERSON_PRONOUNS
from espaluz.spanish.lexicon import Entry as LexiconEntry
from espaluz.spanish.lexicon import lookup as lexicon_lookup
from espaluz.spanish.meaning import Meaning, meanings, spanish_for
from espaluz.spanish.nouns import starts_with_stressed_a
from espaluz.text import fold, words
from espaluz.tutor.exercise import TENSE_NAMES

Kind = Literal["say", "mean"]
Region = Literal["latam", "spain", "rioplatense"]
REGIONS: tuple[Region, ...] = ("latam", "spain", "rioplatense")
# The learner's dialect setting (the engine's three, or the country codes onboarding stores) -> region.
_REGION_OF: dict[str, Region] = {
    "spain": "spain",
    "es": "spain",
    "rioplatense": "rioplatense",
    "ar": "rioplatense",
}
_REGION_NAMES: dict[Region, tuple[str, str]] = {
    "latam": ("En Latinoamérica", "In Latin America"),
    "spain": ("En España", "In Spain"),
    "rioplatense": ("En Argentina y Uruguay", "In Argentina and Uruguay"),
}
_REGISTERS: dict[str, tuple[str, str]] = {
    "informal": ("Informal (con amigos y familia).", "Informal (friends and family)."),
    "formal": ("Formal (con desconocidos, mayores o en el trabajo).", "Formal (strangers, elders, work)."),
    "colloquial": ("Coloquial: muy de la calle.", "Colloquial: street Spanish."),
    "neutral": ("", ""),
}


@dataclass(frozen=True, slots=True)
class Entry:
    """One phrase: ``english`` is the gloss, ``spanish`` the general form, ``variants`` the regions that
    say it differently (region -> expression), ``note`` an optional (Spanish, English) usage note."""

    id: str
    english: str
    spanish: str
    variants: dict[str, str] = field(default_factory=dict)
    register: str = "neutral"
    note: tuple[str, str] = ("", "")
    keys: tuple[str, ...] = ()

    def for_region(self, region: Region) -> str:
        return self.variants.get(region, self.spanish)


@dataclass(frozen=True, slots=True)
class PhraseRequest:
    """What the learner asked: ``say`` (how do I say X in Spanish) or ``mean`` (what does X mean)."""

    kind: Kind
    query: str


@cache
def entries() -> tuple[Entry, ...]:
    raw = json.loads(
        resources.files("espaluz.curriculum").joinpath("data/phrasebook.json").read_text("utf-8")
    )
    out = []
    for item in raw["entries"]:
        note = item.get("note") or {}
        out.append(
            Entry(
                item["id"],
                item["en"],
                item["es"],
                dict(item.get("variants") or {}),
                item.get("register", "neutral"),
                (note.get("es", ""), note.get("en", "")),
                tuple(item.get("keys") or ()),
            )
        )
    return tuple(out)


@cache
def _index() -> dict[str, Entry]:
    """Every key (English phrase, extra keys, every Spanish form) -> its entry; the first entry wins."""
    index: dict[str, Entry] = {}
    for entry in entries():
        for key in (entry.english, *entry.keys, entry.spanish, *entry.variants.values()):
            for form in _key_forms(key):
                index.setdefault(form, entry)
    return index


def _key_forms(key: str) -> list[str]:
    """A key and its spelled-out alternatives: "te extraño / te echo de menos" gives both halves, and
    optional words in parentheses give the phrase with and without them."""
    forms = []
    for part in re.split(r"\s*/\s*", key):
        with_optional = re.sub(r"[()]", "", part)
        without = re.sub(r"\([^)]*\)", "", part)
        forms += [words(with_optional), words(without)]
    return [f for f in dict.fromkeys(forms) if f]


_FILLERS = re.compile(
    r"^(?:(?:the (?:word|phrase|expression|sentence)|la (?:palabra|frase|expresion)|el (?:verbo|dicho)|"
    r"something like|algo como|to say|decir)\s+)+"
)
_SUFFIXES = re.compile(
    r"\s+(?:in spanish|en espa[nñ]ol|en castellano|in castilian|en ingles|in english|correctly|properly|"
    r"en mexico|en espa[nñ]a|en argentina)$"
)
_POLITE = re.compile(r"(?:\s+(?:please|por favor|porfa|pls))+$")
_ARTICLE = re.compile(r"^(?:the|a|an|to)\s+")


def _clean_query(query: str) -> str:
    text = words(query)
    previous = None
    while previous != text:
        previous = text
        text = _SUFFIXES.sub("", _FILLERS.sub("", text)).strip()
    return text


# Request patterns, on folded text (accents and case removed, punctuation kept so quotes can be seen).
_SAY = [
    r"how (?:do|would|can|could|should|does) (?:i|you|we|one|u|someone|people) (?:say|express|tell)\b",
    r"how to (?:say|express)\b",
    r"how is\b(?P<q2>.+?)\bsaid\b",
    r"what(?:'s| is| do you call| would be)? (?:the )?(?:spanish|the word|a word) (?:for|of)\b",
    r"(?:translate|translation of|traduce|traducir|traduceme|traduzca)\b",
    r"como (?:se dice|se puede decir|puedo decir|digo|decir|se traduce|traduzco|se expresa)\b",
    r"(?:say|decir)\b(?=.+\b(?:in spanish|en espa[nñ]ol)\b)",
]
_MEAN = [
    r"what does\b(?P<q2>.+?)\bmean\b",
    r"what(?:'s| is) the meaning of\b",
    r"meaning of\b",
    r"que (?:significa|quiere decir|es lo que significa)\b",
    r"(?:el )?significado de\b",
]
_SAY_RE = [re.compile(p) for p in _SAY]
_MEAN_RE = [re.compile(p) for p in _MEAN]
_IN_SPANISH = re.compile(r"^(?P<q>.+?)\s+(?:in spanish|en espa[nñ]ol)$")


def parse_request(text: str) -> PhraseRequest | None:
    """The phrase the learner asks about, or None when the text is not a phrase request."""
    folded = fold(text.replace("’", "'").replace("‘", "'"))
    if not folded or len(folded) > 300:
        return None
    for kind, patterns in (("mean", _MEAN_RE), ("say", _SAY_RE)):
        for pattern in patterns:
            match = pattern.search(folded)
            if match is None:
                continue
            inner = match.groupdict().get("q2")
            query = inner if inner else folded[match.end() :]
            if kind == "say" and re.search(r"\s(?:in english|en ingles)\W*$", query):
                kind = "mean"
            cleaned = _clean_query(query)
            if cleaned:
                return PhraseRequest(kind, cleaned)  # type: ignore[arg-type]
    short = _IN_SPANISH.match(words(text))  # "I miss you in Spanish?"
    if short and len(short.group("q").split()) <= 8:
        return PhraseRequest("say", _clean_query(short.group("q")))
    return None


def _distance(a: str, b: str, limit: int) -> int:
    """Edit distance (insertions, deletions, substitutions and swaps of two neighbours: "gracais"),
    stopping early once it is over ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, before[j - 2] + 1)
            current.append(cost)
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return previous[-1]


def _allowed_typos(query: str) -> int:
    return 0 if len(query) < 5 else 1 if len(query) < 10 else 2


def _candidates(query: str) -> list[str]:
    """The query as asked, then without a trailing "please" and a leading article."""
    key = _clean_query(query)
    polite = _POLITE.sub("", key).strip()
    bare = _ARTICLE.sub("", polite).strip()
    return [k for k in dict.fromkeys((key, polite, bare)) if k]


def lookup(query: str) -> Entry | None:
    """The entry for a phrase (any key, English or Spanish), tolerating a small typo; None when no key
    is close enough."""
    candidates = _candidates(query)
    index = _index()
    for key in candidates:
        if key in index:
            return index[key]
    for key in candidates:
        limit = _allowed_typos(key)
        best: tuple[int, Entry] | None = None
        for candidate, entry in index.items():
            distance = _distance(key, candidate, limit)
            if distance <= limit and (best is None or distance < best[0]):
                best = (distance, entry)
        if best is not None:
            return best[1]
    return None


def suggest(query: str, n: int = 3) -> list[Entry]:
    """Entries whose keys are near ``query`` (for "did you mean ...?" after a miss)."""
    index = _index()
    close = difflib.get_close_matches(_clean_query(query), list(index), n=n * 3, cutoff=0.6)
    found: list[Entry] = []
    for key in close:
        if index[key] not in found:
            found.append(index[key])
    return found[:n]


def region_of(dialect: str) -> Region:
    return _REGION_OF.get(dialect, "latam")


def format_entry(entry: Entry, request: PhraseRequest | None, *, language: str, dialect: str) -> str:
    """The learner's answer: the expression for their region first, the other regions' forms where they
    differ, the register and note, all framed in the learner's explanation language (the expressions
    themselves are Spanish)."""
    es = language == "es"
    region = region_of(dialect)
    main = entry.for_region(region)
    if request is not None and request.kind == "mean":
        asked = _spanish_form(entry, request.query) or main
        head = (
            f"💬 *{asked}* significa _{entry.english}_." if es else f"💬 *{asked}* means _{entry.english}_."
        )
    else:
        head = (
            f"💬 _{entry.english}_ en español: *{main}*"
            if es
            else f"💬 _{entry.english}_ in Spanish: *{main}*"
        )
    lines = [head]
    shown = {main}
    for other in REGIONS:  # latam before rioplatense: a form the River Plate shares is listed once
        form = entry.for_region(other)
        if form not in shown:
            shown.add(form)
            name_es, name_en = _REGION_NAMES[other]
            lines.append(f"• {name_es if es else name_en}: *{form}*")
    register = _REGISTERS.get(entry.register, ("", ""))
    extra = " ".join(
        x for x in ((register[0] if es else register[1]), (entry.note[0] if es else entry.note[1])) if x
    )
    if extra:
        lines.append(extra)
    return "\n".join(lines)


def _spanish_form(entry: Entry, query: str) -> str | None:
    """The entry's Spanish form the learner asked about, as written in the phrasebook (with accents)."""
    key = _clean_query(query)
    for whole in (entry.spanish, *entry.variants.values()):
        for part in re.split(r"\s*/\s*", whole):
            if words(re.sub(r"\([^)]*\)", "", part)) == key:
                return part
    return None


_FORM_NAMES = {
    "plural": ("plural", "plural"),
    "feminine": ("femenino", "feminine"),
    "feminine plural": ("femenino plural", "feminine plural"),
}
_ONE_WORD = re.compile(r"^(?:to )?[a-zñáéíóúü]+$")


def word_text(request: PhraseRequest, *, language: str) -> str | None:
    """A one-word request the phrasebook lacks, answered from the lexicon (``espaluz.spanish.meaning``):
    what a Spanish word means, inflected forms included (*mis* is the plural of *mi*, *comemos* is
    *comer* in the present), or the Spanish for an English word (*dog*: *el perro*). ``None`` when the
    query is not one word or the lexicon does not know it."""
    query = request.query
    if not _ONE_WORD.match(query):
        return None
    es = language == "es"
    if request.kind == "mean":
        found = meanings(query)
        if not found:
            return None
        word = found[0].word  # as it is written: "pelicula" is shown as *película*
        if len(found) == 1:
            what, gloss = _described(found[0], es)
            return f"📖 *{word}*{f' ({what})' if what else ''}: _{gloss}_"
        lines = [f"📖 *{word}*:"]
        for meaning in found:
            what, gloss = _described(meaning, es)
            lines.append(f"• {what or f'*{meaning.lemma}*'}: _{gloss}_")
        return "\n".join(lines)
    entries = spanish_for(query)
    if not entries:
        return None
    forms = " / ".join(f"*{_dictionary_form(e)}*" for e in entries)
    english = query.removeprefix("to ")
    return f"💬 _{english}_ en español: {forms}" if es else f"💬 _{english}_ in Spanish: {forms}"


def _described(meaning: Meaning, es: bool) -> tuple[str, str]:
    """(what the form is, in Spanish for ``es`` or English; its English meaning): *comer*, presente,
    nosotros / plural de *mi* / *la casa* for a noun / nothing for another word as it is."""
    glosses: list[str] = []
    for gloss in meaning.glosses:  # "to be (identity, origin, time)" and "to be" are one meaning here
        if all(re.sub(r" \(.*", "", gloss) != re.sub(r" \(.*", "", g) for g in glosses):
            glosses.append(gloss)
    gloss = ", ".join(glosses[:2])
    if meaning.pos == "verb":
        tense = TENSE_NAMES.get(meaning.form, (meaning.form, meaning.form))[0 if es else 1]
        return f"*{meaning.lemma}*, {tense}, {PERSON_PRONOUNS.get(meaning.person, meaning.person)}", gloss
    if meaning.form:
        name = _FORM_NAMES.get(meaning.form, (meaning.form, meaning.form))
        return (f"{name[0]} de *{meaning.lemma}*" if es else f"{name[1]} of *{meaning.lemma}*"), gloss
    entry = lexicon_lookup(meaning.lemma, meaning.pos)
    return (f"*{_dictionary_form(entry)}*" if entry and entry.pos == "noun" else ""), gloss


def _dictionary_form(entry: LexiconEntry) -> str:
    """How a dictionary would give the word: a noun with its article (*el perro, la casa, el agua,
    el/la estudiante*), an adjective with its feminine (*cansado, cansada*), anything else as it is."""
    if entry.pos == "adj" and entry.gender not in ("", "="):
        return f"{entry.lemma}, {entry.gender}"
    if entry.pos != "noun":
        return entry.lemma
    if entry.gender == "mf":
        return f"el/la {entry.lemma}"
    if entry.gender == "f" and not starts_with_stressed_a(entry.lemma):
        return f"la {entry.lemma}"
    return f"el {entry.lemma}"


def miss_text(request: PhraseRequest, *, language: str) -> str:
    """What the learner reads when the phrase is not in the phrasebook: near entries, or how to ask."""
    es = language == "es"
    near = suggest(request.query)
    if near:
        options = ", ".join(f"_{e.english}_ (*{e.spanish}*)" for e in near)
        return (
            f"Todavía no tengo «{request.query}» en mi diccionario de frases. ¿Quizás buscabas: {options}?"
            if es
            else f"I don't have “{request.query}” in my phrasebook yet. Did you mean: {options}?"
        )
    return (
        f"Todavía no tengo «{request.query}» en mi diccionario de frases. Prueba con una frase más corta, "
        "por ejemplo: «¿cómo se dice thank you?»."
        if es
        else f"I don't have “{request.query}” in my phrasebook yet. Try a shorter phrase, for example: "
        "“how do I say thank you?”."
    )
