"""Decide the tutor's answer to one learner message, by rules and the Spanish engine.

The rules and the engine run first: they are exact, instant and free. They know greetings (a known
learner is welcomed back, not introduced again), the menu, exercises (:mod:`espaluz.tutor.exercise`:
asked at the learner's level and dialect, answers told apart from everything else, hints, leaving); what
they cannot answer comes back as route ``fallback`` for the LLM agents (the processor asks them).

``respond`` is pure apart from the randomness it is given: it reads the learner and the conversation
state and returns the reply, the new state and what to record. The processor does the I/O. Every text
is written in Spanish with the English line for learners who explain in English (``texts.tr``).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from espaluz.curriculum.course import LESSON_SIZE
from espaluz.storage.learners import Learner
from espaluz.tutor import exercise
from espaluz.tutor.commands.profile import engine_dialect, explanation_language
from espaluz.tutor.commands.texts import KEYLESS_NOTE, LEAVE_COMMANDS, LEVEL_NAMES, fold, inline, tr
from espaluz.tutor.state import ConversationState, PendingDrill
from espaluz.tutor.turn import Attempt, Outcome
from espaluz.whatsapp.outgoing import Button, Reply

if TYPE_CHECKING:
    from espaluz.memory.reviews import ReviewItem

__all__ = ["Attempt", "Outcome", "respond"]

GREETINGS = frozenset(
    {"hola", "buenas", "buenos dias", "buenas tardes", "buenas noches", "hi", "hello", "hey", "ola",
     "hola hola", "que tal", "hola que tal", "hello there", "good morning", "hola espaluz", "hi espaluz"}
)  # fmt: skip
PRACTICE = frozenset(
    {"practicar", "practica", "practice", "otra", "otro", "siguiente", "next", "drill", "ejercicio",
     "otro ejercicio", "another", "another one", "quiz"}
)  # fmt: skip
MENU = frozenset({"ayuda", "help", "menu", "comandos", "commands", "?"})


def start_buttons(language: str) -> tuple[Button, ...]:
    return (
        Button("practice", "Practicar" if language == "es" else "Practice"),
        Button("help", "Ayuda" if language == "es" else "Help"),
    )


def respond(
    learner: Learner,
    text: str,
    reply_id: str | None,
    state: ConversationState,
    rng: random.Random,
    *,
    llm_available: bool = False,
    review: ReviewItem | None = None,
    course: exercise.Course | None = None,
) -> Outcome:
    """The answer to one message. ``reply_id`` is the id of a button or list row the learner chose.
    ``review``: a review item due now (the processor looks it up when the learner asks for practice):
    the error they made comes back as the exercise. ``course``: the learner's skill cards and the time
    the course's next exercise depends on (a new learner's course when not given)."""
    state.turns += 1
    course = course or exercise.Course()
    language = explanation_language(learner.native_language)
    pending = state.pending
    if pending is not None:
        if exercise.wants_to_leave(text, reply_id) and not exercise.is_expected(pending, text):
            state.pending = None
            reply = Reply(exercise.left_note(language), buttons=start_buttons(language))
            return Outcome(reply, state, "exercise.leave")
        if exercise.gives_up(text, reply_id) or (exercise.wants_hint(text, reply_id) and pending.hints):
            state.pending = None
            body = exercise.reveal(pending, language)
            return Outcome(Reply(body, buttons=exercise.after_buttons(language)), state, "exercise.reveal")
        if exercise.wants_hint(text, reply_id):
            body = exercise.hint(pending, language)
            buttons = (
                Button("reveal", "Ver respuesta" if language == "es" else "Show answer"),
                Button("leave", "Salir" if language == "es" else "Leave exercise"),
            )
            return Outcome(Reply(body, buttons=buttons), state, "exercise.hint")
        if wants_practice(text, reply_id):
            pass  # a new exercise replaces the open one, below
        elif exercise.is_attempt(pending, text, reply_id):
            return _check(learner, text, reply_id, state, language, rng, course)
        else:  # something else said meanwhile: answered for what it is; the exercise waits, once
            pending.waits += 1
            note = exercise.waiting_note(pending, language)
            if pending.waits > exercise.MAX_WAITS:
                state.pending = None
            outcome = _route(learner, text, reply_id, state, language, rng, llm_available, course)
            outcome.note = note
            return outcome
    if review is not None and wants_practice(text, reply_id):
        return _review(review, state, language)
    return _route(learner, text, reply_id, state, language, rng, llm_available, course)


def _review(item: ReviewItem, state: ConversationState, language: str) -> Outcome:
    state.pending = PendingDrill(
        verb="",
        tense=item.skill.split(":", 1)[-1] if item.skill.startswith("conjugation:") else "",
        person="",
        expected=list(item.expected),
        prompt=item.prompt,
        skill=item.skill,
    )
    head = tr(
        language,
        f"🔁 *Repaso*: la última vez escribiste «{item.wrong_answer}».",
        f"Review: last time you wrote “{item.wrong_answer}”.",
    )
    body = f"{head}\n\n{exercise.shown(item.prompt)}"
    return Outcome(
        Reply(body, buttons=exercise.question_buttons(state.pending, language)), state, "memory.review"
    )


def wants_practice(text: str, reply_id: str | None) -> bool:
    return reply_id == "practice" if reply_id else fold(text) in PRACTICE


def _route(
    learner: Learner,
    text: str,
    reply_id: str | None,
    state: ConversationState,
    language: str,
    rng: random.Random,
    llm_available: bool,
    course: exercise.Course,
) -> Outcome:
    said = fold(text)
    if wants_practice(text, reply_id):
        return _ask(learner, state, language, rng, course, intro="")
    wants_menu = reply_id == "help" if reply_id else said in MENU
    if wants_menu:
        return Outcome(
            Reply(_help_text(language, llm_available), buttons=start_buttons(language)), state, "help"
        )
    if not reply_id and said in exercise.CONFUSED_WORDS:  # "I don't understand": what the tutor can do
        lead = tr(language, "No pasa nada 🙂", "No problem")
        body = f"{lead}\n\n{_help_text(language, llm_available)}"
        return Outcome(Reply(body, buttons=start_buttons(language)), state, "help")
    if not reply_id and said in LEAVE_COMMANDS:  # "salir" with nothing open
        body = tr(
            language,
            "Vale 🙂 Ahora no tienes ningún ejercicio abierto. Escribe *practicar* cuando quieras, o "
            "cuéntame algo en español.",
            "OK. You have no exercise open right now. Write “practicar” whenever you like, or tell me "
            "something in Spanish.",
        )
        return Outcome(Reply(body, buttons=start_buttons(language)), state, "exercise.none")
    if not reply_id and (learner.is_new or _is_greeting(said)):
        return Outcome(
            Reply(_greeting(learner, language), buttons=start_buttons(language)), state, "greeting"
        )
    if not any(ch.isalpha() for ch in said):  # an emoji, a thumbs-up, "?!": nothing to correct or ask
        body = tr(
            language,
            "😊 ¿Seguimos? Escribe *practicar* para un ejercicio, o cuéntame algo en español.",
            "Shall we go on? Write “practicar” for an exercise, or tell me something in Spanish.",
        )
        return Outcome(Reply(body, buttons=start_buttons(language)), state, "small_talk")
    body = tr(
        language,
        "No he entendido del todo. ¿Practicamos un poco, o me lo dices de otra forma?",
        "I didn't quite get that. Shall we practise, or can you say it another way?",
    )
    return Outcome(Reply(body, buttons=start_buttons(language)), state, "fallback")


def _is_greeting(said: str) -> bool:
    """Only a greeting ("hola", "hola, ¿qué tal?"), not a message that starts with one."""
    return said in GREETINGS or (
        len(said.split(" ")) <= 3 and said.split(" ")[0] in GREETINGS and "?" not in said
    )


def _greeting(learner: Learner, language: str) -> str:
    name = learner.display_name.split(" ")[0] if learner.display_name else ""
    level = learner.level if learner.level in LEVEL_NAMES else "A1"
    level_es, level_en = LEVEL_NAMES[level]
    if learner.is_new:
        hello = f"¡Hola, {name}! 👋" if name else "¡Hola! 👋"
        return tr(
            language,
            f"{hello} Soy *Espaluz*, tu tutor de español en WhatsApp. Te pongo ejercicios a tu nivel, "
            "corrijo lo que escribes y te explico por qué. ¿Empezamos?",
            "I'm Espaluz, your Spanish tutor on WhatsApp: exercises at your level, corrections of what "
            "you write, and why. Shall we start?",
        )
    hello = f"¡Hola de nuevo, {name}! 👋" if name else "¡Hola de nuevo! 👋"
    return tr(
        language,
        f"{hello} ¿Seguimos? Tus ejercicios son de nivel {level} ({level_es.lower()}); "
        "también puedes escribirme en español y te corrijo.",
        f"Welcome back! Shall we go on? Your exercises are at level {level} ({level_en.lower()}); you can "
        "also write to me in Spanish and I'll correct it.",
    )


def _ask(
    learner: Learner,
    state: ConversationState,
    language: str,
    rng: random.Random,
    course: exercise.Course,
    intro: str,
) -> Outcome:
    """The lesson's next exercise; a listening exercise asks the processor for its voice note."""
    asked = exercise.ask(state, learner.level, language, rng, course)
    body = exercise.question_text(asked, state, learner.level, language, course)
    reply = exercise.question_reply(f"{intro}{body}", state.pending, language)
    outcome = Outcome(reply, state, "engine.ask")
    if asked.type == "listening":
        outcome.speak = asked.say
    return outcome


def _check(
    learner: Learner,
    text: str,
    reply_id: str | None,
    state: ConversationState,
    language: str,
    rng: random.Random,
    course: exercise.Course,
) -> Outcome:
    """The verdict, then the lesson's next exercise, or the lesson's summary after its last one."""
    pending = state.pending
    assert pending is not None
    checked = exercise.check(
        pending, text, reply_id, learner.level, engine_dialect(learner.dialect), language
    )
    checked_line = checked.line
    if checked.correct:
        state.correct_streak += 1
        if state.correct_streak >= 3:
            streak = state.correct_streak
            checked_line += " " + inline(language, f"Llevas {streak} seguidas. 🔥", f"{streak} in a row")
    else:
        state.correct_streak = 0
    state.pending = None
    lesson = exercise.lesson_of(state)
    if pending.exercise:  # a course exercise: a step of the lesson
        lesson["step"] += 1
        lesson["right"] += int(checked.correct)
    if lesson["step"] >= LESSON_SIZE:
        body = f"{checked_line}\n\n{exercise.lesson_summary(state, learner.level, language, course)}"
        outcome = Outcome(Reply(body, buttons=exercise.after_buttons(language)), state, "engine.check")
    else:
        following = inline(language, "Siguiente:", "next one")
        outcome = _ask(learner, state, language, rng, course, intro=f"{checked_line}\n\n{following}\n")
        outcome.route = "engine.check"
    outcome.attempts.append(checked.attempt)
    return outcome


def _help_text(language: str, llm_available: bool) -> str:
    """The menu, in the learner's explanation language (the command words stay Spanish: they work)."""
    es = language == "es"
    lines = [
        "*Espaluz* — " + ("así funciono:" if es else "how it works:"),
        "• *practicar*: " + ("un ejercicio a tu nivel" if es else "an exercise at your level"),
        "• "
        + ("Escríbeme en español y te corrijo." if es else "Write to me in Spanish and I'll correct it."),
        "• *pronunciar*: " + ("pronunciación con notas de voz" if es else "pronunciation, by voice note"),
        "• *progreso*: " + ("tu avance de la semana" if es else "your week's progress"),
        "• *nivel* / *perfil*: " + ("tu nivel y tus preferencias" if es else "your level and settings"),
        "• *memoria*: " + ("lo que recuerdo de ti" if es else "what I remember about you"),
        "• *exportar* / *borrar*: " + ("tus datos" if es else "your data"),
        "• *plan*: " + ("el plan de pago" if es else "the paid plan"),
        "• *baja* / *alta*: " + ("sin recordatorios / con recordatorios" if es else "reminders off / on"),
        "• *salir*: " + ("abandona el ejercicio" if es else "drop the open exercise"),
    ]
    if not llm_available:
        lines.append("\n" + KEYLESS_NOTE["es" if es else "en"])
    return "\n".join(lines)
