"""Grammar expert (Groq, JSON): explains a grammar point, or corrects the learner's sentence.

Explanations of a topic are generic for a level, dialect and explanation language, so they are cached
(:class:`espaluz.llm.cache.ExplanationCache`). A correction of the learner's own sentence is not. The
engine fallback uses the Spanish engine's corrections (``espaluz.spanish.corrections.check``) and the
authored notes of the most-asked topics (:mod:`.grammar_notes`, data in ``espaluz/tutor/data``).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, Field

from espaluz.llm.guard import as_data
from espaluz.spanish.review import review, sentence_spans
from espaluz.tutor.agents import grammar_notes
from espaluz.tutor.agents.base import (
    MAX_INPUT_CHARS,
    AgentResult,
    Profile,
    ask_or_fallback,
    clipped,
    shareable_result,
)
from espaluz.tutor.agents.topics import checked

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
    examples: list[Annotated[str, clipped(200)]] = Field(default_factory=list, max_length=4)
    correction: Annotated[str | None, clipped(500)] = None


def _language(profile: Profile) -> str:
    return "es" if profile.native_language == "es" else "en"


def authored_note(
    note: grammar_notes.Note | None,
    profile: Profile,
    follow: grammar_notes.FollowUp | None = None,
    rng: random.Random | None = None,
) -> GrammarNote:
    """The authored answer for a topic, in the learner's explanation language with Spanish examples:
    the short note and its examples; for "another example" two extra examples; for "explain it" the
    longer explanation and two extra examples. No note: the topics there are notes on."""
    language = _language(profile)
    es = language == "es"
    if note is None:
        topics = ", ".join(grammar_notes.topic_titles(language))
        text = (
            f"Todavía no tengo una nota sobre eso. Tengo notas sobre: {topics}. Pregúntame, por ejemplo: "
            "«¿cuándo uso ser y estar?»."
            if es
            else f"I don't have a note on that yet. I have notes on: {topics}. Ask me, for example: "
            "“when do I use ser and estar?”."
        )
        return GrammarNote(topic="general", explanation=text)
    chooser = rng or random.Random()  # noqa: S311 (which example to show, not security)
    title = note.text(note.title, language)
    extra = list(note.extra_examples)
    picked = chooser.sample(extra, min(2, len(extra)))
    if follow == "more_example":
        head = f"Más ejemplos de {title}:" if es else f"More examples of {title}:"
        return GrammarNote(topic=note.id, explanation=head, examples=picked)
    if follow == "explain":
        return GrammarNote(
            topic=note.id, explanation=f"{title}\n{note.text(note.more, language)}", examples=picked
        )
    return GrammarNote(
        topic=note.id, explanation=f"{title}\n{note.text(note.short, language)}", examples=list(note.examples)
    )


def engine_note(text: str, topic: str, profile: Profile) -> GrammarNote:
    """The engine's answer: every correction of ``text`` (the sentences that hold them, corrected), else
    the authored note for ``topic``."""
    if text:
        correction, explanation = engine_correction(text, profile.native_language)
        if explanation:
            return GrammarNote(topic=topic or "general", explanation=explanation, correction=correction)
        # a sentence with nothing to correct (the explanation is not shown without a correction)
        return GrammarNote(topic="general", explanation="-")
    return authored_note(grammar_notes.find_topic(topic), profile)


def engine_correction(text: str, language: str, limit: int = 300) -> tuple[str | None, str | None]:
    """The Spanish engine's review of ``text``: (the sentences that held errors, with every correction
    applied; one line per correction: what changed and why, in the learner's ``language``).

    The corrected sentences are returned only when the engine finds nothing left in them (shown to the
    learner as correct); otherwise only the lines. (None, None) when there is nothing to correct. Each
    sentence is clipped around its errors to ``limit`` characters (a learner may send a whole page)."""
    result = review(text)
    if not result.corrections:
        return None, None
    lines = "\n".join(f"• *{f.wrong}* → *{f.suggestion}*: {f.why(language)}" for f in result.corrections)
    if not result.clean:
        return None, lines
    shown = []
    for start, end in sentence_spans(text):
        fixes = [f for f in result.corrections if start <= f.start < end]
        if not fixes:
            continue
        sentence = text[start:end]
        for f in sorted(fixes, key=lambda f: f.start, reverse=True):
            sentence = sentence[: f.start - start] + f.suggestion + sentence[f.end - start :]
        sentence = " ".join(sentence.split())
        shown.append(sentence if len(sentence) <= limit else sentence[: limit - 1] + "…")
    return " ".join(shown), lines


def explain(
    llm: LLM,
    profile: Profile,
    topic: str,
    question: str,
    deadline: Deadline,
    cache: ExplanationCache | None = None,
    *,
    follow: grammar_notes.FollowUp | None = None,
    rng: random.Random | None = None,
    shareable: bool = True,
) -> AgentResult[GrammarNote]:
    """An explanation of ``topic`` (an id of :data:`.topics.GRAMMAR_TOPICS`; anything else is treated
    as ``general``).

    Shared path: with a cache, a topic the cache accepts, no follow-up and ``shareable`` (the caller
    saw no sign of injection in the turn), the answer is the cached one, or one a provider writes from
    the topic id alone (the learner's words are not in that request, so nothing of them, personal data
    or instructions, can end up in an entry served to other learners); it is cached unless the guard
    rejected an answer on the way. Otherwise the learner's ``question`` (inside the data delimiters)
    gives the angle and the answer is not cached. A follow-up (``follow``: another example, a longer
    explanation) always wants something new. The engine's answer is the authored note
    (:func:`authored_note`)."""
    topic = checked("grammar_question", topic)
    key = ("grammar", topic, profile.level, profile.dialect, profile.native_language)
    shared = cache is not None and follow is None and shareable and cache.allows("grammar", topic)
    if cache is not None and shared:
        hit = cache.get(GrammarNote, *key)
        if hit is not None:
            return AgentResult(hit, "cache")
    if shared:
        user = (
            f"Explain the grammar point '{topic}' in general, for any learner with this profile "
            "(no learner message: this explanation is shared)."
        )
    elif topic != "general":
        user = (
            f"Explain the grammar point '{topic}'. The learner asked:\n{as_data(question[:MAX_INPUT_CHARS])}"
        )
    else:
        user = f"Answer the learner's grammar question:\n{as_data(question[:MAX_INPUT_CHARS])}"
    result = ask_or_fallback(
        llm,
        agent="grammar",
        system=SYSTEM,
        profile=profile,
        user=user,
        model=GrammarNote,
        order=("groq",),
        deadline=deadline,
        engine=lambda: authored_note(grammar_notes.find_topic(topic, question), profile, follow, rng),
        shown=("explanation", "examples", "correction"),
        spanish=("examples",),
    )
    if cache is not None and shared and shareable_result(result):
        cache.put(result.output.model_copy(update={"topic": topic}), *key)
    return result


def correct(llm: LLM, profile: Profile, text: str, deadline: Deadline) -> AgentResult[GrammarNote]:
    """A check of the learner's own sentence (not cached)."""
    return ask_or_fallback(
        llm,
        agent="grammar",
        system=SYSTEM,
        profile=profile,
        user=f"Check this sentence written by the learner:\n{as_data(text[:MAX_INPUT_CHARS])}",
        model=GrammarNote,
        order=("groq",),
        deadline=deadline,
        engine=lambda: engine_note(text, "general", profile),
        shown=("explanation", "examples", "correction"),
        spanish=("examples", "correction"),
        max_tokens=300,
        route="check",
    )
