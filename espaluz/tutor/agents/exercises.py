"""Exercise generator: the Spanish engine first (exact, instant, checkable), Groq for open exercises.

:func:`next_drill` is pure engine (``espaluz.spanish.drills.make_drill``): a fill-in item whose answers
the engine checks. :func:`open_exercise` asks Groq for a free-production task (write, describe, reply);
without Groq it falls back to an engine drill, so the learner always gets something to do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from espaluz.llm.guard import as_data
from espaluz.spanish.drills import LEVELS, SKILLS, Drill, make_drill
from espaluz.tutor.agents.base import MAX_INPUT_CHARS, AgentResult, Profile, ask_or_fallback
from espaluz.tutor.agents.topics import checked

if TYPE_CHECKING:
    import random

    from espaluz.llm.chain import LLM
    from espaluz.llm.types import Deadline

# Skills a beginner meets first; the generator cycles through the ones at or below the learner's level.
DEFAULT_SKILLS = ("present_regular", "ser_estar", "present_irregular_yo", "gender_agreement", "por_para")

SYSTEM = """
You are the exercise writer of Espaluz, a Spanish tutor on WhatsApp. Write one short open exercise
(free production: write two sentences, describe a picture in words, answer a question, rewrite a sentence)
for the learner's CEFR level and target dialect, on the requested skill. The instructions are in Spanish
(simple at A1-A2); include one model answer in Spanish.
Answer with one JSON object: {"skill": snake_case label, "instructions": Spanish text,
"example_answer": Spanish text}.
"""


class Exercise(BaseModel):
    kind: Literal["drill", "open"] = "open"
    skill: str = Field("general", max_length=60)
    instructions: str = Field(min_length=1, max_length=600)
    example_answer: str | None = Field(None, max_length=400)
    drill_id: str | None = None  # an engine drill: the orchestrator stores it and checks the answer


def next_drill(profile: Profile, rng: random.Random, skill: str | None = None) -> Drill:
    """An engine drill for ``skill`` (or a beginner skill picked at random) at the learner's level."""
    level = profile.level if profile.level in LEVELS else "A1"
    chosen = skill if skill in SKILLS else rng.choice(DEFAULT_SKILLS)
    return make_drill(chosen, level, rng)


def drill_exercise(drill: Drill) -> Exercise:
    options = f" ({' / '.join(drill.options)})" if drill.options else ""
    return Exercise(
        kind="drill", skill=drill.skill, instructions=f"{drill.prompt}{options}", drill_id=drill.id
    )


def open_exercise(
    llm: LLM, profile: Profile, skill: str, request: str, deadline: Deadline, rng: random.Random
) -> AgentResult[Exercise]:
    """An open exercise from Groq; an engine drill when Groq is missing or fails. ``skill`` is named
    outside the data delimiters, so anything but an id of :data:`.topics.EXERCISE_TOPICS` is ``general``."""
    skill = checked("exercise_request", skill)
    result = ask_or_fallback(
        llm,
        agent="exercise",
        system=SYSTEM,
        profile=profile,
        user=f"Skill: {skill}. The learner's request:\n{as_data(request[:MAX_INPUT_CHARS])}",
        model=Exercise,
        order=("groq",),
        deadline=deadline,
        engine=lambda: drill_exercise(next_drill(profile, rng, skill)),
        shown=("instructions", "example_answer"),
        spanish=("instructions", "example_answer"),
        max_tokens=250,
        route="exercises",
    )
    if result.source != "engine":  # a model cannot hand out engine drills
        result.output = result.output.model_copy(update={"kind": "open", "drill_id": None})
    return result
