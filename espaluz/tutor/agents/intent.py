"""Intent classifier for messages the rules and the engine could not place (Groq, JSON output).

It runs on the fast Groq model (``GROQ_INTENT_MODEL``) with a short deadline; without Groq, a keyword
heuristic answers (:func:`engine_intent`), good enough to pick an agent.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from espaluz.llm.guard import as_data
from espaluz.tutor.agents.base import AgentResult, Profile, ask_or_fallback

if TYPE_CHECKING:
    from espaluz.llm.chain import LLM
    from espaluz.llm.types import Deadline

Intent = Literal["conversation", "grammar_question", "culture_question", "exercise_request", "other"]

SYSTEM = """
You are the intent classifier of Espaluz, a Spanish tutor on WhatsApp. Read the learner's message and
classify what the learner wants:
- "conversation": chatting, telling something, practising free conversation;
- "grammar_question": asking why or how something works in Spanish (tenses, ser/estar, por/para...);
- "culture_question": asking about countries, customs, food, slang, festivals of the Spanish-speaking world;
- "exercise_request": asking for an exercise, a drill, a quiz or practice;
- "other": anything else (including requests unrelated to learning Spanish).
"topic" is a short snake_case label of the subject in English (for example "ser_estar", "preterite",
"mexican_food", "greetings"); "general" when there is none.
Answer with one JSON object: {"intent": ..., "topic": ..., "confidence": number between 0 and 1}.
"""


class IntentOutput(BaseModel):
    intent: Intent
    topic: str = Field("general", max_length=60, pattern=r"^[A-Za-z0-9_\- ]*$")
    confidence: float = Field(0.5, ge=0.0, le=1.0)


_GRAMMAR = re.compile(
    r"\b(por qu[eé]|why|c[oó]mo se (usa|dice|conjuga)|how do (i|you) (use|say)|difference|diferencia|"
    r"grammar|gram[aá]tica|subjuntivo|subjunctive|preterite|pret[eé]rito|imperfect|ser|estar|por|para|"
    r"conjuga\w*|tense|tiempo verbal)\b",
    re.IGNORECASE,
)
_CULTURE = re.compile(
    r"\b(cultur\w*|costumbre\w*|custom\w*|comida|food|fiesta\w*|festival\w*|slang|jerga|modismo\w*|"
    r"pa[ií]s|country|m[eé]xico|colombia|argentin\w*|espa[nñ]a|spain|panam[aá]|cuba|caribe|caribbean|"
    r"tradici[oó]n\w*|tradition\w*)\b",
    re.IGNORECASE,
)
_EXERCISE = re.compile(
    r"\b(ejercicio\w*|exercise\w*|practica\w*|practice|quiz|drill\w*|prueba|test me)\b", re.IGNORECASE
)


def engine_intent(text: str) -> IntentOutput:
    """The keyword heuristic used without Groq (or when it fails)."""
    if _EXERCISE.search(text):
        return IntentOutput(intent="exercise_request", topic="general", confidence=0.6)
    if _CULTURE.search(text):
        return IntentOutput(intent="culture_question", topic="general", confidence=0.5)
    if (_GRAMMAR.search(text) and "?" in text) or re.search(r"\b(por qu[eé]|why)\b", text, re.IGNORECASE):
        return IntentOutput(intent="grammar_question", topic="general", confidence=0.5)
    return IntentOutput(intent="conversation", topic="general", confidence=0.4)


def classify(
    llm: LLM, profile: Profile, text: str, deadline: Deadline, model: str = ""
) -> AgentResult[IntentOutput]:
    """The learner's intent; Groq when configured, else (or on failure) the heuristic."""
    return ask_or_fallback(
        llm,
        agent="intent",
        system=SYSTEM,
        profile=profile,
        user=f"Classify this message.\n{as_data(text)}",
        model=IntentOutput,
        order=("groq",),
        deadline=deadline,
        engine=lambda: engine_intent(text),
        shown=(),
        max_tokens=60,
        models={"groq": model} if model else None,
    )
