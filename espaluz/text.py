"""The one text normaliser: what the tutor compares a learner's words on.

``fold`` is how a typed word is matched against keywords, commands, exercise answers and phrasebook
entries: "¡Progréso!", "progreso" and "PROGRESO" are the same word. Accents are removed (learners on a
phone often omit them, and an accent slip is judged by the exercise checker, not here) but ``ñ`` is kept:
*año* and *ano* are different words. It imports nothing from the project, so every layer can use it.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_EDGES = " .!¡?¿,;:\"'*_()[]«»“”‘’…-"


def strip_marks(text: str) -> str:
    """Remove combining accents (acute, diaeresis...) but keep the tilde of ``ñ``."""
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(c for c in decomposed if unicodedata.category(c) != "Mn" or c == "\u0303")
    return unicodedata.normalize("NFC", kept)


def fold(text: str) -> str:
    """Lower-case, accents removed (``ñ`` kept), inner spaces collapsed, surrounding punctuation and
    WhatsApp markup removed."""
    text = strip_marks(unicodedata.normalize("NFC", text or "").strip().lower())
    return _SPACES.sub(" ", text).strip(_EDGES)


def words(text: str) -> str:
    """``fold``, then every punctuation mark, quote and underscore inside the text turned into a space:
    the form phrasebook keys and grammar-topic aliases are compared on ("¿Cómo se dice 'te_quiero'?"
    -> "como se dice te quiero")."""
    return " ".join(_NOT_WORD.sub(" ", fold(text)).split())


_NOT_WORD = re.compile(r"[^\w\sñ]|_")
