"""Opt-out keywords on the WhatsApp channel (STOP, BAJA...) and the confirmations the tutor sends.

A whole message that is one of these keywords (any case, accents and punctuation ignored) changes the
learner's consent; the same words inside a sentence ("no puedo parar de estudiar") do not.
"""

from __future__ import annotations

from enum import StrEnum

from espaluz.text import fold
from espaluz.whatsapp.outgoing import Button, Reply

STOP_WORDS = frozenset({"stop", "baja", "darme de baja", "parar", "unsubscribe", "cancelar mensajes"})
START_WORDS = frozenset({"alta", "start", "unstop", "reanudar", "volver"})


class ConsentChange(StrEnum):
    STOP = "stop"
    START = "start"


def consent_change(text: str) -> ConsentChange | None:
    """The consent change a learner's whole message asks for, if it is a keyword."""
    words = fold(text)
    if words in STOP_WORDS:
        return ConsentChange.STOP
    if words in START_WORDS:
        return ConsentChange.START
    return None


def confirmation(change: ConsentChange) -> Reply:
    if change is ConsentChange.STOP:
        return Reply(
            "Listo: no te enviaré recordatorios, repasos ni ofertas. Si me escribes, te respondo como "
            "siempre.\n\n_Done: no reminders, reviews or offers. Write ALTA to turn them back on._",
            buttons=(Button("consent:start", "Volver a activarlos"),),
        )
    return Reply(
        "¡Bienvenido de vuelta! Volveré a enviarte tus repasos y recordatorios.\n\n"
        "_Reminders and reviews are back on. Write BAJA to stop them._"
    )
