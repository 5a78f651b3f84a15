"""Which turns use the free tier's daily allowance (teaching turns only), and when it is renewed.

A turn's route (``turns.route``, written by the tutor when the turn is answered) says what answered it.
Only teaching counts: a learner setting up (onboarding, the placement test), asking for a command
(ayuda, progreso, nivel, perfil, plan, memoria, exportar, borrar, baja/alta...), getting a notice or
reacting to a message never spends a free turn. The rule is an allow-list, so a new command or notice is
free until someone decides otherwise.

The day is the UTC day of the clock the tutor stamps ``turns.received_at`` with; the allowance is renewed
at the next UTC midnight.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# Route prefixes of the turns that count against the free tier.
TEACHING_ROUTES: tuple[str, ...] = (
    "engine.",  # an exercise asked (engine.ask), or an answer checked (engine.check), by the engine
    "exercise.hint",  # a hint for the open exercise
    "exercise.reveal",  # the open exercise's answer shown
    "memory.review",  # an earlier mistake brought back as an exercise
    "llm.",  # an answer written by the LLM agents (grammar, conversation, culture, exercises)
    "voice.feedback",  # a scored pronunciation attempt
)
# Routes under those prefixes that are not teaching: "Entendido" after an LLM answer (a thank-you).
NOT_TEACHING: frozenset[str] = frozenset({"llm.got_it"})
# Left out on purpose: "fallback" (the engine's "I didn't understand" when no LLM is configured: no
# answer, so no cost to the learner), "exercise.leave", "help", "greeting", "memory" (the memoria
# command), "command.*", "onboarding.*", "placement.*", "consent_*", "billing.*", "unsupported", the
# voice service's "voice.problem" / "voice.unavailable" / "voice.button", notices and reactions.

VOICE_PREFIX = "voice."  # a voice note's transcript answered as text: "voice.engine.check"
ADDED_SUFFIX = "+"  # what the gate adds to a route: "engine.check+offer", "llm.grammar+last_free"


def is_teaching(route: str | None) -> bool:
    """Does a turn answered by ``route`` count against the free tier?"""
    if not route:
        return False
    base = route.split(ADDED_SUFFIX, 1)[0]
    if base.startswith(VOICE_PREFIX) and not base.startswith("voice.feedback"):
        base = base.removeprefix(VOICE_PREFIX)
    return base not in NOT_TEACHING and base.startswith(TEACHING_ROUTES)


def day_start(now: datetime) -> datetime:
    """The UTC midnight that starts ``now``'s free-tier day."""
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def renewed_in(now: datetime) -> timedelta:
    """How long until the allowance is renewed (the next UTC midnight)."""
    return day_start(now) + timedelta(days=1) - now.astimezone(UTC)
