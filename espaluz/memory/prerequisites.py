"""A small prerequisite graph of skills: what a learner should master before a skill makes sense.

Skill ids follow the drills (``conjugation:MOOD.TENSE``). Retrieval uses the graph to bring up related
skills a learner has mastered ("you know the present; the subjunctive starts from its yo form").
"""

from __future__ import annotations

from functools import cache

PRESENT = "conjugation:indicative.present"
PRETERITE = "conjugation:indicative.preterite"
IMPERFECT = "conjugation:indicative.imperfect"
FUTURE = "conjugation:indicative.future"
CONDITIONAL = "conjugation:conditional.present"
PRESENT_PERFECT = "conjugation:indicative.present_perfect"
PLUPERFECT = "conjugation:indicative.pluperfect"
PRESENT_SUBJUNCTIVE = "conjugation:subjunctive.present"
IMPERFECT_SUBJUNCTIVE = "conjugation:subjunctive.imperfect"
IMPERATIVE = "conjugation:imperative.affirmative"
NEGATIVE_IMPERATIVE = "conjugation:imperative.negative"

# skill -> its direct prerequisites
PREREQUISITES: dict[str, tuple[str, ...]] = {
    PRESENT: (),
    PRETERITE: (PRESENT,),
    IMPERFECT: (PRETERITE,),
    FUTURE: (PRESENT,),
    CONDITIONAL: (FUTURE,),
    PRESENT_PERFECT: (PRESENT,),
    PLUPERFECT: (PRESENT_PERFECT, IMPERFECT),
    PRESENT_SUBJUNCTIVE: (PRESENT,),
    IMPERFECT_SUBJUNCTIVE: (PRESENT_SUBJUNCTIVE, PRETERITE),
    IMPERATIVE: (PRESENT,),
    NEGATIVE_IMPERATIVE: (PRESENT_SUBJUNCTIVE, IMPERATIVE),
}


@cache
def prerequisites(skill: str) -> frozenset[str]:
    """Every skill that ``skill`` builds on, directly or not (empty for unknown skills)."""
    found: set[str] = set()
    stack = list(PREREQUISITES.get(skill, ()))
    while stack:
        current = stack.pop()
        if current not in found:
            found.add(current)
            stack.extend(PREREQUISITES.get(current, ()))
    return frozenset(found)


@cache
def unlocks(skill: str) -> frozenset[str]:
    """The skills that list ``skill`` as a direct prerequisite."""
    return frozenset(s for s, pre in PREREQUISITES.items() if skill in pre)


def related(skill: str) -> frozenset[str]:
    """Prerequisites (all levels) and the skills it directly unlocks."""
    return prerequisites(skill) | unlocks(skill)


# Spanish names of the skills, for what the learner reads ("memoria").
SKILL_LABELS: dict[str, str] = {
    PRESENT: "presente",
    PRETERITE: "pretérito indefinido",
    IMPERFECT: "pretérito imperfecto",
    FUTURE: "futuro",
    CONDITIONAL: "condicional",
    PRESENT_PERFECT: "pretérito perfecto",
    PLUPERFECT: "pluscuamperfecto",
    PRESENT_SUBJUNCTIVE: "presente de subjuntivo",
    IMPERFECT_SUBJUNCTIVE: "imperfecto de subjuntivo",
    IMPERATIVE: "imperativo",
    NEGATIVE_IMPERATIVE: "imperativo negativo",
}


def skill_label(skill: str) -> str:
    return SKILL_LABELS.get(skill, skill.split(":", 1)[-1].replace("_", " ").replace(".", " "))
