"""Conversation partner: chats in Spanish at the learner's level and corrects gently (route
``conversation``: Groq's gpt-oss-120b by default, then Claude Haiku).

The reply is always Spanish (the guard rejects one that is not); a single correction and its short
explanation in the learner's language may accompany it. The engine fallback keeps the chat going with a
reaction and a question picked by what the learner talks about, and the engine's own correction of the
learner's text (the sentence with the error, so a long message never makes it fail).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, Field

from espaluz.llm.guard import as_data, language_of
from espaluz.text import fold
from espaluz.tutor.agents.base import MAX_INPUT_CHARS, AgentResult, Profile, ask_or_fallback, clipped
from espaluz.tutor.agents.grammar import engine_correction
from espaluz.tutor.commands.texts import tr

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
    correction: Annotated[str | None, clipped(400)] = None
    explanation: Annotated[str | None, clipped(400)] = None


# Without a provider the partner still answers a statement: a short reaction and a question back, picked
# by what the learner talks about (first match wins), in Spanish with an English line for "en" learners.
_FOLLOW_UPS: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(pattern), es, en)
    for pattern, es, en in (
        (
            r"^(?:hola|buenas|buenos dias|buenas tardes|buenas noches|hey)\b",
            "¡Hola! ¿Cómo estás hoy?",
            "Hi! How are you today?",
        ),
        (
            r"\bcomo estas\b|\bque tal\b",
            "¡Muy bien, gracias! ¿Y tú? ¿Qué tal tu día?",
            "Very well, thanks! And you? How's your day?",
        ),
        (
            r"\b(?:vivo|vivimos|vivia|viviamos) en\b",
            "¡Qué bien! ¿Qué es lo que más te gusta de vivir allí?",
            "How nice! What do you like most about living there?",
        ),
        (
            r"\b(?:trabaj\w*|oficina|mi jefe|empresa)\b",
            "¡Interesante! ¿Qué es lo que más te gusta de tu trabajo?",
            "Interesting! What do you like most about your job?",
        ),
        (
            r"\b(?:estudi\w*|universidad|clase|colegio|escuela)\b",
            "¡Qué bien! ¿Y qué es lo que más te gusta estudiar?",
            "Great! And what do you like studying most?",
        ),
        (
            r"\b(?:hij[oa]s?|herman[oa]s?|madre|padre|mama|papa|familia|espos[oa]|novi[oa]|abuel[oa]s?)\b",
            "¡Qué bonito! ¿Pasas mucho tiempo con tu familia?",
            "How lovely! Do you spend a lot of time with your family?",
        ),
        (
            r"\b(?:ayer|anoche|el fin de semana pasado|la semana pasada|el ano pasado)\b",
            "¡Qué bien! ¿Y qué más hiciste?",
            "Nice! And what else did you do?",
        ),
        (
            r"\b(?:voy a|vamos a|manana|la semana que viene|el proximo|la proxima)\b",
            "¡Suena genial! ¿Y con quién vas?",
            "Sounds great! And who are you going with?",
        ),
        (
            r"\b(?:comi\w*|comer|cocin\w*|desayun\w*|cen\w*|almorz\w*|almuerzo)\b",
            "¡Qué rico! ¿Cuál es tu comida favorita?",
            "Yum! What's your favourite food?",
        ),
        (
            r"\b(?:me encanta\w*|me gusta\w*|me interesa\w*)\b",
            "¡Qué bien! ¿Y por qué te gusta tanto?",
            "Great! And why do you like it so much?",
        ),
        (
            r"\b(?:estoy|me siento)\b",
            "Gracias por contármelo. ¿Y qué vas a hacer hoy?",
            "Thanks for telling me. And what are you going to do today?",
        ),
    )
)


def follow_up(text: str, profile: Profile) -> str:
    """A short reaction and a question that keeps the learner writing (no provider needed)."""
    folded = fold(text)
    if language_of(text) == "en":  # the tutor's one language guesser (espaluz.llm.guard)
        return tr(
            profile.native_language,
            "¡Escríbeme en español y te corrijo! Por ejemplo: «Hoy estoy contento porque...».",
            "Write to me in Spanish and I'll correct it! For example: «Hoy estoy contento porque...».",
        )
    for pattern, es, en in _FOLLOW_UPS:
        if pattern.search(folded):
            return tr(profile.native_language, es, en)
    if "?" in text:
        return tr(
            profile.native_language,
            "¡Buena pregunta! Cuéntame primero tú: ¿qué piensas?",
            "Good question! You tell me first: what do you think?",
        )
    return tr(
        profile.native_language,
        "¡Qué interesante! ¿Me cuentas un poco más?",
        "Interesting! Can you tell me a bit more?",
    )


def engine_reply(text: str, profile: Profile) -> ConversationReply:
    """The engine's answer: a question to keep the learner writing, and every correction the engine finds
    in the text (the sentences they are in, however long the message; see ``grammar.engine_correction``)."""
    correction, explanation = engine_correction(text, profile.native_language)
    return ConversationReply(reply=follow_up(text, profile), correction=correction, explanation=explanation)


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
        user=f"{history}The learner's new message:\n{as_data(text[:MAX_INPUT_CHARS])}",
        model=ConversationReply,
        order=("claude", "groq"),
        deadline=deadline,
        engine=lambda: engine_reply(text, profile),
        shown=("reply", "correction", "explanation"),
        spanish=("reply",),
        max_tokens=300,
    )
