"""Units and grammar points of the course, loaded from ``data/units.json`` and ``data/grammar.json``.

A grammar point has an explanation in Spanish and English, worked examples and practice sentences. A
sentence marks its one focus: ``{verb:tense:person}`` is a verb form the conjugator renders (the data never
store forms), ``[words]`` the words a non-verb point is about (with wrong ``choices`` for multiple choice).
:meth:`Item.render` gives the sentence and its focus.

A unit (``A1.1`` ... ``B2.8``, in teaching order) has can-do goals, themes and grammar points of its own
level. Its vocabulary is the lexicon's entries of its level whose theme it teaches; a theme taught by
several units of a level is dealt out among them in turn, and a word whose theme no unit of its level
names goes to the level's last unit (the review unit), so every word belongs to exactly one unit.

:func:`load` validates everything and raises :class:`SyllabusError` naming the faulty entry; the data
are read once per process.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from espaluz.spanish import lexicon
from espaluz.spanish.conjugation import conjugate_form

_FOCUS = re.compile(r"\{([^{}:]+):([a-z_.]+):(1s|2s|3s|1p|2p|3p)\}|\[([^\[\]]+)\]")


class SyllabusError(ValueError):
    """The course data are malformed (the message names the entry)."""


@dataclass(frozen=True, slots=True)
class Rendered:
    """A practice sentence as the learner sees it: ``text[start:end] == focus``."""

    text: str
    focus: str
    start: int
    end: int
    verb: str = ""
    tense: str = ""
    person: str = ""

    def blanked(self, blank: str = "……") -> str:
        return self.text[: self.start] + blank + self.text[self.end :]


@dataclass(frozen=True, slots=True)
class Item:
    es: str  # with its focus markup
    en: str
    alt: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()

    def render(self) -> Rendered:
        match = _FOCUS.search(self.es)
        if match is None:
            raise SyllabusError(f"no focus markup in {self.es!r}")
        verb, tense, person, words = match.groups()
        focus = conjugate_form(verb, tense, person) if verb else words
        before = self.es[: match.start()]
        text = before + focus + self.es[match.end() :]
        return Rendered(
            text, focus, len(before), len(before) + len(focus), verb or "", tense or "", person or ""
        )

    @property
    def is_verb(self) -> bool:
        match = _FOCUS.search(self.es)
        return bool(match and match.group(1))


@dataclass(frozen=True, slots=True)
class Point:
    id: str
    level: str
    title: dict[str, str]
    explanation: dict[str, str]
    examples: tuple[dict[str, str], ...]
    items: tuple[Item, ...]


@dataclass(frozen=True, slots=True)
class Unit:
    level: str
    unit: str
    title: dict[str, str]
    themes: tuple[str, ...]
    can_do: tuple[dict[str, str], ...]
    grammar: tuple[str, ...]


def _read(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        resources.files("espaluz.curriculum").joinpath(f"data/{name}").read_text("utf-8")
    )
    return data


def _bilingual(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not value.get("es") or not value.get("en"):
        raise SyllabusError(f"{where}: needs Spanish and English text")
    return {"es": str(value["es"]), "en": str(value["en"])}


def _point(raw: dict[str, Any]) -> Point:
    pid = str(raw.get("id", ""))
    where = f"grammar point {pid or '?'}"
    if not re.fullmatch(r"[a-z0-9_]+", pid) or raw.get("level") not in lexicon.LEVELS:
        raise SyllabusError(f"{where}: needs a snake_case id and a level A1–B2")
    items = []
    for k, it in enumerate(raw.get("sentences", [])):
        item = Item(str(it["es"]), str(it["en"]), tuple(it.get("alt", ())), tuple(it.get("choices", ())))
        if len(_FOCUS.findall(item.es)) != 1:
            raise SyllabusError(f"{where} sentence {k}: exactly one focus markup, got {item.es!r}")
        if not item.is_verb and not item.choices:
            raise SyllabusError(f"{where} sentence {k}: a [..] focus needs wrong choices")
        items.append(item)
    if len(items) < 5:
        raise SyllabusError(f"{where}: at least 5 practice sentences")
    examples = tuple(_bilingual(e, f"{where} example") for e in raw.get("examples", ()))
    if not examples:
        raise SyllabusError(f"{where}: needs worked examples")
    return Point(
        pid,
        str(raw["level"]),
        _bilingual(raw.get("title"), where),
        _bilingual(raw.get("explanation"), where),
        examples,
        tuple(items),
    )


@dataclass(frozen=True, slots=True)
class Syllabus:
    units: tuple[Unit, ...]
    points: dict[str, Point]
    vocabulary: dict[str, tuple[lexicon.Entry, ...]]  # by unit id

    def unit(self, unit_id: str) -> Unit:
        for u in self.units:
            if u.unit == unit_id:
                return u
        raise KeyError(unit_id)

    def of_level(self, level: str) -> tuple[Unit, ...]:
        return tuple(u for u in self.units if u.level == level)

    def unit_of_point(self, point_id: str) -> Unit:
        return next(u for u in self.units if point_id in u.grammar)


def _deal_vocabulary(units: tuple[Unit, ...]) -> dict[str, tuple[lexicon.Entry, ...]]:
    """Each lexicon entry to exactly one unit of its level (see the module docstring)."""
    out: dict[str, list[lexicon.Entry]] = {u.unit: [] for u in units}
    turn: dict[tuple[str, str], int] = {}
    for entry in lexicon.entries():
        owners = [u for u in units if u.level == entry.level and entry.theme in u.themes]
        if not owners:
            owners = [u for u in units if u.level == entry.level][-1:]
        if not owners:
            continue  # a level without units: the validator reports it
        k = turn.get((entry.level, entry.theme), 0)
        turn[(entry.level, entry.theme)] = k + 1
        out[owners[k % len(owners)].unit].append(entry)
    return {u: tuple(es) for u, es in out.items()}


@cache
def load() -> Syllabus:
    """The whole syllabus, validated; raises :class:`SyllabusError` on malformed data."""
    points: dict[str, Point] = {}
    for raw in _read("grammar.json")["points"]:
        point = _point(raw)
        if point.id in points:
            raise SyllabusError(f"grammar point {point.id}: defined twice")
        points[point.id] = point
    units: list[Unit] = []
    for raw in _read("units.json")["units"]:
        where = f"unit {raw.get('unit', '?')}"
        level = raw.get("level")
        if level not in lexicon.LEVELS or not str(raw.get("unit", "")).startswith(f"{level}."):
            raise SyllabusError(f"{where}: needs a level and an id like {level}.1")
        themes = tuple(raw.get("themes", ()))
        if not themes or any(t not in lexicon.THEMES for t in themes):
            raise SyllabusError(f"{where}: themes must be among {lexicon.THEMES}")
        grammar = tuple(raw.get("grammar", ()))
        for gid in grammar:
            if gid not in points:
                raise SyllabusError(f"{where}: unknown grammar point {gid}")
            if lexicon.level_rank(points[gid].level) > lexicon.level_rank(level):
                raise SyllabusError(f"{where}: grammar point {gid} is of a higher level")
        can_do = tuple(_bilingual(c, f"{where} can-do") for c in raw.get("can_do", ()))
        if not can_do or not grammar:
            raise SyllabusError(f"{where}: needs can-do goals and grammar points")
        units.append(
            Unit(level, str(raw["unit"]), _bilingual(raw.get("title"), where), themes, can_do, grammar)
        )
    taught = [g for u in units for g in u.grammar]
    missing = sorted(set(points) - set(taught))
    twice = sorted({g for g in taught if taught.count(g) > 1})
    if missing or twice:
        raise SyllabusError(f"grammar points in no unit: {missing}; in several units: {twice}")
    frozen = tuple(units)
    return Syllabus(frozen, points, _deal_vocabulary(frozen))


__all__ = ["Item", "Point", "Rendered", "Syllabus", "SyllabusError", "Unit", "load"]
