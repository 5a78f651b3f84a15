"""Decide the tutor's answer to one learner message.

The rules and the Spanish engine run first: they are exact, instant and free. This first version knows
greetings, help, and conjugation questions checked against the engine; the LLM agents (Groq, Claude)
plug in behind the same ``respond`` entry point later. Without LLM keys the tutor still teaches and says
what a key would add.

``respond`` is pure apart from the randomness it is given: it reads the learner and the conversation
state and returns the reply, the new state and what to record. The processor does the I/O.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass, field

from espaluz.spanish.conjugation import PERSON_PRONOUNS, PERSONS, conjugate
from espaluz.storage.learners import Learner
from espaluz.tutor.state import ConversationState, PendingDrill
from espaluz.whatsapp.outgoing import Button, Reply

TENSE_LABELS = {
    "indicative.present": "presente de indicativo",
    "indicative.preterite": "pretérito indefinido",
    "indicative.imperfect": "pretérito imperfecto",
    "indicative.future": "futuro",
}
# (verb, tense) pairs a beginner meets first; persons are drawn at random.
A1_ITEMS = [
    ("ser", "indicative.present"),
    ("estar", "indicative.present"),
    ("tener", "indicative.present"),
    ("ir", "indicative.present"),
    ("hacer", "indicative.present"),
    ("querer", "indicative.present"),
    ("poder", "indicative.present"),
    ("hablar", "indicative.present"),
    ("comer", "indicative.present"),
    ("vivir", "indicative.present"),
    ("dormir", "indicative.present"),
    ("pedir", "indicative.present"),
    ("hablar", "indicative.preterite"),
    ("tener", "indicative.preterite"),
    ("ir", "indicative.preterite"),
    ("vivir", "indicative.imperfect"),
    ("ser", "indicative.imperfect"),
    ("hablar", "indicative.future"),
    ("decir", "indicative.future"),
]

GREETINGS = {"hola", "buenas", "buenos dias", "buenas tardes", "buenas noches", "hi", "hello", "hey", "ola"}
PRACTICE = {"practicar", "practica", "practice", "otra", "otro", "siguiente", "next", "drill"}
HELP = {"ayuda", "help", "?", "menu", "menú"}

BUTTONS_START = (Button("practice", "Practicar"), Button("help", "Ayuda"))
BUTTONS_NEXT = (Button("practice", "Otra pregunta"), Button("help", "Ayuda"))


@dataclass(frozen=True, slots=True)
class Attempt:
    skill: str
    prompt: str
    expected: str
    answer: str
    verdict: str  # correct | accent | wrong


@dataclass
class Outcome:
    reply: Reply
    state: ConversationState
    route: str
    attempts: list[Attempt] = field(default_factory=list)


def normalise(text: str) -> str:
    """Lower-case, trimmed, inner spaces collapsed, surrounding punctuation removed; accents kept."""
    text = unicodedata.normalize("NFC", text).strip().lower()
    text = re.sub(r"\s+", " ", text)
    return text.strip(" .!¡?¿,;:\"'")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn" or c == "\u0303")


def respond(
    learner: Learner,
    text: str,
    reply_id: str | None,
    state: ConversationState,
    rng: random.Random,
    *,
    llm_available: bool = False,
) -> Outcome:
    """The answer to one message. ``reply_id`` is the id of a button or list row the learner chose."""
    state.turns += 1
    said = normalise(text)
    name = learner.display_name.split(" ")[0] if learner.display_name else ""

    # A button's id is what the learner chose; its title is only a label.
    wants_help = reply_id == "help" if reply_id else said in HELP
    wants_practice = reply_id == "practice" if reply_id else said in PRACTICE
    if wants_help:
        return Outcome(Reply(_help_text(llm_available), buttons=BUTTONS_START), state, "help")
    if wants_practice:
        return _ask(state, rng, intro="")
    if state.pending is not None and said and said not in GREETINGS:
        return _check(state, said, rng)
    if learner.is_new or said in GREETINGS or said.split(" ")[0] in GREETINGS:
        hello = f"¡Hola, {name}! 👋" if name else "¡Hola! 👋"
        body = (
            f"{hello} Soy *Espaluz*, tu tutor de español en WhatsApp.\n\n"
            "Puedo ponerte ejercicios de conjugación y corregirlos al instante. ¿Empezamos?"
        )
        return Outcome(Reply(body, buttons=BUTTONS_START), state, "greeting")
    return Outcome(Reply(_fallback_text(llm_available), buttons=BUTTONS_START), state, "fallback")


def _ask(state: ConversationState, rng: random.Random, intro: str) -> Outcome:
    verb, tense = rng.choice(A1_ITEMS)
    person = rng.choice(PERSONS)
    forms = conjugate(verb)["forms"][tense][person]
    expected = [forms] if isinstance(forms, str) else list(forms)
    pronoun = PERSON_PRONOUNS[person].split("/")[0]
    prompt = f"¿Cómo se conjuga *{verb}* en {TENSE_LABELS[tense]} con *{PERSON_PRONOUNS[person]}*?"
    state.pending = PendingDrill(verb=verb, tense=tense, person=person, expected=expected, prompt=prompt)
    body = f"{intro}{prompt}\n\nEscribe la forma: _{pronoun}_ ____"
    return Outcome(Reply(body), state, "engine.ask")


def _check(state: ConversationState, said: str, rng: random.Random) -> Outcome:
    pending = state.pending
    assert pending is not None
    answer = said.split(" ")[-1] if len(said.split(" ")) == 2 else said  # "yo tengo" -> "tengo"
    best = pending.expected[0]
    if answer in pending.expected:
        verdict, state.correct_streak = "correct", state.correct_streak + 1
        head = f"✅ ¡Correcto! *{answer}*."
        if state.correct_streak >= 3:
            head += f" Llevas {state.correct_streak} seguidas. 🔥"
    elif strip_accents(answer) in {strip_accents(e) for e in pending.expected}:
        verdict, state.correct_streak = "accent", state.correct_streak + 1
        match = next(e for e in pending.expected if strip_accents(e) == strip_accents(answer))
        head = f"✅ Casi perfecto: se escribe *{match}*, con tilde."
    else:
        verdict, state.correct_streak = "wrong", 0
        head = f"❌ No es *{answer}*. La forma correcta es *{best}*."
    attempt = Attempt(
        skill=f"conjugation:{pending.tense}",
        prompt=pending.prompt,
        expected="|".join(pending.expected),
        answer=answer,
        verdict=verdict,
    )
    state.pending = None
    outcome = _ask(state, rng, intro=head + "\n\nSiguiente:\n")
    outcome.route = "engine.check"
    outcome.reply = Reply(outcome.reply.text, buttons=(Button("help", "Ayuda"),))
    outcome.attempts.append(attempt)
    return outcome


def _help_text(llm_available: bool) -> str:
    lines = [
        "*Espaluz* — así funciono:",
        "• *practicar*: un ejercicio de conjugación.",
        "• Responde con la forma del verbo y te corrijo al momento.",
        "• *pronunciar*: un ejercicio de pronunciación (me mandas una nota de voz).",
        "• *progreso*: tu avance de la semana, con un gráfico.",
        "• *nivel* / *perfil*: cambia tu nivel o tus preferencias.",
        "• *memoria*: lo que recuerdo de ti (y puedes hacer que lo olvide).",
        "• *exportar* / *borrar*: tus datos, para llevártelos o borrarlos.",
        "• *plan*: el plan de pago y tu suscripción.",
        "• *baja*: no te envío recordatorios ni ofertas (*alta* para volver).",
        "• *ayuda*: este mensaje.",
    ]
    if not llm_available:
        lines.append(
            "\n_Conversación libre y explicaciones: este servidor no tiene clave de IA "
            "(GROQ_API_KEY / ANTHROPIC_API_KEY). Los ejercicios funcionan igual._"
        )
    return "\n".join(lines)


def _fallback_text(llm_available: bool) -> str:
    if llm_available:
        return "No te he entendido del todo. ¿Practicamos un poco?"
    return (
        "Todavía no puedo conversar libremente aquí: falta una clave de IA en el servidor "
        "(GROQ_API_KEY o ANTHROPIC_API_KEY). Mientras tanto, ¡practiquemos conjugación!"
    )
