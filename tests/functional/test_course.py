"""A new learner without AI keys works through the A1 course in chat: every exercise type, lessons,
units, progress and reviews, through the real webhook and tutor handlers (local FIFO queue, Graph API
emulator, real Postgres and Redis, espeak-ng for the model voice).

Persona (our own): Maya, A1, explains in English (and her Spanish-explaining twin). Each answer is read
from the exercise the tutor opened, so the test holds whatever the seeded generator picks; it asserts
the texts she sees. Bad input covered: wrong answers of every type, an accent slip, a chosen list row,
a message that is not an answer in the middle of a lesson, a skill card that falls due (come back the
next day) and a database read that fails (the exercise is still asked).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
import redis

from espaluz.curriculum import exercises
from espaluz.curriculum.course import LESSON_SIZE, REVIEW_EVERY
from espaluz.curriculum.syllabus import load
from espaluz.tutor import exercise
from espaluz.tutor.state import PendingDrill, StateStore
from tests.conftest import GraphEmulator
from tests.functional.test_teacher import Learner, learner  # noqa: F401 (fixture)
from tests.functional.test_tutor import replies, say, text_of, worker  # noqa: F401 (fixture)

SPEAKING = "🎙️"


def opened(redis_client: redis.Redis[bytes], database_url: str) -> dict[str, Any]:
    """The course exercise the tutor has open for the learner (its type, accepted answers...)."""
    with psycopg.connect(database_url) as conn:
        learner_id = conn.execute("SELECT id FROM learners").fetchone()[0]  # type: ignore[index]
    pending = StateStore(redis_client, 3600).load(learner_id).pending
    assert pending is not None, "an exercise is open"
    assert pending.exercise, "a course exercise is open"
    return pending.exercise


def wrong_answer(ex: dict[str, Any]) -> str:
    if ex["type"] == "choice":
        return str(next(o for o in ex["options"] if o not in ex["accepted"]))
    if ex["type"] == "vocabulary" and ex["direction"] == "to_en":
        return "banana bread"
    if ex["type"] in ("translation", "listening", "word_order"):
        words = ex["accepted"][0].rstrip(".!?").split()
        return " ".join(reversed(words)) if len(words) > 2 else f"{words[0]} zapato azul"
    return "zzzz"


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_beginner_works_through_lessons_of_every_exercise_type(
    learner: Learner,  # noqa: F811
    redis_client: redis.Redis[bytes],
    database_url: str,
    graph_emulator: GraphEmulator,
    language: str,
) -> None:
    learner.say("hola")
    learner.profile(native_language=language, level="A1")
    [first] = learner.say("practicar")
    assert re.search(r"📘 A1\.1 · .+ · 1/" + str(LESSON_SIZE), first), first
    seen: Counter[str] = Counter()
    verdicts: list[str] = []
    voice_notes = 0
    for turn in range(2 * LESSON_SIZE):  # two lessons: within the free plan's 20 teaching messages a day
        ex = opened(redis_client, database_url)
        seen[ex["type"]] += 1
        if ex["type"] == "word_order":  # its words are shown in the text, not offered as options
            assert [b[0] for b in learner.buttons()] == ["hint", "leave"]
        before = len(replies(graph_emulator))
        if turn % 3 == 2:  # a wrong answer: told why, never just "wrong"
            [said] = learner.say(wrong_answer(ex))
            assert said.startswith("❌"), said
            assert len(said.split("\n")[0]) > 3, said
            verdicts.append("wrong")
        elif ex["type"] == "choice" and learner.buttons():
            option = next(b for b in learner.buttons() if b[0] == f"ans:{ex['accepted'][0]}")
            [said] = learner.say(button=option)
            assert said.startswith("✅"), said
            verdicts.append("right")
        else:
            [said] = learner.say(ex["accepted"][0])
            assert said.startswith("✅"), said
            verdicts.append("right")
        sent = replies(graph_emulator)[before:]
        voice_notes += sum(1 for b in sent if b["type"] == "audio" and b["audio"].get("voice"))
        if (turn + 1) % LESSON_SIZE == 0:  # the lesson's summary, then a new lesson on "practicar"
            assert "¡Lección terminada!" in said
            assert "A1.1" in said
            assert ("Lesson done" in said) == (language == "en")
            assert "Gramática:" in said
            assert "Palabras:" in said
            learner.say("practicar")
    assert set(seen) >= {"cloze", "vocabulary", "translation", "listening", "word_order"}, seen
    assert "speaking" not in seen  # no voice path set up without keys
    assert voice_notes >= seen["listening"] > 0  # each listening exercise came with its model voice note
    stored = [v for _, v in learner.attempts()]
    assert stored.count("wrong") == verdicts.count("wrong")
    assert stored.count("correct") + stored.count("accent") == verdicts.count("right")
    with psycopg.connect(database_url) as conn:
        skills = {s for (s,) in conn.execute("SELECT skill FROM skill_cards").fetchall()}
    assert any(s.startswith("gp:") for s in skills)
    assert any(s.startswith("word:") for s in skills)

    [progress] = learner.say("progreso")
    assert "📘 *A1.1" in progress
    assert "Repasos pendientes:" in progress


def test_an_accent_slip_is_almost_and_a_list_row_answers_a_choice(
    learner: Learner,  # noqa: F811
    redis_client: redis.Redis[bytes],
    database_url: str,
    graph_emulator: GraphEmulator,
) -> None:
    learner.say("hola")
    learner.profile(native_language="es", level="A1")
    learner.say("practicar")
    for _ in range(15):
        ex = opened(redis_client, database_url)
        answer = ex["accepted"][0]
        plain = answer.translate(str.maketrans("áéíóú", "aeiou"))
        if plain != answer and ex["type"] in ("translation", "cloze", "listening"):
            [said] = learner.say(plain)
            assert said.startswith("✅ Casi: ojo con la tilde") or "tilde" in said, said
            break
        if "¡Lección terminada!" in learner.say(answer)[-1]:
            learner.say("practicar")
    else:
        raise AssertionError("no exercise with an accent in 15")
    # A choice with four options goes out as a WhatsApp list; its row answers it.
    syl = load()
    unit, point, item = next(
        (u, syl.points[g], it) for u in syl.units for g in u.grammar for it in syl.points[g].items
        if it.is_verb and not it.choices
    )  # fmt: skip  # a verb item: its other persons are the wrong options
    choice = exercises._choice(unit, point, item, random.Random(0))
    reply = exercise.question_reply("?", PendingDrill("", "", "", [], "", options=list(choice.options)), "es")
    assert len(reply.rows) == 4
    assert reply.payload()["interactive"]["type"] == "list"
    with psycopg.connect(database_url) as conn:
        learner_id = conn.execute("SELECT id FROM learners").fetchone()[0]  # type: ignore[index]
    states = StateStore(redis_client, 3600)
    state = states.load(learner_id)
    state.pending = PendingDrill(
        "", "", "", list(choice.accepted), choice.content, skill=choice.skill, options=list(choice.options),
        exercise=choice.to_json(),
    )  # fmt: skip
    states.save(learner_id, state)
    row = next(r for r in reply.rows if r.id == f"ans:{choice.accepted[0]}")
    before = len(replies(graph_emulator))
    say(learner.context, wamid="wamid.ROW1", row=(row.id, row.title))
    learner.worker.run_once()
    assert text_of(replies(graph_emulator)[before]).startswith("✅ ¡Correcto!")


def test_a_message_that_is_not_an_answer_keeps_the_lesson_and_reviews_come_back_the_next_day(
    learner: Learner,  # noqa: F811
    redis_client: redis.Redis[bytes],
    database_url: str,
) -> None:
    learner.say("hola")
    learner.profile(native_language="en", level="A1")
    learner.say("practicar")
    ex = opened(redis_client, database_url)
    [aside] = learner.say("what time is it in Madrid?")
    assert "Tu ejercicio sigue abierto" in aside
    assert opened(redis_client, database_url) == ex  # still the same exercise, not graded
    learner.say(wrong_answer(ex))
    # The next day: every card met so far is due; the course brings some back as reviews.
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE skill_cards SET due = %s", (datetime.now(UTC) - timedelta(days=1),))
        conn.execute(
            "UPDATE skill_cards SET card = jsonb_set(card, '{due}', to_jsonb(%s::text))",
            ((datetime.now(UTC) - timedelta(days=1)).isoformat(),),
        )
    reviews = 0  # a review is marked 🔁
    for _ in range(12):
        texts = learner.say("otro")
        reviews += sum("🔁" in t for t in texts)
    assert reviews >= 12 // REVIEW_EVERY, reviews  # while a card is due, every third exercise reviews it
