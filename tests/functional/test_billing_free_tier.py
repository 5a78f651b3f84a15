"""The free tier across a new learner's first session, through the real webhook, queue and tutor
processor (built as in production; its paywall is given a fixed clock, so the day cannot turn during the
test, whatever the date), on real Postgres and Redis, with the Graph API emulator.

Onboarding, the placement test and commands are free; the 20th teaching message is answered and carries
the last-free-message notice with the price; the 21st gets the limit notice and loses nothing; no offer
is made in the first session."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
import redis

from espaluz.billing import messages
from espaluz.billing.free_tier import is_teaching
from espaluz.dev.worker import QueueWorker
from espaluz.queue.local import LocalFifoQueue
from espaluz.text import fold
from espaluz.tutor import exercise
from espaluz.tutor.state import StateStore
from tests.conftest import GraphEmulator
from tests.functional.test_tutor import LEARNER, replies, say, text_of

FREE_TURNS = 20
# Answers the tutor reads as leaving, a hint or giving up while a drill is open (a drill expecting one
# is replaced by a new drill in this test).
CONTROL_WORDS = exercise.LEAVE_WORDS | exercise.HINT_WORDS | exercise.GIVE_UP_WORDS


def ids(body: dict[str, Any]) -> list[str]:
    action = body.get("interactive", {}).get("action", {})
    rows = [r["id"] for s in action.get("sections", []) for r in s.get("rows", [])]
    return [b["reply"]["id"] for b in action.get("buttons", [])] + rows


@pytest.fixture
def worker(function_env: Any, redis_client: redis.Redis[bytes], database_url: str) -> QueueWorker:
    from espaluz.config import get_settings
    from espaluz.storage.postgres import get_pool
    from espaluz.tutor.paywall import build_paywall
    from espaluz.tutor.processor import build_processor

    function_env(TUTOR_ONBOARDING="true", BILLING_FREE_TURNS_PER_DAY=str(FREE_TURNS))
    settings = get_settings()
    processor = build_processor(settings)
    processor.rng = random.Random(20)  # the drills asked: the same on every run
    started = datetime.now(UTC)  # every turn of the test is received after it, on the same UTC day
    processor.billing = build_paywall(settings, get_pool(settings.database_url), wall_clock=lambda: started)

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        for record in event["Records"]:
            processor.process(record["body"])
        return {"batchItemFailures": []}

    return QueueWorker(LocalFifoQueue(redis_client, "inbound"), handler, batch_size=1)


class Chat:
    def __init__(self, worker: QueueWorker, graph: GraphEmulator, context: Any) -> None:
        self.worker, self.graph, self.context, self.n = worker, graph, context, 0

    def send(self, text: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """The learner writes or taps; returns the tutor's last message with text (a chart may follow)."""
        self.n += 1
        say(self.context, text, wamid=f"wamid.FT{self.n}", **kwargs)
        while self.worker.run_once():
            pass
        return [r for r in replies(self.graph) if r["type"] in ("text", "interactive")][-1]


def learner_id(database_url: str) -> Any:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT id FROM learners WHERE wa_id = %s", (LEARNER,)).fetchone()
    assert row is not None
    return row[0]


@pytest.mark.parametrize("language", ["es", "en"])
def test_first_session_onboarding_placement_commands_then_twenty_teaching_messages(
    language: str,
    worker: QueueWorker,
    graph_emulator: GraphEmulator,
    redis_client: redis.Redis[bytes],
    database_url: str,
    lambda_context: Any,
) -> None:
    """Covers the faults a new learner met: setup and commands used up free messages, the limit
    swallowed the message that reached it, an offer came during the first session, and the plan was
    sold without its price."""
    chat = Chat(worker, graph_emulator, lambda_context)
    step = chat.send("hola")
    # Onboarding with the placement test: the language, the test (any answers), then the last option.
    for _ in range(40):
        options = ids(step)
        if f"onb:lang:{language}" in options:
            step = chat.send(button=(f"onb:lang:{language}", "x"))
        elif "onb:level:test" in options:
            step = chat.send(button=("onb:level:test", "x"))
        elif place := [i for i in options if i.startswith("place:")]:
            step = chat.send(button=(place[0], "x"))
        elif onb := [i for i in options if i.startswith("onb:")]:
            step = chat.send(button=(onb[-1], "x"))
        else:
            break
    assert ids(step) == ["practice", "help"]  # onboarding over
    for command in ("progreso", "perfil", "ayuda"):
        assert "mensajes gratis" not in text_of(chat.send(command))
    states = StateStore(redis_client, 3600)
    who = learner_id(database_url)

    answers = [chat.send(button=("practice", "Practicar"))]  # teaching message 1: a drill asked
    for _ in range(FREE_TURNS - 1):  # 2..20: each answered right, the next drill asked
        pending = states.load(who).pending
        if pending is None:  # a lesson ended with its summary: the next lesson (also teaching)
            answers.append(chat.send(button=("practice", "Practicar")))
        elif fold(pending.expected[0]) in CONTROL_WORDS:  # "salgo" also means "leave the drill"
            answers.append(chat.send(button=("practice", "Practicar")))  # a new drill: also teaching
        else:
            answers.append(chat.send(pending.expected[0]))
    *before, last = answers
    assert all("mensaje gratis" not in text_of(a) for a in before)
    # The 20th is answered (the drill checked, the next one asked) and the notice follows, with the price.
    answer, notice = text_of(last).split(messages.RULE, 1)
    assert answer.startswith("✅")  # the answer checked (the next exercise, or the lesson's summary)
    assert "Este fue tu último mensaje gratis de hoy" in notice
    assert "9,99 €" in notice
    assert ("That was your last free message today" in notice) == (language == "en")
    assert ("€9.99" in notice) == (language == "en")

    open_drill = states.load(who).pending
    assert open_drill is not None
    limited = chat.send(open_drill.expected[0])  # the 21st
    assert "no te quedan mensajes gratis" in text_of(limited)
    assert "9,99 €" in text_of(limited)
    assert ids(limited) == [messages.PLAN_BUTTON]
    assert states.load(who).pending == open_drill  # nothing lost: the open exercise is still there
    hint = chat.send("ayuda")  # with a drill open, "ayuda" asks for a hint: teaching, so refused
    assert "no te quedan mensajes gratis" in text_of(hint)
    assert states.load(who).pending == open_drill
    progress = chat.send("progreso")  # commands still work past the limit (and close the drill)
    assert "no te quedan" not in text_of(progress)
    menu = chat.send("ayuda")  # with no drill open, "ayuda" is the help menu: always answered
    assert "no te quedan" not in text_of(menu)
    assert ids(menu) == ["practice", "help"]

    every = replies(graph_emulator)
    assert not any(messages.OFFER_YES in ids(r) for r in every)  # no offer in the first session
    with psycopg.connect(database_url) as conn:
        routes = [
            r[0]
            for r in conn.execute(
                "SELECT route FROM turns WHERE learner_id = %s ORDER BY received_at", (who,)
            )
        ]
        offers = conn.execute("SELECT count(*) FROM offers").fetchone()
    assert offers == (0,)
    assert sum(is_teaching(r) for r in routes) == FREE_TURNS
    assert any(r.startswith("onboarding.") for r in routes)
    assert any(r.startswith("placement.") or r == "onboarding.level.test" for r in routes)
    assert sum(r.startswith("command.") for r in routes) >= 2
    assert "billing.free_limit" in routes
