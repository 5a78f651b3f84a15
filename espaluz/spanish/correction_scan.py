"""The token scanner and the correction record shared by the quick-correction rules.

:mod:`espaluz.spanish.corrections` (agreement, accents, ser/estar...) and
:mod:`espaluz.spanish.mood_rules` (subjunctive, *si* + conditional) both walk a :class:`Scan` of the
text and yield :class:`Correction` records; this module holds what they share so neither imports
the other. Offsets are character offsets into the scanned text (``text[start:end] == original``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


def words(text: str) -> list[str]:
    """Split a whitespace-separated word list."""
    return text.split()


WORD_RE = re.compile(r"[0-9A-Za-zÁÉÍÓÚÜÑáéíóúüñ]+")
SENTENCE_MARKS = ".!?¿¡"

# Subject pronouns and the person keys (see conjugation.PERSONS) they take.
SUBJECTS: dict[str, tuple[str, ...]] = {
    "yo": ("1s",),
    "tú": ("2s",),
    "vos": ("vos", "2s"),
    "él": ("3s",),
    "ella": ("3s",),
    "usted": ("3s",),
    "nosotros": ("1p",),
    "nosotras": ("1p",),
    "vosotros": ("2p",),
    "vosotras": ("2p",),
    "ellos": ("3p",),
    "ellas": ("3p",),
    "ustedes": ("3p",),
}
CLITICS = frozenset(words("me te se lo la le nos os los las les"))
# Words the verb index knows as verb forms that learners nearly always use as something else.
NON_VERB_READINGS = frozenset(words("como sobre entre para bajo nada cerca casa era vino fue sea"))


@dataclass(frozen=True)
class Correction:
    """One suggested fix: replace ``text[start:end]`` (``original``) by ``suggestion``.

    ``explanation`` is the one-line reason in English, ``explanation_es`` the same in Spanish; use
    :meth:`why` with the learner's explanation language.
    """

    start: int
    end: int
    original: str
    suggestion: str
    rule: str
    explanation: str
    explanation_es: str = ""

    @property
    def why_en(self) -> str:
        return self.explanation

    @property
    def why_es(self) -> str:
        return self.explanation_es or self.explanation

    def why(self, language: str) -> str:
        """The reason in ``language`` ("es" → Spanish, anything else → English)."""
        return self.why_es if language == "es" else self.why_en

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "original": self.original,
            "suggestion": self.suggestion,
            "rule": self.rule,
            "explanation": self.explanation,
            "explanation_es": self.why_es,
        }


@dataclass(frozen=True)
class Token:
    text: str
    low: str
    start: int
    end: int


class Scan:
    """The words of a text with their offsets, and the questions the rules ask about them."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = [Token(m.group(), m.group().lower(), m.start(), m.end()) for m in WORD_RE.finditer(text)]
        self.n = len(self.toks)

    def low(self, i: int) -> str:
        return self.toks[i].low if 0 <= i < self.n else ""

    def gap(self, i: int) -> str:
        """Text between token i-1 and token i (gap(0): before the first; gap(n): after the last)."""
        start = self.toks[i - 1].end if i > 0 else 0
        end = self.toks[i].start if i < self.n else len(self.text)
        return self.text[start:end]

    def joined(self, i: int) -> bool:
        """Token i and i+1 exist and are separated only by spaces."""
        return i + 1 < self.n and self.gap(i + 1).strip() == ""

    def end_after(self, i: int) -> bool:
        """Token i ends a clause: end of text or punctuation follows."""
        return i == self.n - 1 or self.gap(i + 1).strip() != ""

    def starts_clause(self, i: int) -> bool:
        return i == 0 or self.gap(i).strip() != ""

    def in_question(self, i: int) -> bool:
        """An opening ¿ precedes token i within its sentence."""
        before = self.text[: self.toks[i].start]
        cut = max(before.rfind("."), before.rfind("?"), before.rfind("!"))
        return "¿" in before[cut + 1 :]

    def fix(self, i: int, j: int, suggestion: str, rule: str, why: str, why_es: str) -> Correction:
        """A correction replacing tokens i..j (inclusive), with its reason in English and Spanish."""
        start, end = self.toks[i].start, self.toks[j].end
        original = self.text[start:end]
        sentence_start = i == 0 or any(ch in self.gap(i) for ch in SENTENCE_MARKS)
        if original[:1].isupper() and sentence_start:
            suggestion = suggestion[:1].upper() + suggestion[1:]
        return Correction(start, end, original, suggestion, rule, why, why_es)
