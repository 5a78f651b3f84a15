"""Intent classifier for messages the rules and the engine could not place (Groq, JSON output).

It runs on a small fast Groq model (the ``intent`` route of ``LLM_ROUTES``) with a short deadline;
without Groq, a keyword heuristic answers (:func:`engine_intent`), good enough to pick an agent: it knows
the grammar topics of the authored notes (:mod:`.grammar_notes`) and never routes a statement to the
culture guide because it names a country.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field, model_validator

from espaluz.llm.guard import as_data
from espaluz.text import fold
from espaluz.tutor.agents import grammar_notes
from espaluz.tutor.agents.base import MAX_INPUT_CHARS, AgentResult, Profile, ask_or_fallback
from espaluz.tutor.agents.topics import CULTURE_TOPICS, EXERCISE_TOPICS, GRAMMAR_TOPICS, checked, listed

if TYPE_CHECKING:
    from espaluz.llm.chain import LLM
    from espaluz.llm.types import Deadline

Intent = Literal["conversation", "grammar_question", "culture_question", "exercise_request", "other"]

SYSTEM = f"""
You are the intent classifier of Espaluz, a Spanish tutor on WhatsApp. Read the learner's message and
classify what the learner wants:
- "conversation": chatting, telling something, practising free conversation;
- "grammar_question": asking why or how something works in Spanish (tenses, ser/estar, por/para...);
- "culture_question": asking about countries, customs, food, slang, festivals of the Spanish-speaking world;
- "exercise_request": asking for an exercise, a drill, a quiz or practice;
- "other": anything else (including requests unrelated to learning Spanish).
"topic" must be exactly one id of the list for the intent, or "general" when none fits:
- grammar_question: {listed(GRAMMAR_TOPICS)};
- culture_question: {listed(CULTURE_TOPICS)};
- exercise_request: {listed(EXERCISE_TOPICS)};
- conversation and other: general.
Answer with one JSON object: {{"intent": ..., "topic": ..., "confidence": number between 0 and 1}}.
"""


class IntentOutput(BaseModel):
    """The classifier's answer. ``topic`` is always an id of the intent's closed set
    (:func:`.topics.checked`): whatever else a model (steered by the learner's text) writes there
    becomes ``"general"``, so it can neither reach a prompt nor key the shared explanation cache."""

    intent: Intent
    topic: str = "general"
    confidence: float = Field(0.5, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _closed_topic(self) -> IntentOutput:
        self.topic = checked(self.intent, self.topic)
        return self


# The heuristic works on folded text (espaluz.text.fold: lower case, no accents, ``ñ`` kept).
# A question: a question mark in the text, or a question word or request at the start.
_QUESTION = re.compile(
    r"^(?:que|como|cual|cuales|cuando|donde|por que|quien|what|how|why|when|where|which|who|is|are|"
    r"do|does|can|could|should|tell me|explain|explica\w*|cuentame|contame|hablame|dime|decime)\b"
)
# Words about the language itself: a question with one of them asks about grammar.
_GRAMMAR_META = re.compile(
    r"\b(?:grammar|gramatica\w*|tense|tiempo verbal|tiempos verbales|conjugat\w*|conjuga\w*|"
    r"difference between|diferencia entre|what is the difference|cual es la diferencia|"
    r"when (?:do|should|can) (?:i|you|we) use|when to use|cuando (?:se )?us[oa]\w*|"
    r"how (?:do|should|can) (?:i|you|we) use|how to use|como (?:se )?us[oa]\w*|como funciona\w*|"
    r"how does \w+ work|rules?|regla\w*|explain|explica\w*|"
    r"por que se (?:dice|usa|escribe)|why do (?:you|we|they|people) (?:say|use)|why is it)\b"
)
# "Is it el agua or la agua?", "¿Se dice X o Y?": which of two forms is right.
_WHICH_FORM = re.compile(r"^(?:is it|do (?:you|i|we) say|should i say|se dice|digo) .+ (?:or|o) \S")
_WHY_QUOTED = re.compile(r"\b(?:por que|why)\b.*[\"'«“‘*_]")
# Nationality adjectives (folded), for "Mexican food", "comida peruana".
_NATIONALITY = (
    r"(?:mexican\w*|spanish|espanol\w*|argentin\w*|colombian\w*|peruan\w*|chilen\w*|chilean|cuban\w*|"
    r"panamen\w*|panamanian|dominican\w*|puertorrique\w*|puerto rican|latin\w*|venezolan\w*|"
    r"uruguay\w*|ecuatorian\w*|ecuadorian|bolivian\w*|paraguay\w*|guatemal\w*|hondure\w*|honduran|"
    r"salvadore\w*|nicaragu\w*|costarricense\w*|costa rican|caribe\w*|caribbean|hispan\w*)"
)
# Culture: customs, food, festivals, slang... (a country name alone is not culture: "Vivo en España").
_CULTURE = re.compile(
    r"\b(?:cultur\w*|costumbre\w*|customs?|tradici\w*|tradition\w*|typical|tipic\w*|"
    rf"{_NATIONALITY} (?:food|dish\w*|cuisine|music|dance\w*|people|holiday\w*)|"
    rf"(?:comida|cocina|musica|gente|fiestas?) {_NATIONALITY}|"
    r"what do (?:people|they) eat|que se come|que comen|se come en|comen en|eat in|"
    r"festival\w*|fiestas (?:patrias|nacionales|populares)|holiday\w*|feriado\w*|"
    r"navidad|christmas|dia de muertos|day of the dead|semana santa|carnaval|carnival|quinceanera|"
    r"slang|jerga|modismo\w*|expresiones (?:tipicas|coloquiales|locales)|local expressions|"
    r"saludan|greet people|propinas?|tipping|siesta|mate|tapas|"
    r"what (?:is|are) (?:life|people|the people) .*like|como (?:es|son) (?:la gente|la vida|los \w+)|"
    r"people in|la gente (?:de|en))\b"
)
_EXERCISE = re.compile(
    r"\b(?:ejercicio\w*|exercise\w*|practicar|practica(?:mos)?|practice|quiz|drill\w*|test me|"
    r"ponme a prueba|preguntame)\b"
)


def engine_intent(text: str) -> IntentOutput:
    """The keyword heuristic used without Groq (or when it fails). Conservative: a statement is
    conversation (the engine corrects it and the tutor asks something back); grammar and culture need a
    question that is about grammar or about culture, never just a country or a verb in the sentence."""
    folded = fold(text)
    question = "?" in text or bool(_QUESTION.search(folded))
    if _EXERCISE.search(folded):
        return IntentOutput(intent="exercise_request", topic="general", confidence=0.6)
    note = grammar_notes.find_topic(folded, strong_only=True)
    meta = _GRAMMAR_META.search(folded) or _WHY_QUOTED.search(text.lower())
    if question and note is not None:
        return IntentOutput(intent="grammar_question", topic=note.id, confidence=0.6)
    if _WHICH_FORM.search(folded) and (weak := grammar_notes.find_topic(folded)) is not None:
        return IntentOutput(intent="grammar_question", topic=weak.id, confidence=0.5)
    if question and _CULTURE.search(folded):
        return IntentOutput(intent="culture_question", topic="general", confidence=0.5)
    if question and meta:
        topic = getattr(grammar_notes.find_topic(folded), "id", "general")
        return IntentOutput(intent="grammar_question", topic=topic, confidence=0.5)
    return IntentOutput(intent="conversation", topic="general", confidence=0.4)


def classify(llm: LLM, profile: Profile, text: str, deadline: Deadline) -> AgentResult[IntentOutput]:
    """The learner's intent; Groq when configured, else (or on failure) the heuristic."""
    return ask_or_fallback(
        llm,
        agent="intent",
        system=SYSTEM,
        profile=profile,
        user=f"Classify this message.\n{as_data(text[:MAX_INPUT_CHARS])}",
        model=IntentOutput,
        order=("groq",),
        deadline=deadline,
        engine=lambda: engine_intent(text),
        shown=(),
        max_tokens=60,
    )
