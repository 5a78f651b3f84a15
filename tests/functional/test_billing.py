"""The billing Lambda handler with Stripe events signed by the ``stripe`` package's own signing code,
on a real Postgres."""

from __future__ import annotations

import json
import time
from typing import Any

import psycopg
import pytest
import stripe

from espaluz.storage import learners
from functions.billing import handler as billing
from tests.conftest import STRIPE_SECRET
from tests.functional.test_webhook import api_event


def stripe_header(body: bytes, secret: str = STRIPE_SECRET, at: int | None = None) -> str:
    timestamp = int(time.time()) if at is None else at
    signature = stripe.WebhookSignature._compute_signature(  # type: ignore[no-untyped-call]
        f"{timestamp}.{body.decode()}", secret
    )
    return f"t={timestamp},v1={signature}"


def checkout_completed(event_id: str, learner_id: str) -> bytes:
    event = {
        "id": event_id,
        "object": "event",
        "api_version": "2025-09-30.clover",
        "created": int(time.time()),
        "type": "checkout.session.completed",
        "livemode": False,
        "data": {
            "object": {
                "id": "cs_test_a1b2c3",
                "object": "checkout.session",
                "mode": "subscription",
                "client_reference_id": learner_id,
                "metadata": {"learner_id": learner_id},
                "subscription": "sub_test_123",
                "customer": "cus_test_123",
                "status": "complete",
                "payment_status": "paid",
            }
        },
    }
    return json.dumps(event).encode()


def post(body: bytes, context: Any, header: str | None) -> dict[str, Any]:
    headers = {"stripe-signature": header} if header else {}
    event = api_event(body, path="/webhooks/stripe", headers=headers)
    result: dict[str, Any] = billing.handler(event, context)
    return result


@pytest.fixture
def learner_id(function_env: Any, database_url: str) -> str:
    with psycopg.connect(database_url) as conn:
        created = learners.upsert(conn, learners.Identity(bsuid="US.1000000000000000042", wa_id=None), "1")
    return str(created.id)


def plan_of(database_url: str, learner_id: str) -> tuple[str, str]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT plan, plan_status FROM learners WHERE id = %s", (learner_id,)).fetchone()
    assert row is not None
    return row[0], row[1]


def test_checkout_completed_unlocks_the_plan_for_a_bsuid_only_learner(
    learner_id: str, database_url: str, lambda_context: Any
) -> None:
    body = checkout_completed("evt_1", learner_id)
    result = post(body, lambda_context, stripe_header(body))
    assert result["statusCode"] == 200
    assert json.loads(result["body"]) == {"received": True, "duplicate": False}
    assert plan_of(database_url, learner_id) == ("premium", "active")


def test_repeated_event_is_acknowledged_and_applied_once(
    learner_id: str, database_url: str, lambda_context: Any
) -> None:
    """Duplicate delivery: Stripe repeats the event; the second gets 200 and changes nothing."""
    body = checkout_completed("evt_2", learner_id)
    assert post(body, lambda_context, stripe_header(body))["statusCode"] == 200
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "UPDATE learners SET plan = 'free', plan_status = 'canceled' WHERE id = %s", (learner_id,)
        )
    again = post(body, lambda_context, stripe_header(body))
    assert json.loads(again["body"])["duplicate"] is True
    assert plan_of(database_url, learner_id) == ("free", "canceled")


@pytest.mark.parametrize(
    ("header_for", "reason"),
    [
        (lambda body: None, "missing"),
        (lambda body: stripe_header(body, secret="whsec_forged"), "forged"),
        (lambda body: stripe_header(body, at=int(time.time()) - 301), "stale (outside 300 s tolerance)"),
    ],
)
def test_bad_signatures_are_refused(
    learner_id: str, database_url: str, lambda_context: Any, header_for: Any, reason: str
) -> None:
    """Forged, missing and replayed-too-late signatures: 400, nothing applied."""
    body = checkout_completed("evt_3", learner_id)
    assert post(body, lambda_context, header_for(body))["statusCode"] == 400, reason
    assert plan_of(database_url, learner_id) == ("free", "none")


def test_failure_mid_processing_then_retry_applies_once(
    function_env: Any, learner_id: str, database_url: str, tmp_path: Any, lambda_context: Any
) -> None:
    """The database goes away during an event: 500 so Stripe retries; the retry applies it once."""
    body = checkout_completed("evt_4", learner_id)
    function_env(DATABASE_URL=f"postgresql://postgres@/postgres?host={tmp_path}&connect_timeout=1")
    assert post(body, lambda_context, stripe_header(body))["statusCode"] == 500
    function_env(DATABASE_URL=database_url)
    result = post(body, lambda_context, stripe_header(body))
    assert json.loads(result["body"]) == {"received": True, "duplicate": False}
    assert plan_of(database_url, learner_id) == ("premium", "active")


def test_unused_event_types_are_acknowledged(learner_id: str, lambda_context: Any) -> None:
    event = {
        "id": "evt_5",
        "object": "event",
        "created": int(time.time()),
        "type": "customer.created",
        "data": {"object": {"id": "cus_1", "object": "customer"}},
    }
    body = json.dumps(event).encode()
    assert post(body, lambda_context, stripe_header(body))["statusCode"] == 200
