"""Billing inside tutor turns: the plan command's checkout link, the free-tier limit, offers after a good
moment, and a local purchase seen by ``espaluz learner show``. Real webhook and tutor handlers, the local
FIFO queue, Postgres, Redis, the Graph API emulator and the local Stripe server."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
import pytest
import redis
from click.testing import CliRunner

from espaluz.billing import messages
from espaluz.dev.worker import QueueWorker
from espaluz.queue.local import LocalFifoQueue
from espaluz.tutor.state import StateStore
from functions.tutor import handler as tutor
from tests.conftest import GraphEmulator
from tests.functional.test_tutor import LEARNER, replies, say, text_of
from tests.stripe_api import StripeAPI, stripe_api

__all__ = ["stripe_api"]

BSUID = "US.13491208655300000001"  # tests/events/whatsapp_bsuid_only.json


@pytest.fixture
def worker(stripe_api: StripeAPI, redis_client: redis.Redis[bytes]) -> QueueWorker:
    return QueueWorker(LocalFifoQueue(redis_client, "inbound"), tutor.handler)


def turn(worker: QueueWorker, context: Any, text: str | None = None, **kwargs: Any) -> None:
    """The learner writes; the queue is drained (billing notices queued meanwhile are delivered too)."""
    say(context, text, **kwargs)
    assert worker.run_once() >= 1
    while worker.run_once():
        pass


def checkout_url(body: dict[str, Any]) -> str:
    assert body["type"] == "interactive", body
    assert body["interactive"]["type"] == "cta_url", body
    return str(body["interactive"]["action"]["parameters"]["url"])


def button_ids(body: dict[str, Any]) -> list[str]:
    if body["type"] != "interactive" or body["interactive"]["type"] != "button":
        return []
    return [b["reply"]["id"] for b in body["interactive"]["action"]["buttons"]]


def learner_show(database_url: str, who: str) -> dict[str, Any]:
    import json

    from espaluz.cli import main

    result = CliRunner().invoke(main, ["learner", "show", who, "--json"], env={"DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def test_bsuid_only_learner_subscribes_in_chat_and_is_recognised(
    worker: QueueWorker,
    stripe_api: StripeAPI,
    graph_emulator: GraphEmulator,
    database_url: str,
    lambda_context: Any,
) -> None:
    """A learner with no phone number writes "plan", gets a checkout URL button, pays on the local page;
    the signed events reach the billing function and ``espaluz learner show`` reports the plan."""
    turn(worker, lambda_context, "plan", wamid="wamid.B1", payload_name="whatsapp_bsuid_only.json")
    [link] = replies(graph_emulator, to=BSUID)
    url = checkout_url(link)
    assert url.startswith(f"{stripe_api.base_url}/dev/checkout/cs_test_")
    shown = learner_show(database_url, BSUID)
    session = stripe_api.emulator.sessions[url.rsplit("/", 1)[1]]
    assert session["client_reference_id"] == shown["learner_id"]
    assert (shown["plan"], shown["plan_status"]) == ("free", "none")

    assert all(e["status"] == 200 for e in stripe_api.pay(session["id"]))
    shown = learner_show(database_url, BSUID)
    assert (shown["plan"], shown["plan_status"]) == ("premium", "active")
    while worker.run_once():  # the thanks notice travels through the tutor's queue and send policy
        pass
    thanks = replies(graph_emulator, to=BSUID)[-1]
    assert "Ya tienes *Espaluz Plus*" in text_of(thanks)

    # Asking again now opens the portal instead of a second checkout.
    turn(worker, lambda_context, "suscribir", wamid="wamid.B2", payload_name="whatsapp_bsuid_only.json")
    portal = checkout_url(replies(graph_emulator, to=BSUID)[-1])
    assert "/dev/checkout/portal/" in portal


def test_free_tier_limit_is_enforced_in_a_turn_and_lifted_by_paying(
    caplog: pytest.LogCaptureFixture,
    worker: QueueWorker,
    stripe_api: StripeAPI,
    function_env: Any,
    graph_emulator: GraphEmulator,
    redis_client: redis.Redis[bytes],
    database_url: str,
    lambda_context: Any,
) -> None:
    """Greetings are free; the second drill turn is answered with the last-free-message notice after it;
    the next one gets the limit notice (with the price) instead of a lesson; after paying, the very next
    turn is answered (a cached "free" never blocks a paying learner)."""
    caplog.set_level(logging.INFO)
    function_env(BILLING_FREE_TURNS_PER_DAY="2", STRIPE_API_BASE=stripe_api.api_base)
    turn(worker, lambda_context, "hola", wamid="wamid.F1")
    turn(worker, lambda_context, "hola", wamid="wamid.F2")
    turn(worker, lambda_context, wamid="wamid.F3", button=("practice", "Practicar"))
    answer_right(worker, lambda_context, redis_client, database_url, "wamid.F4")
    answer_right(worker, lambda_context, redis_client, database_url, "wamid.F5")
    first, second, _asked, last, limited = replies(graph_emulator)
    assert "Hola" in text_of(first)
    assert "Hola" in text_of(second)
    assert "último mensaje gratis" in text_of(last)
    assert "9,99 €" in text_of(last)
    assert "no te quedan mensajes gratis" in text_of(limited)
    assert "9,99 €" in text_of(limited)
    assert button_ids(limited) == [messages.PLAN_BUTTON]

    turn(worker, lambda_context, wamid="wamid.F6", button=(messages.PLAN_BUTTON, "Ver el plan"))
    plan = replies(graph_emulator)[-1]
    assert "9,99 € al mes" in text_of(plan)  # the price, before the link
    url = checkout_url(plan)
    assert all(e["status"] == 200 for e in stripe_api.pay(url.rsplit("/", 1)[1]))
    answer_right(worker, lambda_context, redis_client, database_url, "wamid.F7")
    assert "no te quedan" not in text_of(replies(graph_emulator)[-1])
    # Privacy: billing logs name learners by internal id only, never by phone number.
    billing_logs = [
        r for r in caplog.records if r.name.startswith(("espaluz.billing", "espaluz.tutor.paywall"))
    ]
    assert billing_logs
    assert all(LEARNER not in f"{r.getMessage()} {r.__dict__}" for r in billing_logs)


def past_first_session(database_url: str) -> None:
    """The learner arrived two days ago (offers wait for the second session)."""
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "UPDATE learners SET created_at = now() - interval '2 days' WHERE wa_id = %s", (LEARNER,)
        )


def test_offer_after_a_good_moment_then_no_then_quiet_and_report(
    worker: QueueWorker,
    stripe_api: StripeAPI,
    function_env: Any,
    graph_emulator: GraphEmulator,
    redis_client: redis.Redis[bytes],
    database_url: str,
    lambda_context: Any,
) -> None:
    """An offer comes only after a moment worth praising (a 2-answer streak), past the first session, with
    a value line, the price and a bonus; after "no" no further offer comes; the report counts it."""
    function_env(
        BILLING_OFFER_STREAK="2",
        BILLING_OFFER_BONUS_FEATURE="unlimited_turns",
        STRIPE_API_BASE=stripe_api.api_base,
    )
    turn(worker, lambda_context, wamid="wamid.O0", button=("practice", "Practicar"))
    past_first_session(database_url)
    offered = []
    for i in range(2):
        answer_right(worker, lambda_context, redis_client, database_url, f"wamid.O{i + 1}")
        offered.append(button_ids(replies(graph_emulator)[-1]) == [messages.OFFER_YES, messages.OFFER_NO])
    assert offered.count(True) == 1
    offer_reply = next(r for r in replies(graph_emulator) if messages.OFFER_YES in button_ids(r))
    assert "Esta semana" in text_of(offer_reply) or "Vas muy bien" in text_of(offer_reply)
    assert "9,99 €" in text_of(offer_reply)
    assert "Te regalo 7 días de *ejercicios y respuestas sin límite diario*" in text_of(offer_reply)

    turn(worker, lambda_context, wamid="wamid.O3", button=(messages.OFFER_NO, "Ahora no"))
    assert "Sin problema" in text_of(replies(graph_emulator)[-1])
    turn(worker, lambda_context, wamid="wamid.O4", button=("practice", "Practicar"))
    for i in range(4):
        answer_right(worker, lambda_context, redis_client, database_url, f"wamid.O{i + 5}")
        assert messages.OFFER_YES not in button_ids(replies(graph_emulator)[-1])
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT response, followup_status, bonus_feature FROM offers").fetchall()
    assert rows == [("declined", "skipped", "unlimited_turns")]

    report = report_json(database_url)
    assert (report["offers"], report["declined"], report["converted"]) == (1, 1, 0)
    assert report["conversion_rate"] == 0.0


def test_offer_accepted_and_paid_counts_as_a_conversion(
    worker: QueueWorker,
    stripe_api: StripeAPI,
    function_env: Any,
    graph_emulator: GraphEmulator,
    redis_client: redis.Redis[bytes],
    database_url: str,
    lambda_context: Any,
) -> None:
    function_env(BILLING_OFFER_STREAK="1", STRIPE_API_BASE=stripe_api.api_base)
    turn(worker, lambda_context, wamid="wamid.C0", button=("practice", "Practicar"))
    past_first_session(database_url)
    answer_right(worker, lambda_context, redis_client, database_url, "wamid.C1")
    assert messages.OFFER_YES in button_ids(replies(graph_emulator)[-1])
    turn(worker, lambda_context, wamid="wamid.C2", button=(messages.OFFER_YES, "Ver el plan"))
    url = checkout_url(replies(graph_emulator)[-1])
    session = stripe_api.emulator.sessions[url.rsplit("/", 1)[1]]
    assert "offer_id" in session["metadata"]
    assert all(e["status"] == 200 for e in stripe_api.pay(session["id"]))
    report = report_json(database_url)
    assert (report["offers"], report["accepted"], report["converted"], report["conversion_rate"]) == (
        1,
        1,
        1,
        1.0,
    )


def answer_right(
    worker: QueueWorker, context: Any, redis_client: redis.Redis[bytes], database_url: str, wamid: str
) -> None:
    """Answer the pending drill correctly (the expected form, read from the conversation state)."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT id FROM learners WHERE wa_id = %s", (LEARNER,)).fetchone()
    assert row is not None
    pending = StateStore(redis_client, 3600).load(row[0]).pending
    assert pending is not None
    turn(worker, context, pending.expected[0], wamid=wamid)


def report_json(database_url: str) -> dict[str, Any]:
    import json

    from espaluz.cli import main

    result = CliRunner().invoke(main, ["billing", "report", "--json"], env={"DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data
