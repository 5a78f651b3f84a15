"""Grammar expert (Groq, JSON): explains a grammar point, or corrects the learner's sentence.

Explanations of a topic are generic for a level, dialect and explanation language, so they are cached
(:class:`espaluz.llm.cache.ExplanationCache`). A correction of the learner's own sentence is not. The
engine fallback uses the Spanish engine's corrections (``espaluz.spanish.corrections.check``) and a short
table of notes written for the commonest topics.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from espaluz.llm.guard import as_data
from espaluz.spanish.corrections import check as engine_check
from espaluz.tutor.agents.base import AgentResult, Profile, ask_or_fallback

if TYPE_CHECKING:
    from espaluz.llm.cache import ExplanationCache
    from espaluz.llm.chain import LLM
    from espaluz.llm.types import Deadline

SYSTEM = """
You are the grammar expert of Espaluz, a Spanish tutor on WhatsApp. You explain Spanish grammar clearly
and briefly, at the learner's CEFR level, in the learner's explanation language, using the learner's
target dialect (for example vos forms for Rioplatense, vosotros only for Spain). Examples are always in
Spanish. WhatsApp formatting: *bold*, _italics_, no headings, no tables.
When asked to check a sentence, give the corrected sentence in "correction" (null if it is already
correct) and explain the main error only.
Answer with one JSON object: {"topic": short snake_case label, "explanation": at most 600 characters,
"examples": 1 to 3 Spanish example sentences, "correction": string or null}.
"""


class GrammarNote(BaseModel):
    topic: str = Field("general", max_length=60)
    explanation: str = Field(min_length=1, max_length=900)
    examples: list[str] = Field(default_factory=list, max_length=4)
    correction: str | None = Field(None, max_length=500)


# Short notes for the engine fallback: (English, Spanish) by topic.
NOTES: dict[str, tuple[str, str]] = {
    "ser_estar": (
        "*ser* for identity, origin, profession and time; *estar* for location, states and results.",
        "*ser* para identidad, origen, profesión y hora; *estar* para lugar, estados y resultados.",
    ),
    "por_para": (
        "*para* for purpose, recipient and deadline; *por* for cause, means, exchange and 'through'.",
        "*para* para finalidad, destinatario y plazo; *por* para causa, medio, intercambio y 'a través de'.",
    ),
    "preterite_vs_imperfect": (
        "Preterite for completed events (*ayer comí*); imperfect for background and habits (*comía*).",
        "Indefinido para hechos terminados (*ayer comí*); imperfecto para descripciones y hábitos (*comía*).",
    ),
    "subjunctive": (
        "The subjunctive follows wishes, doubt, emotion and purpose: *quiero que vengas*.",
        "El subjuntivo va tras deseos, duda, emoción y finalidad: *quiero que vengas*.",
    ),
    "gender_agreement": (
        "Articles and adjectives agree with the noun: *la casa blanca*, *el problema difícil*.",
        "Artículos y adjetivos concuerdan con el sustantivo: *la casa blanca*, *el problema difícil*.",
    ),
}


def _note(topic: str, language: str) -> str:
    english, spanish = NOTES.get(topic, ("", ""))
    return spanish if language == "es" else english


def engine_note(text: str, topic: str, profile: Profile) -> GrammarNote:
    """The engine's answer: its first correction of ``text`` (if any) and the table note for ``topic``."""
    corrections = engine_check(text) if text else []
    correction = None
    explanation = _note(topic, profile.native_language)
    if corrections:
        first = corrections[0]
        correction = text[: first.start] + first.suggestion + text[first.end :]
        explanation = first.explanation
    if not explanation:
        explanation = (
            "Detailed grammar explanations need the AI key (GROQ_API_KEY); the drills work without it."
            if profile.native_language != "es"
            else "Las explicaciones detalladas necesitan la clave de IA (GROQ_API_KEY); los ejercicios no."
        )
    return GrammarNote(topic=topic or "general", explanation=explanation, examples=[], correction=correction)


def explain(
    llm: LLM,
    profile: Profile,
    topic: str,
    question: str,
    deadline: Deadline,
    cache: ExplanationCache | None = None,
) -> AgentResult[GrammarNote]:
    """An explanation of ``topic`` (the learner's ``question`` gives the angle). Served from the cache
    when a provider already explained this topic at this level, dialect and language."""
    key = ("grammar", topic, profile.level, profile.dialect, profile.native_language)
    if cache is not None and topic and topic != "general":
        hit = cache.get(GrammarNote, *key)
        if hit is not None:
            return AgentResult(hit, "cache")
    result = ask_or_fallback(
        llm,
        agent="grammar",
        system=SYSTEM,
        profile=profile,
        user=f"Explain the grammar point '{topic}'. The learner asked:\n{as_data(question)}",
        model=GrammarNote,
        order=("groq",),
        deadline=deadline,
        engine=lambda: engine_note("", topic, profile),
        shown=("explanation", "examples", "correction"),
        spanish=("examples",),
    )
    if cache is not None and result.source in ("groq", "claude") and topic and topic != "general":
        cache.put(result.output, *key)
    return result


def correct(llm: LLM, profile: Profile, text: str, deadline: Deadline) -> AgentResult[GrammarNote]:
    """A check of the learner's own sentence (not cached)."""
    return ask_or_fallback(
        llm,
        agent="grammar",
        system=SYSTEM,
        profile=profile,
        user=f"Check this sentence written by the learner:\n{as_data(text)}",
        model=GrammarNote,
        order=("groq",),
        deadline=deadline,
        engine=lambda: engine_note(text, "general", profile),
        shown=("explanation", "examples", "correction"),
        spanish=("examples", "correction"),
        max_tokens=300,
    )
