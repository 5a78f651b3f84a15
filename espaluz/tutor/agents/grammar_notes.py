"""Authored grammar notes: the most-asked topics, explained without any provider.

The notes live in ``espaluz/tutor/data/grammar_notes.json`` (written for Espaluz), one object per topic:
``id`` (the snake_case topic label the classifier and the explanation cache use), ``title``, ``aliases``
(how learners name the topic, in English and Spanish), ``short`` and ``more`` (Spanish and English),
``phrases`` (forms that name the topic only inside a grammar question: "me gusta", "hay"),
``examples`` (shown with the short note) and ``extra_examples`` (for "another example" and the longer
explanation). They are the grammar agent's engine answer and the tutor's answers without a key.

What a caller must know:

- :func:`find_topic` looks for a topic in free text (``"¿cuándo uso ser y estar?"``) or a topic label
  (``"ser_estar"``, ``"preterite"``); matching is on folded text, whole words only, longest alias first,
  so "por y para" wins over a stray "para".
- :func:`follow_up_of` recognises the texts the processor sends for the follow-up buttons
  ("Dame otro ejemplo, por favor: ..." / "Explícamelo mejor: ...") and returns the kind and the
  original question.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

from espaluz.text import fold, words

FollowUp = Literal["more_example", "explain"]
# The texts the processor sends for the follow-up buttons (espaluz.tutor.processor._ask_brain).
FOLLOW_UP_PREFIXES: dict[FollowUp, str] = {
    "more_example": "Dame otro ejemplo, por favor:",
    "explain": "Explícamelo mejor:",
}


@dataclass(frozen=True, slots=True)
class Note:
    """One topic. Texts are (Spanish, English) pairs; examples are Spanish."""

    id: str
    title: tuple[str, str]
    aliases: tuple[str, ...]
    phrases: tuple[str, ...]
    short: tuple[str, str]
    more: tuple[str, str]
    examples: tuple[str, ...]
    extra_examples: tuple[str, ...]

    def text(self, pair: tuple[str, str], language: str) -> str:
        return pair[0] if language == "es" else pair[1]


def _pair(raw: dict[str, str]) -> tuple[str, str]:
    return raw["es"], raw["en"]


@cache
def notes() -> dict[str, Note]:
    """Every note by id (loaded once per process)."""
    raw = json.loads(resources.files("espaluz.tutor").joinpath("data/grammar_notes.json").read_text("utf-8"))
    out: dict[str, Note] = {}
    for item in raw["topics"]:
        out[item["id"]] = Note(
            item["id"],
            _pair(item["title"]),
            tuple(item["aliases"]),
            tuple(item.get("phrases") or ()),
            _pair(item["short"]),
            _pair(item["more"]),
            tuple(item["examples"]),
            tuple(item["extra_examples"]),
        )
    return out


@cache
def _aliases(strong_only: bool) -> list[tuple[re.Pattern[str], str]]:
    """(alias pattern, topic id), longest alias first; the phrases too unless ``strong_only``."""
    pairs: list[tuple[str, str]] = []
    for note in notes().values():
        for alias in (note.id, *note.aliases, *(() if strong_only else note.phrases)):
            pairs.append((words(alias), note.id))
    pairs.sort(key=lambda pair: -len(pair[0]))
    return [(re.compile(rf"(?<!\w){re.escape(alias)}(?!\w)"), topic) for alias, topic in pairs if alias]


def find_topic(*texts: str, strong_only: bool = False) -> Note | None:
    """The first note that any of ``texts`` names (a topic label or a question), or None.
    ``strong_only``: only the topic's names ("ser y estar", "subjunctive"), not the example phrases
    ("me gusta", "hay"), which also occur in ordinary sentences: for telling a grammar question from
    conversation."""
    table = notes()
    for text in texts:
        if not text:
            continue
        if text in table:
            return table[text]
        folded = words(text)
        for pattern, topic in _aliases(strong_only):
            if pattern.search(folded):
                return table[topic]
    return None


def follow_up_of(text: str) -> tuple[FollowUp | None, str]:
    """(the follow-up button's kind, the original question) for a follow-up text; (None, text) else."""
    stripped = text.strip()
    for kind, prefix in FOLLOW_UP_PREFIXES.items():
        if fold(stripped).startswith(fold(prefix)):
            return kind, stripped[len(prefix) :].strip()
    return None, text


def topic_titles(language: str) -> list[str]:
    """The titles of every note, for the "which topics do you know" answer."""
    return [note.text(note.title, language) for note in notes().values()]
