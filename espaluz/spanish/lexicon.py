"""The one lexicon: every word the engine and the curriculum know, with its level and theme.

The data are tab-separated files in ``espaluz/spanish/data/lexicon/`` (one per CEFR level, written for
espaluz from the authors' knowledge), with a header line and ``#`` comments. Columns:

``lemma  pos  gender  plural  gloss  theme  variants  note``

- ``pos``: one of :data:`POS`.
- ``gender``: for a noun ``m``, ``f`` or ``mf`` (one form for both, *el/la estudiante*, or a gender that
  changes the meaning, *el/la capital*: never corrected); for an adjective its feminine singular
  (*nueva*, *española*), or ``=`` when it does not change (*grande*, *azul*); empty otherwise.
- ``plural``: for a noun its plural (*canciones*), ``=`` when invariant (*el lunes / los lunes*), ``-``
  when it is not used in the plural (*la salud*); empty otherwise.
- ``gloss``: English meanings, the usual one first, separated by ``|`` (*car|automobile*).
- ``theme``: one of :data:`THEMES`; the curriculum's units pick their vocabulary by level and theme.
- ``variants``: other Spanish words accepted for the same meaning, ``|``-separated (*carro|auto* for
  *coche*); each variant is usually an entry too.
- ``note``: a short note shown to learners, in Spanish (dialect: ``España: coche; América: carro``).

Verbs are lemmas only: their forms come from the conjugator, never from this file. The engine reads
nouns and adjectives from here (:mod:`espaluz.spanish.nouns`); the curriculum reads everything.
Why a TSV and not JSON: 1,600 one-line rows stay reviewable in a diff and load in a few milliseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

LEVELS = ("A1", "A2", "B1", "B2")
POS = frozenset({"noun", "verb", "adj", "adv", "prep", "conj", "pron", "det", "num", "interj", "expr"})
THEMES = (
    "basics",
    "people",
    "family",
    "body_health",
    "home",
    "food",
    "city",
    "transport_travel",
    "time_routine",
    "shopping_money",
    "clothes",
    "work_study",
    "leisure_sport",
    "nature_weather",
    "feelings_character",
    "technology_media",
    "society_politics",
    "culture_arts",
    "environment_science",
)
_COLUMNS = ("lemma", "pos", "gender", "plural", "gloss", "theme", "variants", "note")


class LexiconError(ValueError):
    """A row of the lexicon data is malformed (the message names the file and line)."""


@dataclass(frozen=True, slots=True)
class Entry:
    lemma: str
    pos: str
    gender: str
    plural: str
    glosses: tuple[str, ...]
    level: str
    theme: str
    variants: tuple[str, ...]
    note: str

    @property
    def gloss(self) -> str:
        """The usual English meaning."""
        return self.glosses[0]


def _split(cell: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in cell.split("|") if p.strip())


def _parse(level: str, text: str) -> list[Entry]:
    rows: list[Entry] = []
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    lines = [(n, line) for n, line in lines if not line.lstrip().startswith("#")]
    if not lines or tuple(lines[0][1].rstrip("\n").split("\t")) != _COLUMNS:
        raise LexiconError(f"{level}.tsv: the first line must be the tab-separated header {_COLUMNS}")
    for n, cells in ((n, line.split("\t")) for n, line in lines[1:]):
        where = f"{level}.tsv line {n}"
        if len(cells) != len(_COLUMNS):
            raise LexiconError(f"{where}: {len(cells)} columns, expected {len(_COLUMNS)}")
        lemma, pos, gender, plural, gloss, theme, variants, note = (c.strip() for c in cells)
        if not lemma or (lemma != lemma.lower() and pos not in ("expr", "interj")):
            raise LexiconError(f"{where}: the lemma must be lower case")
        if pos not in POS:
            raise LexiconError(f"{where}: unknown part of speech {pos!r}")
        if theme not in THEMES:
            raise LexiconError(f"{where}: unknown theme {theme!r}")
        if not _split(gloss):
            raise LexiconError(f"{where}: no English gloss")
        if pos == "noun" and (gender not in ("m", "f", "mf") or not plural):
            raise LexiconError(f"{where}: a noun needs gender m, f or mf and a plural (or = or -)")
        if pos == "adj" and not gender:
            raise LexiconError(f"{where}: an adjective needs its feminine form (or =)")
        if pos == "verb" and not re.fullmatch(r"[a-zñáéíóúü]*(?:ar|er|ir|ír)(?:se)?", lemma):
            raise LexiconError(f"{where}: a verb is one infinitive (a phrase like 'tener miedo' is an expr)")
        if pos not in ("noun", "adj") and (gender or plural):
            raise LexiconError(f"{where}: gender and plural are for nouns and adjectives only")
        rows.append(Entry(lemma, pos, gender, plural, _split(gloss), level, theme, _split(variants), note))
    return rows


@cache
def entries() -> tuple[Entry, ...]:
    """Every entry, level by level (A1 first). Raises :class:`LexiconError` on malformed data."""
    folder = resources.files("espaluz.spanish") / "data" / "lexicon"
    out: list[Entry] = []
    for level in LEVELS:
        path = folder / f"{level}.tsv"
        if path.is_file():
            out.extend(_parse(level, path.read_text(encoding="utf-8")))
    return tuple(out)


@cache
def _index() -> dict[tuple[str, str], Entry]:
    index: dict[tuple[str, str], Entry] = {}
    for e in entries():
        index.setdefault((e.lemma, e.pos), e)  # the lowest level wins: that is where a word is taught
    return index


def lookup(lemma: str, pos: str) -> Entry | None:
    """The entry of ``lemma`` as ``pos`` (lower case), at the lowest level it appears."""
    return _index().get((lemma, pos))


def of_pos(pos: str) -> tuple[Entry, ...]:
    """Every entry of one part of speech, first occurrence of each lemma only."""
    return tuple(e for (_, p), e in _index().items() if p == pos)


def level_rank(level: str) -> int:
    """0 for A1 ... 3 for B2 (C1 and anything above count as B2)."""
    return LEVELS.index(level) if level in LEVELS else len(LEVELS) - 1


__all__ = ["LEVELS", "POS", "THEMES", "Entry", "LexiconError", "entries", "level_rank", "lookup", "of_pos"]
