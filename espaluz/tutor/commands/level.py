"""The level list, the placement test in chat, and the lines that say what a level change does. Shared
by the "nivel" command, "perfil" and onboarding.

The placement test is ``espaluz.spanish.placement``: a staircase that starts at A1 and climbs one level
per right answer (at most ``placement.MAX_QUESTIONS`` items). Its state lives in
``state.extra["placement"]``; a question's buttons carry ``place:<question id>:<option index>``, so an
answer to any question but the open one (an old message, a forged id) is refused.

What a level changes, said truthfully: the drills are chosen at ``learners.level``
(:func:`level_changed`), so every level change, chosen or placed, is written to the learner row before
that line is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from espaluz.spanish import placement
from espaluz.tutor.commands.profile import LEVELS
from espaluz.tutor.commands.texts import LEVEL_NAMES, fold, tr
from espaluz.whatsapp.outgoing import Button, ListRow, Reply

if TYPE_CHECKING:
    from espaluz.tutor.state import ConversationState

PLACEMENT_KEY = "placement"
PLACE_PREFIX = "place:"
QUICK_QUESTIONS = placement.MAX_QUESTIONS  # the most a test asks; most learners answer 4 to 7
LEVEL_HINTS = {
    "A1": "saludos, presente, números",
    "A2": "pasado, planes, rutinas",
    "B1": "subjuntivo, opiniones",
    "B2": "hipótesis, matices",
    "C1": "registro, estilo, precisión",
}


def level_rows(prefix: str, test_id: str = "") -> tuple[ListRow, ...]:
    rows = [
        ListRow(f"{prefix}{lv}", f"{lv} · {LEVEL_NAMES[lv][0]}", f"{LEVEL_NAMES[lv][1]}: {LEVEL_HINTS[lv]}")
        for lv in LEVELS
    ]
    if test_id:
        rows.append(
            ListRow(
                test_id,
                "Test de nivel",
                f"Hasta {QUICK_QUESTIONS} preguntas; empieza fácil / up to {QUICK_QUESTIONS} questions",
            )
        )
    return tuple(rows)


def parse_level(text: str) -> str | None:
    """``A1``..``C1`` when the text is (or ends with) a level name; None otherwise."""
    words = fold(text).split(" ")
    candidate = words[-1].upper() if words else ""
    return candidate if candidate in LEVELS else None


def named(level: str, language: str) -> str:
    """``B1 (Intermedio)``, or ``B1 (Intermediate)`` for the English gloss."""
    names = LEVEL_NAMES.get(level)
    if names is None:
        return level
    return f"{level} ({names[1] if language == 'en' else names[0]})"


def _changed(level: str) -> tuple[str, str]:
    return (
        f"A partir de ahora, los ejercicios serán de nivel *{named(level, 'es')}*.",
        f"From now on, your exercises will be at level {named(level, 'en')}.",
    )


def level_changed(language: str, level: str) -> str:
    """What a new level changes, said truthfully: the exercises are chosen at the learner's level."""
    return tr(language, *_changed(level))


def level_unchanged(language: str, level: str) -> str:
    return tr(
        language,
        f"Ya estás en el nivel *{named(level, 'es')}*: los ejercicios siguen siendo de ese nivel.",
        f"You are already at level {named(level, 'en')}: your exercises stay at that level.",
    )


def level_menu(language: str, current: str) -> Reply:
    text = tr(
        language,
        f"🎚️ Tu nivel es *{named(current, 'es')}*. ¿Quieres cambiarlo? Elige un nivel o haz el test.",
        f"Your level is {named(current, 'en')}. Pick another level or take the level test.",
    )
    return Reply(text, list_button="Elegir nivel", rows=level_rows("level:set:", "level:test"))


@dataclass
class PlacementStep:
    """What an answer led to: the next question (``reply``), or the result (``result``)."""

    reply: Reply | None = None
    result: placement.PlacementResult | None = None
    accepted: bool = True  # False: the input was not an answer to the open question

    @property
    def level(self) -> str | None:
        return self.result.level if self.result else None


def _loaded(state: ConversationState) -> tuple[dict[str, Any], placement.PlacementState] | None:
    raw = state.extra.get(PLACEMENT_KEY)
    if not isinstance(raw, dict) or raw.get("qid") not in placement.QUESTIONS:
        return None
    try:
        return raw, placement.PlacementState.from_json(raw["test"])
    except (KeyError, TypeError, ValueError):
        state.extra.pop(PLACEMENT_KEY, None)  # a state we cannot read (e.g. an older test): drop it
        return None


def active(state: ConversationState) -> dict[str, Any] | None:
    loaded = _loaded(state)
    return loaded[0] if loaded else None


def purpose(state: ConversationState) -> str:
    raw = active(state)
    return str(raw.get("for", "level")) if raw else ""


def start(state: ConversationState, language: str, for_: str, seed: int = 0) -> Reply:
    """Open a test (``for_``: ``level`` from the command or profile, ``onboarding``) and ask its first,
    A1 item."""
    test = placement.start(seed)
    question = placement.next_question(test)
    assert question is not None
    state.extra[PLACEMENT_KEY] = {"test": test.to_json(), "qid": question.id, "for": for_}
    intro = tr(
        language,
        f"📝 *Test de nivel*: hasta {QUICK_QUESTIONS} preguntas. Empiezan fáciles y suben si aciertas. "
        "Elige la palabra que falta (o escribe *saltar* para dejar el test).",
        f"Level test: up to {QUICK_QUESTIONS} questions. They start easy and get harder as you get them "
        "right. Pick the missing word (or write *skip* to leave the test).",
    )
    return question_reply(question, 1, intro)


def question_reply(question: placement.Question, number: int, intro: str = "") -> Reply:
    body = f"{intro}\n\n" if intro else ""
    body += f"*{number}.* ({question.level}) {question.prompt}"
    return Reply(
        body,
        buttons=tuple(
            Button(f"{PLACE_PREFIX}{question.id}:{i}", option) for i, option in enumerate(question.options)
        ),
    )


def repeat(state: ConversationState) -> Reply | None:
    """The open question again (after an answer that was not one of its options)."""
    loaded = _loaded(state)
    if loaded is None:
        return None
    raw, test = loaded
    return question_reply(placement.QUESTIONS[raw["qid"]], len(test.answers) + 1)


def answer(state: ConversationState, text: str, reply_id: str | None) -> PlacementStep:
    """Apply the learner's answer to the open question (a button, or the option typed out)."""
    loaded = _loaded(state)
    if loaded is None:
        return PlacementStep(accepted=False)
    raw, test = loaded
    question = placement.QUESTIONS[raw["qid"]]
    choice: int | None = None
    if reply_id:
        qid, _, index = reply_id.removeprefix(PLACE_PREFIX).rpartition(":")
        if reply_id.startswith(PLACE_PREFIX) and qid == question.id and index.isdigit():
            choice = int(index) if int(index) < len(question.options) else None
    else:
        typed = fold(text)
        choice = next((i for i, o in enumerate(question.options) if fold(o) == typed), None)
    if choice is None:
        return PlacementStep(accepted=False)
    try:
        test = placement.answer(test, question.id, choice)
    except (ValueError, KeyError):
        return PlacementStep(accepted=False)
    following = placement.next_question(test)
    if following is None:
        state.extra.pop(PLACEMENT_KEY, None)
        return PlacementStep(result=placement.result(test))
    raw.update(test=test.to_json(), qid=following.id)
    return PlacementStep(reply=question_reply(following, len(test.answers) + 1, "👍"))


def cancel(state: ConversationState) -> None:
    state.extra.pop(PLACEMENT_KEY, None)


def _reason(outcome: placement.PlacementResult) -> tuple[str, str]:
    level, stop = outcome.level, outcome.stopped_at
    if outcome.reason == "top":
        return (
            f"Acertaste hasta las preguntas más difíciles, las de nivel {level}.",
            f"You got the hardest questions right, up to level {level}.",
        )
    if outcome.reason == "basics":
        return (
            "Fallaste dos preguntas de nivel A1, así que empezamos por lo básico.",
            "You missed two A1 questions, so we start with the basics.",
        )
    if outcome.reason == "ceiling" and stop:
        return (
            f"Acertaste en el nivel {level}, pero fallaste dos preguntas de nivel {stop}.",
            f"You did well at level {level} but missed two questions at level {stop}.",
        )
    return (
        f"Tras {outcome.questions} preguntas, tu nivel más firme es {level}.",
        f"After {outcome.questions} questions, your most solid level is {level}.",
    )


def reason(language: str, outcome: placement.PlacementResult) -> str:
    """One line on why the test found this level, in the learner's language."""
    return tr(language, *_reason(outcome))


def placed(language: str, outcome: placement.PlacementResult) -> str:
    """The result of a test: the level, the reason, what changes, and how to change it again."""
    why_es, why_en = _reason(outcome)
    changed_es, changed_en = _changed(outcome.level)
    return tr(
        language,
        f"📝 Resultado del test: nivel *{named(outcome.level, 'es')}*. {why_es}\n{changed_es} "
        "Puedes cambiarlo cuando quieras con *nivel*.",
        f"Test result: level {named(outcome.level, 'en')}. {why_en} {changed_en} "
        "You can change it any time with *nivel*.",
    )
