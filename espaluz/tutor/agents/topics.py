"""The closed sets of topic ids a model may name: what reaches a prompt or a cache key is one of these.

The intent classifier's ``topic`` is model output that the learner's text can steer. It is therefore
never used as it comes: :func:`checked` maps it to an id of a closed set, and anything else becomes
``"general"``. The ids are ours (the authored grammar notes, the culture guide's table, the drill bank's
skills), so a prompt that names one outside the data delimiters, or a shared cache entry keyed by one,
carries nothing a learner wrote.

What a caller must know:

- ``GRAMMAR_TOPICS``: the ids of ``espaluz/tutor/data/grammar_notes.json`` plus ``general``.
- ``CULTURE_TOPICS``: the regions of the culture guide's table and a few subjects, plus ``general``.
- ``EXERCISE_TOPICS``: the drill bank's skills and the grammar ids, plus ``general``.
- ``general`` is in every set but is never a cache key (its answer depends on the question).
"""

from __future__ import annotations

from types import MappingProxyType

from espaluz.spanish.drills import SKILLS
from espaluz.tutor.agents import grammar_notes

GENERAL = "general"

# Regions the culture guide's table knows (espaluz.tutor.agents.culture.COUNTRIES), by topic id.
CULTURE_REGIONS: MappingProxyType[str, str] = MappingProxyType(
    {
        "mexico": "mx",
        "colombia": "co",
        "argentina": "ar",
        "spain": "es",
        "panama": "pa",
        "caribbean": "caribe",
        "peru": "pe",
        "chile": "cl",
    }
)
# Subjects a culture note can be about (in the learner's target country).
CULTURE_SUBJECTS: tuple[str, ...] = (
    "food",
    "festivals",
    "holidays",
    "slang",
    "customs",
    "greetings",
    "forms_of_address",
    "music",
    "daily_life",
    "tipping",
)

GRAMMAR_TOPICS: frozenset[str] = frozenset((*grammar_notes.notes(), GENERAL))
CULTURE_TOPICS: frozenset[str] = frozenset((*CULTURE_REGIONS, *CULTURE_SUBJECTS, GENERAL))
EXERCISE_TOPICS: frozenset[str] = frozenset((*SKILLS, *GRAMMAR_TOPICS))

# The sets the explanation cache accepts as keys, by kind (``general`` is refused there anyway).
CACHEABLE: MappingProxyType[str, frozenset[str]] = MappingProxyType(
    {"grammar": GRAMMAR_TOPICS - {GENERAL}, "culture": CULTURE_TOPICS - {GENERAL}}
)

_BY_INTENT: dict[str, frozenset[str]] = {
    "grammar_question": GRAMMAR_TOPICS,
    "culture_question": CULTURE_TOPICS,
    "exercise_request": EXERCISE_TOPICS,
}


def checked(intent: str, topic: object) -> str:
    """``topic`` when it is an id of the closed set of ``intent`` (after trimming and lower-casing, so
    "Ser_Estar " is ``ser_estar``), else ``"general"``. Conversation and anything else: ``"general"``."""
    allowed = _BY_INTENT.get(intent)
    if allowed is None or not isinstance(topic, str):
        return GENERAL
    label = topic.strip().lower()
    return label if label in allowed else GENERAL


def listed(ids: frozenset[str]) -> str:
    """The ids of a set, sorted and comma-separated, ``general`` last (for a system prompt)."""
    return ", ".join([*sorted(ids - {GENERAL}), GENERAL])
