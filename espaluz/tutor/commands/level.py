"""The level list and the quick placement test, shared by the "nivel" command and onboarding.

The placement test is ``espaluz.spanish.placement`` (adaptive: each question is the most informative
one), cut short to ``QUICK_QUESTIONS`` questions: in chat a few taps beat precision, and the learner can
change the level at any time with "nivel". Its state lives in ``state.extra["placement"]``; a question's
buttons carry ``place:<question id>:<option index>``, so an answer to any question but the open one
(an old message, a forged id) is refused.
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
QUICK_QUESTIONS = 5
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
        rows.append(ListRow(test_id, "Test de nivel (1 min)", "5 preguntas rápidas / 5 quick questions"))
    return tuple(rows)


def parse_level(text: str) -> str | None:
    """``A1``..``C1`` when the text is (or ends with) a level name; None otherwise."""
    words = fold(text).split(" ")
    candidate = words[-1].upper() if words else ""
    return candidate if candidate in LEVELS else None


def level_menu(language: str, current: str) -> Reply:
    name = LEVEL_NAMES.get(current, ("", ""))
    text = tr(
        language,
        f"🎚️ Tu nivel es *{current}* ({name[0].lower()}). ¿Quieres cambiarlo? Elige un nivel o haz el test.",
        f"Your level is {current} ({name[1].lower()}). Pick another level or take the quick test.",
    )
    return Reply(text, list_button="Elegir nivel", rows=level_rows("level:set:", "level:test"))


@dataclass
class PlacementStep:
    """What an answer led to: the next question, or the estimated level (``level``)."""

    reply: Reply | None = None
    level: str | None = None
    confidence: float = 0.0
    accepted: bool = True  # False: the input was not an answer to the open question


def active(state: ConversationState) -> dict[str, Any] | None:
    raw = state.extra.get(PLACEMENT_KEY)
    return raw if isinstance(raw, dict) and raw.get("qid") in placement.QUESTIONS else None


def purpose(state: ConversationState) -> str:
    raw = active(state)
    return str(raw.get("for", "level")) if raw else ""


def start(state: ConversationState, language: str, for_: str) -> Reply:
    test = placement.start()
    question = placement.next_question(test)
    assert question is not None
    state.extra[PLACEMENT_KEY] = {"test": test.to_json(), "qid": question.id, "for": for_}
    intro = tr(
        language,
        f"📝 *Test de nivel*: {QUICK_QUESTIONS} preguntas. Elige la palabra que falta.",
        "Level test: pick the missing word.",
    )
    return question_reply(question, 1, intro)


def question_reply(question: placement.Question, number: int, intro: str = "") -> Reply:
    body = f"{intro}\n\n" if intro else ""
    body += f"*{number}/{QUICK_QUESTIONS}.* {question.prompt}"
    return Reply(
        body,
        buttons=tuple(
            Button(f"{PLACE_PREFIX}{question.id}:{i}", option) for i, option in enumerate(question.options)
        ),
    )


def repeat(state: ConversationState) -> Reply | None:
    """The open question again (after an answer that was not one of its options)."""
    raw = active(state)
    if raw is None:
        return None
    test = placement.PlacementState.from_json(raw["test"])
    return question_reply(placement.QUESTIONS[raw["qid"]], len(test.answers) + 1)


def answer(state: ConversationState, text: str, reply_id: str | None) -> PlacementStep:
    """Apply the learner's answer to the open question (a button, or the option typed out)."""
    raw = active(state)
    if raw is None:
        return PlacementStep(accepted=False)
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
        test = placement.answer(placement.PlacementState.from_json(raw["test"]), question.id, choice)
    except (ValueError, KeyError):
        return PlacementStep(accepted=False)
    following = None if len(test.answers) >= QUICK_QUESTIONS else placement.next_question(test)
    if following is None:
        state.extra.pop(PLACEMENT_KEY, None)
        outcome = placement.result(test)
        return PlacementStep(level=outcome.level, confidence=outcome.confidence)
    raw.update(test=test.to_json(), qid=following.id)
    return PlacementStep(reply=question_reply(following, len(test.answers) + 1, "👍"))


def cancel(state: ConversationState) -> None:
    state.extra.pop(PLACEMENT_KEY, None)
