"""Exercises inside a conversation: asking one at the learner's level and in their dialect, telling an
answer from everything else, checking it with the Spanish engine, hints, and leaving.

Why this exists: the first tutor graded every message that followed ``practicar`` as an answer to the
open drill ("Yo soy cansado" got "La forma correcta es *vivía*"), so a learner who wandered off was
trapped in drills and their sentences went into progress, memory and reviews as wrong answers. Here a
pending exercise captures only what looks like an answer to it (:func:`is_attempt`); everything else is
answered for what it is by the rest of the tutor, and the exercise waits once and is then dropped with a
word (:func:`waiting_note`). Only real attempts produce an :class:`Attempt`.

Exercises come from two sources, both at or below the learner's CEFR level: the engine's drill bank
(fill-in sentences, :mod:`espaluz.spanish.drills`) and conjugation questions built from the conjugator
with verbs and tenses chosen per level (:data:`LEVEL_TENSES`, :data:`LEVEL_VERBS`). Persons follow the
dialect: *vosotros* only for Spain, *vos* instead of *tú* for Rioplatense learners.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from espaluz.spanish.conjugation import PERSON_PRONOUNS, conjugate_table
from espaluz.spanish.drills import LEVELS, AnswerCheck, Drill, all_drills, check_answer
from espaluz.spanish.verb_index import readings
from espaluz.tutor.commands.texts import fold, tr
from espaluz.tutor.state import ConversationState, PendingDrill
from espaluz.tutor.turn import Attempt
from espaluz.whatsapp.outgoing import Button

P, PRET, IMPF, FUT = "indicative.present", "indicative.preterite", "indicative.imperfect", "indicative.future"
COND, PERF, SUBJ = "conditional.present", "indicative.present_perfect", "subjunctive.present"
SUBJ_IMPF, PLUP, IMP = "subjunctive.imperfect", "indicative.pluperfect", "imperative.affirmative"

# Tenses a learner meets by level (from B2 on the present is left out: it is known by then).
LEVEL_TENSES: dict[str, tuple[str, ...]] = {
    "A1": (P,),
    "A2": (P, PRET, IMPF, PERF),
    "B1": (P, PRET, IMPF, PERF, FUT, COND, SUBJ),
    "B2": (PRET, IMPF, FUT, COND, SUBJ, SUBJ_IMPF, PLUP),
    "C1": (PRET, IMPF, FUT, COND, SUBJ, SUBJ_IMPF, PLUP),
}
_A1_VERBS = (
    "ser", "estar", "tener", "ir", "hacer", "querer", "poder", "hablar", "comer", "vivir", "trabajar",
    "estudiar", "beber", "escribir", "leer", "necesitar", "llegar", "abrir", "comprar", "cocinar",
)  # fmt: skip
_A2_VERBS = (
    "dormir", "pedir", "jugar", "volver", "pensar", "empezar", "poner", "salir", "venir", "decir", "ver",
    "dar", "saber", "conocer", "traer", "buscar", "pagar", "entender", "cerrar", "viajar",
)  # fmt: skip
_B1_VERBS = (
    "conducir", "oír", "seguir", "sentir", "traducir", "construir", "caber", "valer", "mentir", "elegir",
    "recordar", "resolver", "perder", "ofrecer", "mover", "contar", "preferir", "repetir",
)  # fmt: skip
_B2_VERBS = (
    "satisfacer", "bendecir", "prever", "proponer", "mantener", "deducir", "advertir", "huir", "reír",
    "sugerir", "convencer", "distinguir", "producir", "obtener", "atraer", "intervenir",
)  # fmt: skip
LEVEL_VERBS: dict[str, tuple[str, ...]] = {
    "A1": _A1_VERBS,
    "A2": _A1_VERBS + _A2_VERBS,
    "B1": _A2_VERBS + _B1_VERBS,
    "B2": _A2_VERBS + _B1_VERBS + _B2_VERBS,
    "C1": _A2_VERBS + _B1_VERBS + _B2_VERBS,
}
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
BANK_SHARE = 0.5  # how often a fill-in sentence from the drill bank is asked instead of a bare conjugation

# What a learner writes to leave an exercise (a command or the "leave" button also does). Not "stop" or
# "parar": those stop reminders (espaluz.whatsapp.consent), as WhatsApp users expect.
LEAVE_WORDS = frozenset(
    {"salir", "basta", "dejar", "dejalo", "terminar", "fin", "no quiero", "stop drills",
     "exit", "quit", "leave", "enough", "no more", "no mas"}
)  # fmt: skip
HINT_WORDS = frozenset({"pista", "hint", "ayuda", "help", "ayudame", "clue", "una pista"})
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
MAX_WAITS = 1  # messages answered for what they are while an exercise stays open; the next one drops it


@dataclass(frozen=True, slots=True)
class Checked:
    """The engine's verdict on an answer, with the line that explains it to the learner."""

    attempt: Attempt
    line: str
    correct: bool


def persons_for(dialect: str) -> tuple[str, ...]:
    """The persons drilled in a dialect: *vosotros* only in Spain, *vos* for *tú* in the Río de la Plata."""
    second = "vos" if dialect == "rioplatense" else "2s"
    persons = ["1s", second, "3s", "1p", "3p"]
    if dialect == "spain":
        persons.insert(4, "2p")
    return tuple(persons)


def forms_of(verb: str, tense: str, person: str) -> tuple[str, ...]:
    """The accepted forms; *vos* takes the *tú* forms where it has none of its own (preterite...)."""
    persons = conjugate_table(verb).forms.get(tense, {})
    return tuple(persons.get(person) or (persons.get("2s", ()) if person == "vos" else ()))


def _level(level: str) -> str:
    return level if level in LEVELS else "A1"


def bank_drills(level: str) -> list[Drill]:
    """Drill-bank items at or below ``level``."""
    upto = LEVELS[: LEVELS.index(_level(level)) + 1]
    return [d for d in all_drills() if d.level in upto]


def distinct_exercises(level: str, dialect: str = "latam") -> int:
    """How many different exercises a learner at ``level`` can be asked (bank items + conjugations)."""
    persons = persons_for(dialect)
    conj = sum(
        1
        for verb in LEVEL_VERBS[_level(level)]
        for tense in LEVEL_TENSES[_level(level)]
        for person in persons
        if forms_of(verb, tense, person)
    )
    return conj + len(bank_drills(level))


def ask(state: ConversationState, level: str, dialect: str, language: str, rng: random.Random) -> str:
    """Open a new exercise in ``state.pending`` and return its text (the question)."""
    pool = bank_drills(level)
    if pool and rng.random() < BANK_SHARE:
        drill = rng.choice(pool)
        skill = f"conjugation:{drill.tense}" if drill.tense else drill.skill
        pending = PendingDrill(
            verb=drill.verb, tense=drill.tense, person=drill.person, expected=list(drill.answers),
            prompt=drill.prompt, drill_id=drill.id, skill=skill, options=list(drill.options),
        )  # fmt: skip
        if drill.options:
            how = tr(language, "Elige la opción correcta:", "Choose the right option.")
            if not _as_buttons(drill.options):  # more than WhatsApp's three buttons hold: listed
                how += "\n" + " / ".join(f"*{o}*" for o in drill.options)
        else:
            how = tr(language, "Escribe la palabra que falta:", "Write the missing word.")
        body = f"{shown(drill.prompt)}\n\n{how}"
    else:
        lv = _level(level)
        while True:
            verb, tense = rng.choice(LEVEL_VERBS[lv]), rng.choice(LEVEL_TENSES[lv])
            person = rng.choice(persons_for(dialect))
            forms = forms_of(verb, tense, person)
            if forms:
                break
        es_tense, en_tense = TENSE_NAMES[tense]
        pronoun = PERSON_PRONOUNS[person]
        prompt = f"¿Cómo se conjuga *{verb}* en {es_tense} con *{pronoun}*?"
        pending = PendingDrill(
            verb=verb, tense=tense, person=person, expected=list(forms), prompt=prompt,
            skill=f"conjugation:{tense}",
        )  # fmt: skip
        blank = f"_{pronoun.split('/')[0]}_ ____"
        how = tr(language, f"Escribe la forma: {blank}", f"Conjugate {verb} ({en_tense}) for {pronoun}.")
        body = f"{prompt}\n\n{how}"
    state.pending = pending
    return body


def shown(prompt: str) -> str:
    """A fill-in sentence with its blank visible in WhatsApp (underscores would turn into italics)."""
    return prompt.replace("___", "……")


def _as_buttons(options: list[str] | tuple[str, ...]) -> bool:
    """Whether the options fit WhatsApp's reply buttons (at most three, titles of 20 characters)."""
    return 0 < len(options) <= 3 and all(len(o) <= 20 for o in options)


def question_buttons(pending: PendingDrill, language: str) -> tuple[Button, ...]:
    """Options of a choice exercise as buttons (their ids carry the option), else a hint and a way out."""
    if _as_buttons(pending.options):
        return tuple(Button(f"{ANSWER_PREFIX}{o}", o) for o in pending.options)
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
    or a sentence."""
    if reply_id:
        return reply_id.startswith(ANSWER_PREFIX)
    folded = fold(text)
    if not folded or "?" in text or not any(ch.isalpha() for ch in folded):
        return False
    words = folded.split(" ")
    if len(words) > 3 or folded in _SPANISH_SMALL_TALK or any(w in _ENGLISH for w in words):
        return False
    answer = fold(answer_of(text, None))
    expected = [fold(e) for e in pending.expected] + [fold(o) for o in pending.options]
    if answer in expected or any(_near(answer, e) for e in expected):
        return True
    if all(readings(w) for w in answer.split(" ")):
        return True  # forms of real verbs: a wrong answer, still an answer
    return len(words) == 1  # one unknown word in reply to a question: a guess


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


def check(pending: PendingDrill, answer: str, level: str, dialect: str, language: str) -> Checked:
    """The engine's verdict on ``answer``, explained by what it knows (which person and tense the
    learner's form is, the accent, the verb it belongs to)."""
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
        return "💡 " + tr(
            language,
            f"Pista: la respuesta empieza por *{first}…* y tiene {len(pending.expected[0])} letras.",
            f"Hint: the answer starts with “{first}” and has {len(pending.expected[0])} letters.",
        )
    return reveal(pending, language)


def reveal(pending: PendingDrill, language: str) -> str:
    answers = ", ".join(f"*{e}*" for e in pending.expected)
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
