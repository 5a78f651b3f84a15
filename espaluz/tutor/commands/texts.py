"""Matching what the learner typed, and writing replies in Spanish with an English line when asked.

Replies are Spanish first (the learner is here to read Spanish); learners whose explanation language is
English (``native_language == "en"``) get an English gloss in italics underneath.
"""

from __future__ import annotations

import re
import unicodedata

LEVEL_NAMES: dict[str, tuple[str, str]] = {
    "A1": ("Principiante", "Beginner"),
    "A2": ("Elemental", "Elementary"),
    "B1": ("Intermedio", "Intermediate"),
    "B2": ("Intermedio alto", "Upper intermediate"),
    "C1": ("Avanzado", "Advanced"),
}


def fold(text: str) -> str:
    """Lower-case, accents removed (ñ kept), inner spaces collapsed, surrounding punctuation removed:
    what a typed command is compared on ("Progréso!" and "progreso" match)."""
    text = unicodedata.normalize("NFC", text or "").strip().lower()
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(c for c in decomposed if unicodedata.category(c) != "Mn" or c == "\u0303")
    text = unicodedata.normalize("NFC", kept)
    text = re.sub(r"\s+", " ", text)
    return text.strip(" .!¡?¿,;:\"'*_")


def tr(language: str, es: str, en: str) -> str:
    """Spanish, with the English gloss underneath when the learner's explanation language is English."""
    if language == "en" and en:
        return f"{es}\n\n_{en}_"
    return es


def both(es: str, en: str) -> str:
    """Spanish and English, for messages sent before the learner has chosen a language."""
    return f"{es}\n\n_{en}_"


def inline(language: str, es: str, en: str) -> str:
    """Spanish with a short English gloss on the same line, for list items."""
    if language == "en" and en:
        return f"{es} _({en})_"
    return es
