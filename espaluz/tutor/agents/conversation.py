"""Conversation partner (Claude, then Groq): chats in Spanish at the learner's level and corrects gently.

The reply is always Spanish (the guard rejects one that is not); a single correction and its short
explanation in the learner's language may accompany it. The engine fallback keeps the chat going with a
question and the engine's own correction of the learner's text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from espaluz.llm.guard import as_data
from espaluz.spanish.corrections import check as engine_check
from espaluz.tutor.agents.base import AgentResult, Profile, ask_or_fallback

if TYPE_CHECKING:
    from espaluz.llm.chain import LLM
    from espaluz.llm.types import Deadline

SYSTEM = """
You are Espaluz, a warm and patient Spanish conversation partner on WhatsApp. Keep the conversation
going in Spanish, adapted to the learner's CEFR level (A1: short simple sentences, present tense; C1:
natural, idiomatic), using the vocabulary and forms of the learner's target dialect. End with one
question that invites the learner to answer. At most 3 short sentences; WhatsApp formatting only
(*bold*, _italics_).
If the learner's Spanish contains an error, give the corrected sentence in "correction" and a one-line
reason in the learner's explanation language in "explanation"; otherwise both are null. Never correct
more than one thing per message.
Answer with one JSON object: {"reply": Spanish text, "correction": string or null,
"explanation": string or null}.
"""


class ConversationReply(BaseModel):
    reply: str = Field(min_length=1, max_length=700)
    correction: str | None = Field(None, max_length=400)
    explanation: str | None = Field(None, max_length=400)


def engine_reply(text: str, profile: Profile) -> ConversationReply:
    """The engine's answer: its first correction of the text, and a question to keep practising."""
    corrections = engine_check(text)
    correction = explanation = None
    if corrections:
        first = corrections[0]
        correction = text[: first.start] + first.suggestion + text[first.end :]
        explanation = first.explanation
    reply = "¡Gracias por tu mensaje! ¿Practicamos un poco? Escribe *practicar* para un ejercicio."
    return ConversationReply(reply=reply, correction=correction, explanation=explanation)


def chat(
    llm: LLM, profile: Profile, text: str, deadline: Deadline, recent: list[str] | None = None
) -> AgentResult[ConversationReply]:
    """Answer the learner's message. ``recent`` are the last few turns' texts (tutor and learner), oldest
    first; they are data too and go inside the delimiters."""
    history = ""
    if recent:
        history = "Recent conversation (oldest first):\n" + as_data("\n".join(recent[-6:])) + "\n"
    return ask_or_fallback(
        llm,
        agent="conversation",
        system=SYSTEM,
        profile=profile,
        user=f"{history}The learner's new message:\n{as_data(text)}",
        model=ConversationReply,
        order=("claude", "groq"),
        deadline=deadline,
        engine=lambda: engine_reply(text, profile),
        shown=("reply", "correction", "explanation"),
        spanish=("reply",),
        max_tokens=300,
    )
