"""Full turns without any provider key (the default a newcomer meets): the real webhook and tutor
handlers, real Postgres and Redis, the processor sending the follow-up buttons' texts to the brain.

Faults covered: no keys at all (every learner text is checked for setting and provider names), the
three follow-up buttons pressed in turn, a learner who explains in Spanish, and (with keys) a phrase
request that must not cost a provider call.
"""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest
import redis

from espaluz.dev.worker import QueueWorker
from espaluz.queue.local import LocalFifoQueue
from functions.tutor import handler as tutor
from tests.conftest import GraphEmulator
from tests.functional.test_tutor import say, text_of
from tests.providers import ProviderServers

DEVELOPER_WORDS = re.compile(r"API_KEY|GROQ|ANTHROPIC|MODAL|Traceback")


@pytest.fixture
def worker(function_env: Any, redis_client: redis.Redis[bytes]) -> QueueWorker:
    return QueueWorker(LocalFifoQueue(redis_client, "inbound"), tutor.handler)


def turn(
    worker: QueueWorker, graph: GraphEmulator, context: Any, wamid: str, **kwargs: Any
) -> dict[str, Any]:
    """One learner message (or button) through webhook and tutor; the reply the learner got."""
    say(context, wamid=wamid, **kwargs)
    assert worker.run_once() == 1
    body: dict[str, Any] = graph.messages()[-1]["body"]
    assert not DEVELOPER_WORDS.search(text_of(body)), text_of(body)
    return body


def button_ids(body: dict[str, Any]) -> list[str]:
    if body["type"] != "interactive":
        return []
    return [b["reply"]["id"] for b in body["interactive"]["action"].get("buttons", [])]


def explain_in(database_url: str, language: str) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE learners SET native_language = %s", (language,))


@pytest.mark.parametrize(
    ("language", "short", "more", "longer", "done"),
    [
        ("en", "*ser* for identity", "More examples of", "Think of *ser* as", "Shall we go on?"),
        ("es", "*ser* para identidad", "Más ejemplos de", "Piensa en *ser* como", "¿Seguimos?"),
    ],
)
def test_a_grammar_question_and_its_three_buttons_without_keys(
    worker: QueueWorker,
    graph_emulator: GraphEmulator,
    database_url: str,
    lambda_context: Any,
    language: str,
    short: str,
    more: str,
    longer: str,
    done: str,
) -> None:
    """ "¿cuándo uso ser y estar?": the authored note with three buttons; "Otro ejemplo" shows more
    examples (not the same refusal again), "Explícalo" the longer explanation, "Entendido" closes."""
    turn(worker, graph_emulator, lambda_context, "wamid.KG0", text="hola")
    explain_in(database_url, language)
    first = turn(worker, graph_emulator, lambda_context, "wamid.KG1", text="¿cuándo uso ser y estar?")
    assert short in text_of(first)
    assert "• Soy de Chile, pero estoy en Madrid." in text_of(first)
    assert button_ids(first) == ["more_example", "explain", "got_it"]
    again = turn(worker, graph_emulator, lambda_context, "wamid.KG2", button=("more_example", "Otro ejemplo"))
    assert more in text_of(again)
    assert text_of(again) != text_of(first)
    assert button_ids(again) == ["more_example", "explain", "got_it"]
    explained = turn(worker, graph_emulator, lambda_context, "wamid.KG3", button=("explain", "Explícalo"))
    assert longer in text_of(explained)
    assert button_ids(explained) == ["more_example", "got_it"]
    closed = turn(worker, graph_emulator, lambda_context, "wamid.KG4", button=("got_it", "Entendido"))
    assert done in text_of(closed)


def test_how_do_i_say_without_keys(
    worker: QueueWorker, graph_emulator: GraphEmulator, database_url: str, lambda_context: Any
) -> None:
    """A phrase request, in English then (for a Spanish-explaining learner) in Spanish: the phrasebook's
    answer, no buttons."""
    turn(worker, graph_emulator, lambda_context, "wamid.KP0", text="hola")
    english = turn(worker, graph_emulator, lambda_context, "wamid.KP1", text="how do I say I miss you?")
    assert text_of(english).startswith("💬 _I miss you_ in Spanish: *Te extraño*")
    assert button_ids(english) == []
    explain_in(database_url, "es")
    spanish = turn(worker, graph_emulator, lambda_context, "wamid.KP2", text="¿cómo se dice 'I miss you'?")
    assert text_of(spanish).startswith("💬 _I miss you_ en español: *Te extraño*")
    assert "• En España: *Te echo de menos*" in text_of(spanish)


def test_a_long_message_and_a_statement_about_spain_without_keys(
    worker: QueueWorker, graph_emulator: GraphEmulator, lambda_context: Any
) -> None:
    """The two old failures: a 3,000-character message answered with boilerplate, and a statement naming
    Spain answered with a Día de Muertos note. Both are conversation now."""
    turn(worker, graph_emulator, lambda_context, "wamid.KL0", text="hola")
    spain = turn(
        worker, graph_emulator, lambda_context, "wamid.KL1", text="Vivo en España desde 2019 y me encanta"
    )
    assert "Muertos" not in text_of(spain)
    assert "¿Qué es lo que más te gusta de vivir allí?" in text_of(spain)
    long_text = ("Yo es muy feliz porque vivo en una ciudad muy bonita con mi familia y mis amigos. " * 40)[
        :3000
    ]
    long = turn(worker, graph_emulator, lambda_context, "wamid.KL2", text=long_text)
    assert "✏️ *Yo soy muy feliz porque" in text_of(long)


def test_with_keys_a_known_phrase_costs_no_provider_call(
    function_env: Any, worker: QueueWorker, graph_emulator: GraphEmulator, lambda_context: Any
) -> None:
    """The phrasebook comes first even with providers: exact, instant and free."""
    with ProviderServers() as servers:
        function_env(**servers.env())
        turn(worker, graph_emulator, lambda_context, "wamid.KK0", text="hola")
        before = len(servers.groq.requests) + len(servers.claude.requests)
        answer = turn(
            worker, graph_emulator, lambda_context, "wamid.KK1", text="How do you say the bill, please?"
        )
        assert text_of(answer).startswith("💬 _The bill, please_ in Spanish: *La cuenta, por favor*")
        assert len(servers.groq.requests) + len(servers.claude.requests) == before
