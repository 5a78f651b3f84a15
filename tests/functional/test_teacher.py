"""The teacher, as learners meet it: scripted conversations through the real webhook and tutor Lambda
handlers (local FIFO queue, Graph API emulator, real Postgres and Redis), without AI keys. Each asserts
the texts the learner sees, for a learner who explains in English and one who explains in Spanish.

Personas (our own): Maya, an A1 beginner who explains in English; Julián, a B1 learner who explains in
Spanish. Bad input covered: messages that are not answers while an exercise is open (a sentence with
errors, an English question, an emoji), a 3,000-character message, a learner coming back after the
conversation state expired.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import psycopg
import pytest
import redis

from espaluz.dev.worker import QueueWorker
from espaluz.tutor.state import PendingDrill, StateStore
from tests.conftest import GraphEmulator
from tests.functional.test_tutor import LEARNER, replies, say, text_of, worker  # noqa: F401 (fixture)

DEVELOPER_WORDS = re.compile(r"API_KEY|GROQ|ANTHROPIC|MODAL|Traceback|\bNone\b|engine\.|fallback")
_ids = itertools.count()


class Learner:
    """One learner texting the tutor: each ``say`` goes through the webhook and the tutor, and returns
    the texts of the messages the learner received for it."""

    def __init__(self, queue: QueueWorker, graph: GraphEmulator, context: Any, database_url: str) -> None:
        self.worker, self.graph, self.context, self.database_url = queue, graph, context, database_url

    def say(self, text: str | None = None, button: tuple[str, str] | None = None) -> list[str]:
        before = len(replies(self.graph))
        say(self.context, text, wamid=f"wamid.TEACH{next(_ids)}", button=button)
        self.worker.run_once()
        texts = [text_of(b) for b in replies(self.graph)[before:] if b["type"] in ("text", "interactive")]
        for t in texts:
            assert not DEVELOPER_WORDS.search(t), t
        return texts

    def buttons(self) -> list[tuple[str, str]]:
        last = replies(self.graph)[-1]
        if last["type"] != "interactive" or last["interactive"]["type"] != "button":
            return []
        return [(b["reply"]["id"], b["reply"]["title"]) for b in last["interactive"]["action"]["buttons"]]

    def profile(self, **values: str) -> None:
        with psycopg.connect(self.database_url) as conn:
            for column, value in values.items():
                assert column in ("native_language", "level", "dialect")
                conn.execute(f"UPDATE learners SET {column} = %s", (value,))  # noqa: S608 (checked column)

    def attempts(self) -> list[tuple[str, str]]:
        with psycopg.connect(self.database_url) as conn:
            rows = conn.execute("SELECT answer, verdict FROM drill_attempts ORDER BY id").fetchall()
        return [(str(a), str(v)) for a, v in rows]


@pytest.fixture
def learner(
    worker: QueueWorker,  # noqa: F811
    graph_emulator: GraphEmulator,
    lambda_context: Any,
    database_url: str,
) -> Learner:
    return Learner(worker, graph_emulator, lambda_context, database_url)


def pending(redis_client: redis.Redis[bytes], database_url: str) -> Any:
    with psycopg.connect(database_url) as conn:
        learner_id = conn.execute("SELECT id FROM learners").fetchone()[0]  # type: ignore[index]
    return StateStore(redis_client, 3600).load(learner_id).pending


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_beginner_wanders_off_an_exercise_three_ways_and_then_leaves(
    learner: Learner, redis_client: redis.Redis[bytes], database_url: str, language: str
) -> None:
    learner.say("hola")
    learner.profile(native_language=language, level="A1")
    learner.say("practicar")
    assert pending(redis_client, database_url) is not None

    # 1. A sentence with errors: answered as a sentence (never "la forma correcta es ..."), not graded.
    [answer] = learner.say("Yo soy cansado hoy y la problema es grande")
    assert "La respuesta es" not in answer
    assert "Tu ejercicio sigue abierto" in answer
    # 2. A question in English: not graded either; the exercise is put aside with a word.
    [answer] = learner.say("how do I say I miss you?")
    assert "La respuesta es" not in answer
    assert "He dejado el ejercicio para luego" in answer
    assert pending(redis_client, database_url) is None
    # 3. An emoji: a friendly answer, no exercise.
    [answer] = learner.say("👍")
    assert "La respuesta es" not in answer
    assert learner.attempts() == []  # nothing of the above reached progress, memory or reviews

    # Back to practice, then leave with the button; a later sentence is not graded.
    learner.say("practicar")
    leave = [b for b in learner.buttons() if b[0] == "leave"]
    if not leave:  # a choice exercise shows its options; the word works too
        [left] = learner.say("salir")
    else:
        [left] = learner.say(button=leave[0])
    assert left.startswith("Vale, dejamos el ejercicio.")
    assert ("OK, no more exercises for now." in left) == (language == "en")
    learner.say("me gusta mucho la playa")
    assert learner.attempts() == []


def test_a_known_learner_coming_back_the_next_day_is_greeted_by_name(
    learner: Learner, redis_client: redis.Redis[bytes], database_url: str
) -> None:
    learner.say("hola")
    learner.profile(native_language="es", level="B1")
    learner.say("practicar")
    redis_client.flushdb() if not hasattr(redis_client, "get_nodes") else None  # the state expired
    with psycopg.connect(database_url) as conn:
        learner_id = conn.execute("SELECT id FROM learners").fetchone()[0]  # type: ignore[index]
    StateStore(redis_client, 3600).delete(learner_id)
    [hello] = learner.say("Hola")
    assert hello.startswith("¡Hola de nuevo, Lucía!")
    assert "Soy *Espaluz*" not in hello
    assert "nivel B1" in hello


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_wrong_answer_is_explained_by_what_the_engine_knows(
    learner: Learner, redis_client: redis.Redis[bytes], database_url: str, language: str
) -> None:
    learner.say("hola")
    learner.profile(native_language=language, level="A1")
    learner.say("practicar")
    with psycopg.connect(database_url) as conn:
        learner_id = conn.execute("SELECT id FROM learners").fetchone()[0]  # type: ignore[index]
    states = StateStore(redis_client, 3600)
    state = states.load(learner_id)  # the exercise asked: "tener", yo, present (chosen, not drawn)
    state.pending = PendingDrill(
        "tener", "indicative.present", "1s", ["tengo"], "¿Cómo se conjuga *tener* en presente con *yo*?"
    )
    states.save(learner_id, state)
    drill = state.pending
    from espaluz.spanish.conjugation import conjugate_table

    nosotros = conjugate_table(drill.verb).forms[drill.tense]["1p"][0]
    [answer] = learner.say(nosotros)
    assert answer.startswith(f"❌ *{nosotros}* es la forma de nosotros")  # which person the form is
    assert f"aquí hace falta *{drill.expected[0]}*" in answer
    assert ("is the nosotros" in answer) == (language == "en")
    assert learner.attempts()[-1] == (nosotros, "wrong")


def test_a_learner_switches_level_and_explanation_language_and_what_comes_next_changes(
    learner: Learner, redis_client: redis.Redis[bytes], database_url: str
) -> None:
    learner.say("hola")
    learner.profile(native_language="es", level="A1")
    [changed] = learner.say("idioma inglés")
    assert "inglés" in changed
    [changed] = learner.say("nivel B2")
    assert changed.startswith("✅ A partir de ahora, los ejercicios serán de nivel *B2 (Intermedio alto)*.")
    assert "From now on, your exercises will be at level B2" in changed  # now glossed in English
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT level, native_language FROM learners").fetchone() == ("B2", "en")
    for _ in range(6):  # what comes next follows the new level: the B2 course
        [question] = learner.say("practicar")
        drill = pending(redis_client, database_url)
        assert drill.exercise["unit"] == "B2.1"
        assert "_" in question  # the English line under the Spanish one


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_3000_character_message_is_corrected_to_its_last_sentence(learner: Learner, language: str) -> None:
    learner.say("hola")
    learner.profile(native_language=language, level="B1")
    filler = "Hoy hace sol en mi ciudad y salgo a caminar con mis amigos por el parque. "
    text = filler * 39 + "Espero que vienes a mi casa mañana."
    assert len(text) > 2900
    [answer] = learner.say(text)
    assert "✏️ *Espero que vengas a mi casa mañana.*" in answer  # the sentence that held the error
    why = {"es": "'espero que' expresa un deseo", "en": "'espero que'"}[language]
    assert "• *vienes* → *vengas*: " + why in answer


def test_a_button_is_judged_by_its_id_never_by_a_title_that_is_a_consent_word(
    learner: Learner, database_url: str
) -> None:
    """Bad input: a button whose title is "Stop" (an old message's, or another client's) is not an
    opt-out; only the typed word or the consent buttons' ids change consent."""
    learner.say("hola")
    learner.say("practicar")
    [left] = learner.say(button=("leave", "Stop"))
    assert left.startswith("Vale, dejamos el ejercicio.")
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT opted_out_at FROM learners").fetchone() == (None,)
    [stopped] = learner.say("STOP")
    assert stopped.startswith("Listo: no te enviaré recordatorios")
