"""Exercises inside a conversation: asking the course's next one, telling an answer from everything else,
checking it exactly, hints, leaving.

Why this exists: the first tutor graded every message that followed ``practicar`` as an answer to the
open drill ("Yo soy cansado" got "La forma correcta es *vivía*"), so a learner who wandered off was
trapped in drills and their sentences went into progress, memory and reviews as wrong answers. Here a
pending exercise captures only what looks like an answer to it (:func:`is_attempt`, by exercise type);
everything else is answered for what it is by the rest of the tutor, and the exercise waits once and is
then dropped with a word (:func:`waiting_note`). Only real attempts produce an :class:`Attempt`.

Exercises come from the course (:mod:`espaluz.curriculum`): the learner's unit, lessons of
:data:`espaluz.curriculum.course.LESSON_SIZE` exercises of seven types mixing new items and FSRS reviews,
checked by :mod:`espaluz.curriculum.answers`. A review of a past mistake (``memory.review``) opens a
plain pending answer without a course exercise; :func:`check` grades those with the drill checker.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from espaluz.curriculum import answers
from espaluz.curriculum.course import (
    LESSON_SIZE,
    CardStatus,
    current_unit,
    due_reviews,
    next_exercise,
    progress,
)
from espaluz.curriculum.exercises import Exercise
from espaluz.curriculum.syllabus import load
from espaluz.spanish.conjugation import PERSON_PRONOUNS
from espaluz.spanish.drills import LEVELS, AnswerCheck, Drill, check_answer
from espaluz.spanish.verb_index import readings
from espaluz.text import words as words_of
from espaluz.tutor.commands.texts import fold, inline, tr
from espaluz.tutor.state import ConversationState, PendingDrill
from espaluz.tutor.turn import Attempt
from espaluz.whatsapp.outgoing import Button, ListRow, Reply

P, PRET, IMPF, FUT = "indicative.present", "indicative.preterite", "indicative.imperfect", "indicative.future"
COND, PERF, SUBJ = "conditional.present", "indicative.present_perfect", "subjunctive.present"
SUBJ_IMPF, PLUP, IMP = "subjunctive.imperfect", "indicative.pluperfect", "imperative.affirmative"

TENSE_NAMES: dict[str, tuple[str, str]] = {
    P: ("presente", "present"),
    PRET: ("pretérito indefinido", "preterite"),
    IMPF: ("pretérito imperfecto", "imperfect"),
    PERF: ("pretérito perfecto", "present perfect"),
    FUT: ("futuro", "future"),
    COND: ("condicional", "conditional"),
    SUBJ: ("presente de subjuntivo", "present subjunctive"),
    SUBJ_IMPF: ("imperfecto de subjuntivo", "imperfect subjunctive"),
    PLUP: ("pluscuamperfecto", "pluperfect"),
    IMP: ("imperativo", "imperative"),
}
# What a learner writes to leave an exercise (a command or the "leave" button also does). Not "stop" or
# "parar": those stop reminders (espaluz.whatsapp.consent), as WhatsApp users expect.
LEAVE_WORDS = frozenset(
    {"salir", "basta", "dejar", "dejalo", "terminar", "fin", "no quiero", "stop drills",
     "exit", "quit", "leave", "enough", "no more", "no mas"}
)  # fmt: skip
# A learner who says they are lost: inside an exercise that asks for a hint, outside it for the menu.
CONFUSED_WORDS = frozenset(
    {"no entiendo", "no lo entiendo", "no entendi", "no comprendo", "no te entiendo", "estoy confundido",
     "estoy confundida", "que hago", "que tengo que hacer", "como funciona", "i don't understand",
     "i don’t understand", "i dont understand", "i do not understand", "i'm confused", "im confused",
     "confused", "what do i do", "what do i have to do", "how does this work", "i'm lost", "im lost"}
)  # fmt: skip
HINT_WORDS = frozenset({"pista", "hint", "ayuda", "help", "ayudame", "clue", "una pista"}) | CONFUSED_WORDS
GIVE_UP_WORDS = frozenset(
    {"no se", "no lo se", "ni idea", "me rindo", "no tengo idea", "i don't know", "i dont know", "idk",
     "no idea", "i give up", "respuesta", "answer", "ver respuesta", "show answer"}
)  # fmt: skip
# Words that only appear in English messages: a one- to three-word message holding one is not an answer.
_ENGLISH = frozenset(
    {"the", "is", "are", "what", "how", "why", "who", "where", "when", "yes", "ok", "okay", "thanks",
     "thank", "you", "please", "sorry", "hello", "hi", "hey", "i", "it", "this", "that", "my", "me",
     "do", "does", "don't", "can", "cool", "nice", "great", "lol", "wait", "again", "later", "and", "or"}
)  # fmt: skip
_SPANISH_SMALL_TALK = frozenset(
    {"hola", "gracias", "vale", "si", "claro", "buenas", "adios", "chao", "genial", "bien", "perfecto",
     "de acuerdo", "muchas gracias", "buenos dias", "buenas tardes", "buenas noches", "jaja", "jajaja"}
)  # fmt: skip
_PRONOUNS = frozenset({"yo", "tu", "vos", "el", "ella", "usted", "nosotros", "nosotras", "vosotros",
                       "vosotras", "ellos", "ellas", "ustedes"})  # fmt: skip
ANSWER_PREFIX = "ans:"
SENTENCE_TYPES = frozenset({"translation", "listening", "word_order"})  # answered with a whole sentence
MAX_WAITS = 1  # messages answered for what they are while an exercise stays open; the next one drops it


@dataclass(frozen=True, slots=True)
class Checked:
    """The engine's verdict on an answer, with the line that explains it to the learner."""

    attempt: Attempt
    line: str
    correct: bool


@dataclass(frozen=True)
class Course:
    """What the next exercise depends on besides the learner and the conversation: their skill cards
    (the processor reads them; empty for a new learner or when the database is away), the time (for
    due reviews), and whether the voice path is set up (only then is a speaking exercise asked)."""

    skills: Mapping[str, CardStatus] = field(default_factory=dict)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    voice: bool = False


def lesson_of(state: ConversationState) -> dict[str, Any]:
    """The lesson under way, kept with the conversation: its unit, the answers so far (``step``) and how
    many were right, how many new items were asked (the types are taken in turn) and how many exercises
    since the last review."""
    lesson = state.extra.get("lesson")
    if not isinstance(lesson, dict):
        lesson = state.extra["lesson"] = {"unit": "", "step": 0, "right": 0}
    for counter in ("asked", "since_review"):  # lessons saved before these counters existed lack them
        lesson.setdefault(counter, 0)
    return lesson


def ask(state: ConversationState, level: str, language: str, rng: random.Random, course: Course) -> Exercise:
    """Open the lesson's next exercise in ``state`` and return it (:func:`question_text` shows it). A
    speaking exercise opens ``state.pending_pronunciation`` (the voice path grades it), the others
    ``state.pending``."""
    lesson = lesson_of(state)  # new items take the types in turn (skipped ones count; reviews do not)
    ex, review = next_exercise(
        load(), level, course.skills, lesson["asked"], rng, course.now,
        since_review=lesson["since_review"], voice=course.voice,
    )  # fmt: skip
    lesson["asked"] += 0 if review else 1
    lesson["since_review"] = 0 if review else lesson["since_review"] + 1
    if ex.type == "speaking":
        state.pending, state.pending_pronunciation = None, ex.say
    else:
        state.pending = PendingDrill(
            verb=ex.verb, tense=ex.tense, person=ex.person, expected=list(ex.accepted),
            prompt=ex.content or ex.instruction["es"], skill=ex.skill,
            options=list(ex.options) if ex.type == "choice" else [],  # a word order's words are no options
            exercise=ex.to_json(), review=review,
        )  # fmt: skip
    return ex


def question_text(ex: Exercise, state: ConversationState, level: str, language: str, course: Course) -> str:
    """The exercise as the learner reads it: the unit and step (and a word when a unit was just
    completed), whether it is a review, the instruction and the content."""
    syl = load()
    lesson = lesson_of(state)
    unit = syl.unit(ex.unit)
    here = current_unit(syl, level, course.skills).unit
    lines = []
    done = lesson["unit"]  # an id no longer in the syllabus (data changed since) is simply forgotten
    known = done in {u.unit for u in syl.units}
    if known and done != here.unit and progress(syl, syl.unit(done), course.skills).done:
        es = f"¡Unidad {done} completada! Empiezas la {here.unit}: *{here.title['es']}*."
        lines.append("🔓 " + tr(language, es, f"Unit {done} done! Now unit {here.unit}: {here.title['en']}."))
    lesson["unit"] = here.unit
    title = unit.title["es"] if language == "es" else f"{unit.title['es']} ({unit.title['en']})"
    step = f"{min(lesson['step'] + 1, LESSON_SIZE)}/{LESSON_SIZE}"
    review = state.pending is not None and state.pending.review
    lines.append(
        f"📘 {unit.unit} · {title} · {step}"
        + (" · 🔁 " + inline(language, "repaso", "review") if review else "")
    )
    lines.append(tr(language, ex.instruction["es"], ex.instruction["en"]))
    if ex.content:
        lines.append(ex.content)
    return "\n\n".join(lines)


def _level(level: str) -> str:
    return level if level in LEVELS else "A1"


def shown(prompt: str) -> str:
    """A fill-in sentence with its blank visible in WhatsApp (underscores would turn into italics)."""
    return prompt.replace("___", "……")


def _as_buttons(options: list[str] | tuple[str, ...]) -> bool:
    """Whether the options fit WhatsApp's reply buttons (at most three, titles of 20 characters)."""
    return 0 < len(options) <= 3 and all(len(o) <= 20 for o in options)


def question_reply(text: str, pending: PendingDrill | None, language: str) -> Reply:
    """The question with its interactive part: a choice's options as buttons (their ids carry the option)
    or, when they do not fit buttons, as a WhatsApp list; otherwise a hint and a way out."""
    options = pending.options if pending is not None else []
    if options and not _as_buttons(options):
        rows = tuple(ListRow(f"{ANSWER_PREFIX}{o}", o[:24]) for o in options[:10])
        return Reply(text, rows=rows, list_button="Ver opciones" if language == "es" else "See options")
    return Reply(text, buttons=question_buttons(pending, language))


def question_buttons(pending: PendingDrill | None, language: str) -> tuple[Button, ...]:
    """Options of a choice exercise as buttons (their ids carry the option), else a hint and a way out."""
    if pending is not None and _as_buttons(pending.options):
        return tuple(Button(f"{ANSWER_PREFIX}{o}", o) for o in pending.options)
    if pending is None:  # a speaking exercise: the answer is a voice note
        return (Button("practice", "Otro ejercicio" if language == "es" else "Another one"),
                Button("leave", "Salir" if language == "es" else "Leave exercise"))  # fmt: skip
    return (
        Button("hint", "Pista" if language == "es" else "Hint"),
        Button("leave", "Salir" if language == "es" else "Leave exercise"),
    )


def after_buttons(language: str) -> tuple[Button, ...]:
    return (
        Button("practice", "Otro ejercicio" if language == "es" else "Another one"),
        Button("leave", "Salir" if language == "es" else "Leave exercise"),
    )


def answer_of(text: str, reply_id: str | None) -> str:
    """What the learner answered: a chosen option, or the typed words (lower case, accents kept) without
    a leading subject pronoun ("yo tengo" -> "tengo")."""
    if reply_id and reply_id.startswith(ANSWER_PREFIX):
        return reply_id[len(ANSWER_PREFIX) :]
    words = [w.strip(".,;:!¡?¿\"'*_") for w in text.lower().split()]
    words = [w for w in words if w]
    if len(words) >= 2 and fold(words[0]) in _PRONOUNS:
        words = words[1:]
    return " ".join(words)


def is_attempt(pending: PendingDrill, text: str, reply_id: str | None) -> bool:
    """Whether a message is an answer to the open exercise, rather than something else said meanwhile.

    An answer is a chosen option, or one to three words (after an optional subject pronoun) that are the
    expected form, a form of some Spanish verb, a near miss of the expected form, or a word the learner
    could have meant as the answer; never a question, an emoji, a greeting or thanks, an English phrase,
    or a sentence, unless it is the expected answer itself (the Spanish for "hello" is "hola")."""
    if reply_id:
        return reply_id.startswith(ANSWER_PREFIX)
    folded = fold(text)
    answer = fold(answer_of(text, None))
    expected = [fold(e) for e in pending.expected] + [fold(o) for o in pending.options]
    if answer and answer in expected:  # before the small-talk filters: "hola" or "sí" may be the answer
        return True
    kind = pending.exercise.get("type", "")
    if kind in SENTENCE_TYPES:  # a sentence that shares half its words with an accepted answer
        return _overlap(text, pending.expected) >= 0.5
    if kind == "vocabulary" and pending.exercise.get("direction") == "to_en":  # an English word
        return (
            bool(folded)
            and "?" not in text
            and len(folded.split(" ")) <= 4
            and folded not in _SPANISH_SMALL_TALK
        )
    if not folded or "?" in text or not any(ch.isalpha() for ch in folded):
        return False
    words = folded.split(" ")
    if len(words) > 3 or folded in _SPANISH_SMALL_TALK or any(w in _ENGLISH for w in words):
        return False
    if any(_near(answer, e) for e in expected):
        return True
    if all(readings(w) for w in answer.split(" ")):
        return True  # forms of real verbs: a wrong answer, still an answer
    return len(words) == 1  # one unknown word in reply to a question: a guess


def _overlap(text: str, accepted: list[str]) -> float:
    """The largest share of an accepted answer's words that the message contains (accents aside)."""
    said = set(words_of(text).split())
    shares = [len(said & set(ws)) / len(ws) for ws in (words_of(a).split() for a in accepted) if ws]
    return max(shares, default=0.0)


def _near(a: str, b: str) -> bool:
    """A typo of ``b``: at most one edit for short words, two for longer ones."""
    if abs(len(a) - len(b)) > 2:
        return False
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1] <= (1 if len(b) <= 5 else 2)


def check(
    pending: PendingDrill, text: str, reply_id: str | None, level: str, dialect: str, language: str
) -> Checked:
    """The verdict on the learner's answer, explained: a course exercise by the course's checker (the
    engine's corrections of their sentence, the person or tense of their form, the word's meaning), a
    review of a past mistake by the drill checker."""
    if pending.exercise:
        ex = Exercise.from_json(pending.exercise)
        given = (
            reply_id[len(ANSWER_PREFIX) :]
            if reply_id and reply_id.startswith(ANSWER_PREFIX)
            else text.strip()
        )
        v = answers.check(ex, given, dialect)
        verdict = {"right": "correct", "almost": "accent"}.get(v.verdict, "wrong")
        if v.verdict == "right":
            shown_answer = f" *{v.expected}*" if ex.type in SENTENCE_TYPES else ""
            line = "✅ " + tr(language, f"¡Correcto!{shown_answer}", "Right!")
        else:
            mark = "✅" if v.verdict == "almost" else "❌"
            line = f"{mark} " + tr(language, v.reason.get("es", ""), v.reason.get("en", ""))
        attempt = Attempt(ex.skill, pending.prompt, "|".join(ex.accepted[:3]), given, verdict)
        return Checked(attempt, line, v.correct)
    answer = answer_of(text, reply_id)
    drill = Drill(
        id=pending.drill_id or f"conj:{pending.verb}:{pending.tense}:{pending.person}",
        skill=pending.skill or f"conjugation:{pending.tense}",
        level=_level(level),
        prompt=pending.prompt,
        answers=tuple(pending.expected),
        verb=pending.verb,
        tense=pending.tense,
        person=pending.person,
    )
    result: AnswerCheck = check_answer(drill, answer, dialect if dialect in _DIALECTS else "latam")
    verdict = {"right": "correct", "accent": "accent"}.get(result.verdict, "wrong")
    if result.verdict == "right":
        line = "✅ " + tr(language, f"¡Correcto! *{answer}*.", "Right!")
    else:  # the engine's diagnosis: the accent, or which person, tense or verb the learner's form is
        mark = "✅" if result.verdict == "accent" else "❌"
        line = f"{mark} " + tr(language, result.message_for("es"), result.message_for("en"))
    attempt = Attempt(
        skill=drill.skill,
        prompt=pending.prompt,
        expected="|".join(pending.expected),
        answer=answer,
        verdict=verdict,
    )
    return Checked(attempt, line, result.correct)


_DIALECTS = ("latam", "spain", "rioplatense")


def hint(pending: PendingDrill, language: str) -> str:
    """The next hint for the open exercise: first the verb, person and tense with the first letter;
    then the answer itself (and the exercise closes)."""
    first = pending.expected[0][:1]
    if pending.hints == 0:
        pending.hints = 1
        if pending.verb:
            es_tense, en_tense = TENSE_NAMES.get(pending.tense, (pending.tense, pending.tense))
            pronoun = PERSON_PRONOUNS.get(pending.person, pending.person)
            return "💡 " + tr(
                language,
                f"Pista: el verbo es *{pending.verb}*, con *{pronoun}*, en {es_tense}. "
                f"Empieza por *{first}…*",
                f"Hint: the verb is {pending.verb}, with {pronoun}, in the {en_tense}; it starts with "
                f"“{first}”.",
            )
        if pending.exercise.get("type") in SENTENCE_TYPES:
            words = pending.expected[0].split()
            return "💡 " + tr(
                language,
                f"Pista: la frase empieza por *{words[0]}…* y tiene {len(words)} palabras.",
                f"Hint: the sentence starts with “{words[0]}” and has {len(words)} words.",
            )
        return "💡 " + tr(
            language,
            f"Pista: la respuesta empieza por *{first}…* y tiene {len(pending.expected[0])} letras.",
            f"Hint: the answer starts with “{first}” and has {len(pending.expected[0])} letters.",
        )
    return reveal(pending, language)


def reveal(pending: PendingDrill, language: str) -> str:
    answers = ", ".join(f"*{e}*" for e in pending.expected[:3])
    return "👉 " + tr(language, f"La respuesta es {answers}.", f"The answer is {answers.replace('*', '')}.")


def is_expected(pending: PendingDrill, text: str) -> bool:
    """The message is the exercise's answer itself ("salir" to *Quiero …… (salir) esta noche*)."""
    return fold(answer_of(text, None)) in {fold(e) for e in pending.expected}


def wants_to_leave(text: str, reply_id: str | None) -> bool:
    return reply_id == "leave" if reply_id else fold(text) in LEAVE_WORDS


def wants_hint(text: str, reply_id: str | None) -> bool:
    return reply_id == "hint" if reply_id else fold(text) in HINT_WORDS


def gives_up(text: str, reply_id: str | None) -> bool:
    return reply_id == "reveal" if reply_id else fold(text) in GIVE_UP_WORDS


def left_note(language: str) -> str:
    return tr(
        language,
        "Vale, dejamos el ejercicio. Escribe *practicar* cuando quieras otro, o cuéntame algo en español.",
        "OK, no more exercises for now. Write “practicar” for another one, or just tell me something in "
        "Spanish.",
    )


def waiting_note(pending: PendingDrill, language: str) -> str:
    """The line under an answer given while an exercise is open: it still waits, or it was dropped."""
    if pending.waits <= MAX_WAITS:
        return "📝 " + tr(
            language,
            f"Tu ejercicio sigue abierto: {shown(pending.prompt)} (escribe *salir* para dejarlo).",
            "Your exercise is still open (write “salir” to drop it).",
        )
    return "📝 " + tr(
        language,
        "He dejado el ejercicio para luego; escribe *practicar* cuando quieras.",
        "I put the exercise aside; write “practicar” whenever you want one.",
    )


def unit_status(level: str, language: str, course: Course) -> str:
    """The learner's unit: its goals, how much of it is learnt, and how many reviews are due."""
    syl = load()
    here = current_unit(syl, level, course.skills)
    unit = here.unit
    title = unit.title["es"] if language == "es" else f"{unit.title['es']} ({unit.title['en']})"
    goals = "\n".join(f"• {inline(language, g['es'], g['en'])}" for g in unit.can_do)
    due = len(due_reviews(syl, unit, course.skills, course.now))
    figures = tr(
        language,
        f"Gramática: {len(here.points_done)}/{len(unit.grammar)} · Palabras: {here.words_done}/"
        f"{here.words_needed} · Repasos pendientes: {due}",
        f"Grammar: {len(here.points_done)}/{len(unit.grammar)} · Words: {here.words_done}/{here.words_needed}"
        f" · Reviews due: {due}",
    )
    return f"📘 *{unit.unit} · {title}*\n{goals}\n{figures}"


def lesson_summary(state: ConversationState, level: str, language: str, course: Course) -> str:
    """The end of a lesson: how it went and where the learner stands in their unit; the next lesson
    starts from step one."""
    lesson = lesson_of(state)
    right, done = lesson["right"], lesson["step"]
    state.extra["lesson"] = {**lesson, "step": 0, "right": 0}
    head = "🎉 " + tr(
        language, f"¡Lección terminada! {right} de {done} bien.", f"Lesson done: {right} of {done} right."
    )
    tail = tr(
        language,
        "Escribe *practicar* para la siguiente lección, o *progreso* para ver tu avance.",
        "Write “practicar” for the next lesson, or “progreso” to see your progress.",
    )
    return f"{head}\n\n{unit_status(level, language, course)}\n\n{tail}"
