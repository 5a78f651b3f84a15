"""Onboarding a new learner: explanation language, level (quick test or self-choice), target dialect,
goal, consent to reminders (a yes is confirmed with the hour and zone they will come at: 19:00 in the
phone number's country zone until changed in "perfil"). One message per step, each with reply buttons
or a list.

The step lives in ``state.extra["onboarding"]`` (``step``, ``prompted``, ``misses``, ``lang``); every
answer is written to the learner row at once (``profile.set_*``), so an abandoned onboarding keeps what
was answered. ``profile.mark_onboarded`` ends it (finished or skipped with "saltar"/"skip").

Answers come as list/button ids ``onb:<step>:<value>`` or typed (the option's title or code; at the
level step also inside a short message: "I'm a beginner", "soy principiante"). An id of another step (an
old message) or an unknown value is not applied: the open step is asked again.

The questions never trap a learner who writes to the tutor instead of answering (:func:`free_message`):
once a step was asked, a sentence that is no option is left to the rest of the tutor (a Spanish sentence
is corrected, a question answered) and the step stays open for its buttons. At the language step a
sentence in English answers it (:func:`written_language`): the learner has just shown which language
they read; a Spanish one does not, since writing Spanish is what a learner of any language does here.

The explanation languages are ``profile.LANGUAGES`` (Spanish, English): Portuguese is not offered, since
nothing is written in it. The level step offers the placement test (``level``: it starts at A1 and
climbs), a level from the list, or "from zero"; "saltar" during the test leaves the test only. Changing
one answer later is the "perfil" command's job (``profile_menu``), which never comes back here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from espaluz.llm.guard import language_of
from espaluz.text import words
from espaluz.tutor.commands import level as levels
from espaluz.tutor.commands import profile as profiles
from espaluz.tutor.commands import profile_menu
from espaluz.tutor.commands.profile import DIALECTS, GOALS, LANGUAGES, LEVELS
from espaluz.tutor.commands.texts import both, fold, tr
from espaluz.whatsapp.outgoing import Button, ListRow, Reply

if TYPE_CHECKING:
    from uuid import UUID

    import psycopg

    from espaluz.storage.learners import Learner
    from espaluz.tutor.state import ConversationState

KEY = "onboarding"
PREFIX = "onb:"
STEPS: tuple[str, ...] = ("language", "level", "dialect", "goals", "reminders")
MAX_MISSES = 2  # after this many unrelated messages the tutor answers them instead of asking again
SKIP_WORDS = frozenset({"saltar", "skip", "omitir", "luego", "later", "mas tarde", "despues"})
_TAG = {"language": "lang", "level": "level", "dialect": "dialect", "goals": "goal", "reminders": "remind"}
_STEP_OF_TAG = {tag: step for step, tag in _TAG.items()}

_LEVEL_WORDS = {
    "test": {"test", "test rapido", "quick test", "examen", "hacer test", "hacer el test"},
    "pick": {"pick", "elegir", "choose", "ya se mi nivel", "i know my level"},
    "A1": {"empiezo de cero", "de cero", "cero", "principiante", "beginner", "from scratch"},
}
_LEVEL_IN_SENTENCE = 6  # words: a message this short that names a level word answers the level step
FREE_MESSAGE_WORDS = 4  # words: a message this long that is no option is written to the tutor
_YES = {"si", "yes", "vale", "ok", "claro", "si, recuerdame", "sure"}
_NO = {"no", "no, gracias", "no gracias", "no thanks", "nope"}


@dataclass(frozen=True, slots=True)
class Choice:
    step: str
    value: str


class Stale(Exception):
    """An onboarding id of another step, or with a value the step does not offer."""


def current(state: ConversationState) -> dict[str, Any] | None:
    raw = state.extra.get(KEY)
    return raw if isinstance(raw, dict) and raw.get("step") in STEPS else None


def begin(state: ConversationState, language: str) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "step": STEPS[0],
        "prompted": False,
        "misses": 0,
        "lang": profiles.explanation_language(language),
    }
    state.extra[KEY] = raw
    return raw


def parse(step: str, text: str, reply_id: str | None) -> Choice | None:
    """The learner's choice for ``step``; None when the message is not one. Raises ``Stale`` for an
    onboarding id that does not fit the open step."""
    if reply_id:
        if not reply_id.startswith(PREFIX):
            return None
        tag, _, value = reply_id[len(PREFIX) :].partition(":")
        if _STEP_OF_TAG.get(tag) != step or not _valid(step, value):
            raise Stale(reply_id)
        return Choice(step, value)
    said = fold(text)
    if not said:
        return None
    typed = _typed(step, said)
    return Choice(step, typed) if typed else None


def _valid(step: str, value: str) -> bool:
    return {
        "language": value in LANGUAGES,
        "level": value in LEVELS or value in ("test", "pick"),
        "dialect": value in DIALECTS,
        "goals": value in GOALS,
        "reminders": value in ("yes", "no"),
    }[step]


def _typed(step: str, said: str) -> str | None:
    if step == "language":
        code = profiles.language_of_words(said) or _language_in_words(words(said))
        return code if code in LANGUAGES else None  # Portuguese is not offered: asked again
    if step == "level":
        if lv := levels.parse_level(said):
            return lv
        exact = next((v for v, phrases in _LEVEL_WORDS.items() if said in phrases), None)
        return exact or _level_in_sentence(words(said))
    if step == "dialect":
        return profiles.dialect_of_words(said)
    if step == "goals":
        for code, (es, en) in GOALS.items():
            if said in (code, fold(es), fold(en)):
                return code
        return None
    if said in _YES:
        return "yes"
    return "no" if said in _NO else None


def _language_in_words(said: str) -> str | None:
    """The one language named in a message of up to three words ("English please", "en español"); the
    two-letter codes do not count inside a message (*en* is a Spanish word)."""
    tokens = said.split()
    if len(tokens) > 3:
        return None
    named = {
        code for code, names in profiles.LANGUAGE_WORDS.items() for t in tokens if t in names and len(t) > 2
    }
    return named.pop() if len(named) == 1 else None


def _level_in_sentence(said: str) -> str | None:
    """A level word inside a short message ("I'm a beginner", "creo que soy principiante", "quiero hacer
    el test"), matched as whole words; when several match, the longest phrase decides."""
    if not said or len(said.split()) > _LEVEL_IN_SENTENCE:
        return None
    padded = f" {said} "
    found = [(len(p), v) for v, phrases in _LEVEL_WORDS.items() for p in phrases if f" {p} " in padded]
    return max(found)[1] if found else None


def free_message(text: str) -> bool:
    """Whether ``text`` (no option of the open step) is a message to the tutor rather than a missed
    option: ``FREE_MESSAGE_WORDS`` words or more, or a question. Options are one to three words."""
    return len(words(text).split()) >= FREE_MESSAGE_WORDS or "?" in text


def written_language(text: str) -> str | None:
    """``"en"`` when ``text`` is a free message written in English (``espaluz.llm.guard.language_of``,
    the tutor's one language guesser), else None (see the module docstring for why not Spanish)."""
    return "en" if free_message(text) and language_of(text) == "en" else None


def prompt(step: str, language: str, learner: Learner, *, lead: str = "") -> Reply:
    """The message that asks ``step`` (``lead``: a line before it, e.g. the last answer confirmed)."""
    head = f"{lead}\n\n" if lead else ""
    if step == "language":
        name = (learner.display_name or "").strip().split(" ")[0][:30]  # a profile name is untrusted
        hello = f"¡Hola, {name}! 👋" if name else "¡Hola! 👋"
        text = both(
            f"{hello} Soy *Espaluz*, tu tutor de español en WhatsApp. Unas preguntas rápidas para "
            "conocerte (escribe *saltar* para omitirlas).\n\n¿En qué idioma quieres las explicaciones?",
            "I'm Espaluz, your Spanish tutor. A few quick questions first (write *skip* to skip them). "
            "Which language should I explain things in?",
        )
        return Reply(
            head + text,
            buttons=tuple(Button(f"{PREFIX}lang:{code}", title) for code, title in LANGUAGES.items()),
        )
    if step == "level":
        text = tr(language, "¿Cuál es tu nivel de español?", "What is your Spanish level?")
        return Reply(
            head + text,
            buttons=(
                Button(f"{PREFIX}level:test", "Test rápido"),
                Button(f"{PREFIX}level:pick", "Ya sé mi nivel"),
                Button(f"{PREFIX}level:A1", "Empiezo de cero"),
            ),
        )
    if step == "dialect":
        text = tr(
            language,
            "¿Qué español quieres aprender? Elige un país o región: adapto el vocabulario y la cultura.",
            "Which Spanish do you want to learn? I adapt vocabulary and culture to it.",
        )
        rows = tuple(ListRow(f"{PREFIX}dialect:{c}", t, d) for c, (t, d) in DIALECTS.items())
        return Reply(head + text, list_button="Elegir país", rows=rows)
    if step == "goals":
        text = tr(language, "¿Para qué quieres aprender español?", "What do you want Spanish for?")
        rows = tuple(ListRow(f"{PREFIX}goal:{c}", es, en) for c, (es, en) in GOALS.items())
        return Reply(head + text, list_button="Elegir objetivo", rows=rows)
    text = tr(
        language,
        "Última pregunta: ¿te mando un recordatorio para practicar si pasa un día sin que me escribas?",
        "Last one: may I remind you to practise when a day goes by without a message?",
    )
    return Reply(
        head + text,
        buttons=(
            Button(f"{PREFIX}remind:yes", "Sí, recuérdame"),
            Button(f"{PREFIX}remind:no", "No, gracias"),
        ),
    )


def level_list(language: str) -> Reply:
    text = tr(language, "Elige tu nivel:", "Pick your level:")
    return Reply(text, list_button="Elegir nivel", rows=levels.level_rows(f"{PREFIX}level:"))


def apply(conn: psycopg.Connection[Any], learner_id: UUID, choice: Choice, language: str) -> str:
    """Store the answer on the learner; returns the confirmation line (in ``language``, or in the language
    just chosen)."""
    step, value = choice.step, choice.value
    if step == "language":
        profiles.set_native_language(conn, learner_id, value)
        return profile_menu.language_set_line(value)
    if step == "level":
        profiles.set_level(conn, learner_id, value)
        return "✅ " + levels.level_changed(language, value)
    if step == "dialect":
        profiles.set_dialect(conn, learner_id, value)
        return tr(language, f"✅ Variante: *{DIALECTS[value][0]}*.", f"Variety: {DIALECTS[value][0]}.")
    if step == "goals":
        profiles.set_goals(conn, learner_id, [value])
        return tr(language, f"✅ Objetivo: *{GOALS[value][0]}*.", f"Goal: {GOALS[value][1]}.")
    # a yes says at what time and in which zone the reminders come, and that "perfil" changes them
    return profile_menu.consent_to_reminders(conn, learner_id, value == "yes", language)


def next_step(step: str) -> str | None:
    i = STEPS.index(step)
    return STEPS[i + 1] if i + 1 < len(STEPS) else None


def finished(language: str, lead: str = "") -> Reply:
    head = f"{lead}\n\n" if lead else ""
    text = tr(
        language,
        "🎉 ¡Todo listo! Escribe *practicar* para empezar, *nivel* para cambiar tu nivel, *progreso* para "
        "ver tu avance y *perfil* para cambiar estas respuestas.",
        "All set! *practicar* starts an exercise, *nivel* changes your level, *progreso* shows your "
        "progress, *perfil* changes these answers.",
    )
    return Reply(head + text, buttons=(Button("practice", "Practicar"), Button("help", "Ayuda")))


def again(step: str, language: str, learner: Learner, state: ConversationState) -> Reply:
    """The open step asked again after an answer that did not fit it."""
    hint = tr(
        language,
        "No he entendido esa opción. Elige una de la lista (o escribe *saltar*).",
        "I didn't get that option: pick one (or write *skip*).",
    )
    if step == "level" and (question := levels.repeat(state)) is not None:
        return Reply(f"{hint}\n\n{question.text}", buttons=question.buttons)
    return prompt(step, language, learner, lead=hint)
