"""Matching what the learner typed, and writing replies in Spanish with an English line when asked.

Replies are Spanish first (the learner is here to read Spanish); learners whose explanation language is
English (``native_language == "en"``) get an English gloss in italics underneath.
"""

from __future__ import annotations

from espaluz.text import fold

__all__ = ["KEYLESS_NOTE", "LEAVE_COMMANDS", "LEVEL_NAMES", "both", "fold", "inline", "tr"]

# What a learner reads where an answer would need an AI provider this server has no key for: one plain
# sentence, no setting names (operators find those in the log and in ``espaluz dev``'s banner).
KEYLESS_NOTE = {
    "es": "La conversación libre todavía no está disponible aquí; los ejercicios, las correcciones y el "
    "diccionario de frases sí.",
    "en": "Free conversation isn't set up on this server yet; exercises, corrections and the phrasebook "
    "work.",
}

# The words that leave something open, as commands: an exercise, or the onboarding questions when no
# exercise is open (``tutor.exercise.LEAVE_WORDS`` holds more, only while an exercise waits: "no quiero"
# or "basta" may otherwise be a sentence of the conversation).
LEAVE_COMMANDS = frozenset({"salir", "exit", "quit", "leave"})

LEVEL_NAMES: dict[str, tuple[str, str]] = {
    "A1": ("Principiante", "Beginner"),
    "A2": ("Elemental", "Elementary"),
    "B1": ("Intermedio", "Intermediate"),
    "B2": ("Intermedio alto", "Upper intermediate"),
    "C1": ("Avanzado", "Advanced"),
}


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
