"""The ``scheduler`` Lambda (functions/scheduler/handler.py) as EventBridge invokes it: a scheduled event and
a Lambda context, the real Postgres (migrated) and the tutor's inbound queue as an SQS FIFO queue on a moto
server.

A learner is made due for a review at run time: a card due an hour ago, their last message 8 hours ago (inside
the window), in a zone where it is now a waking hour, so nothing depends on the minute the test runs (a
reminder-hour learner did: CI ran it at hh:58 once). Covered: one pass puts exactly
one envelope on the queue, in the learner's message group, at the invocation's clock (not the event's
``time``); a second invocation in the same slot (EventBridge's retry, an overlapping pass) queues nothing
more; an operator's ``{"at": ...}`` is honoured. Bad input: a queue URL that does not exist (the queue
refuses): the invocation raises, so the async retry and the alarms see it, and no ``proactive_messages`` row
stays claimed, so the next pass sends it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import boto3
import psycopg
import pytest

from espaluz.config import get_settings
from espaluz.queue.base import QueueError

# Zones around the world: their offsets leave no gap of 10 hours, so one of them is between 10:00 and
# 19:59 whatever the time of the run (and stays awake until 22:00, past any hour change during a test).
ZONES = (
    "America/Mexico_City",
    "Europe/Madrid",
    "Asia/Tokyo",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Sydney",
    "America/Los_Angeles",
    "Asia/Shanghai",
    "America/Sao_Paulo",
    "Europe/London",
)
WAKING = range(10, 20)  # well outside the default quiet hours (22-8)


def waking_zone(now: datetime) -> str:
    """A zone where it is a waking hour at ``now``."""
    for zone in ZONES:
        if now.astimezone(ZoneInfo(zone)).hour in WAKING:
            return zone
    raise AssertionError("no zone at a waking hour")  # impossible: see ZONES


def scheduled_event(at: datetime) -> dict[str, Any]:
    """What EventBridge sends for a ``rate(5 minutes)`` rule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/espaluz-dev-scheduler"],
        "detail": {},
    }


@pytest.fixture
def db(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def inbound(aws_env: str) -> tuple[Any, str]:
    """The tutor's inbound queue as serverless.yml declares it (FIFO, per-group deduplication)."""
    sqs = boto3.client("sqs")
    url = sqs.create_queue(
        QueueName=f"inbound-{time.monotonic_ns()}.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false", "VisibilityTimeout": "30"},
    )["QueueUrl"]
    return sqs, url


@pytest.fixture
def scheduler_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The function's environment (serverless.yml: DATABASE_URL from the secret, QUEUE_URL), and its
    handler module; returns a setter for the queue URL."""
    monkeypatch.delenv("ESPALUZ_SECRETS", raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)

    def set_queue(url: str) -> None:
        monkeypatch.setenv("QUEUE_URL", url)
        get_settings.cache_clear()

    yield set_queue
    get_settings.cache_clear()


def due_learner(db: psycopg.Connection[Any], now: datetime) -> tuple[UUID, str]:
    """A learner with a review due at ``now`` (a card due an hour ago, their last message 8 hours ago:
    inside the window, at any waking hour, so the test does not depend on the minute it runs); returns
    their id and FIFO group (learner_key)."""
    wa_id = "52155" + str(uuid.uuid4().int)[:8]
    last = now - timedelta(hours=8)
    row = db.execute(
        """INSERT INTO learners (wa_id, learner_key, last_inbound_at, timezone, reminders_consent,
                                 onboarded_at)
           VALUES (%s, %s, %s, %s, true, %s) RETURNING id""",
        (wa_id, wa_id, last, waking_zone(now), last),
    ).fetchone()
    assert row is not None
    db.execute(
        "INSERT INTO skill_cards (learner_id, skill, card, due) VALUES (%s, 'gp:ser_identity', '{}', %s)",
        (row[0], now - timedelta(hours=1)),
    )
    return UUID(str(row[0])), wa_id


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    for _ in range(3):
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0
        ).get("Messages", [])
        if not batch:
            break
        got.extend(batch)
    return got


def claimed(db: psycopg.Connection[Any], learner_id: UUID) -> list[tuple[str, str]]:
    rows = db.execute(
        "SELECT kind, status FROM proactive_messages WHERE learner_id = %s", (learner_id,)
    ).fetchall()
    return [(str(kind), str(status)) for kind, status in rows]


def test_a_scheduled_invocation_queues_the_due_review_once(
    db: psycopg.Connection[Any], inbound: tuple[Any, str], scheduler_env: Any, lambda_context: Any
) -> None:
    from functions.scheduler.handler import handler

    sqs, url = inbound
    scheduler_env(url)
    now = datetime.now(UTC)
    learner_id, group = due_learner(db, now)

    # The event's time is hours old (a late delivery): the pass runs at the invocation's clock.
    result = handler(scheduled_event(now - timedelta(hours=3)), lambda_context)
    assert result["queued"] == 1, result
    assert result["by_kind"] == {"review": 1}
    assert abs(datetime.fromisoformat(result["at"]) - datetime.now(UTC)) < timedelta(minutes=1)
    assert claimed(db, learner_id) == [("review", "queued")]

    # EventBridge's retry, or the next pass within the slot: nothing more.
    again = handler(scheduled_event(now), lambda_context)
    assert again["queued"] == 0, again

    messages = drain(sqs, url)
    assert len(messages) == 1
    assert messages[0]["Attributes"]["MessageGroupId"] == group
    body = json.loads(messages[0]["Body"])
    assert str(learner_id) in json.dumps(body)
    assert "review" in json.dumps(body)


def test_an_operators_at_is_honoured(
    db: psycopg.Connection[Any], inbound: tuple[Any, str], scheduler_env: Any, lambda_context: Any
) -> None:
    """``{"at": ...}`` (a manual invoke) runs the pass at that time: here three hours ago, when the
    learner's card was not due yet, so nothing is queued, and the answer names the time asked for."""
    from functions.scheduler.handler import handler

    sqs, url = inbound
    scheduler_env(url)
    now = datetime.now(UTC)
    learner_id, _ = due_learner(db, now)
    earlier = (now - timedelta(hours=3)).replace(microsecond=0)
    result = handler({"at": earlier.isoformat()}, lambda_context)
    assert datetime.fromisoformat(result["at"]) == earlier
    assert result["queued"] == 0
    assert claimed(db, learner_id) == []
    assert drain(sqs, url) == []
    with pytest.raises(ValueError, match="isoformat"):
        handler({"at": "tomorrow at seven"}, lambda_context)


def test_a_refusing_queue_fails_the_invocation_and_leaves_nothing_claimed(
    db: psycopg.Connection[Any], inbound: tuple[Any, str], scheduler_env: Any, lambda_context: Any
) -> None:
    from functions.scheduler.handler import handler

    sqs, url = inbound
    scheduler_env(url.replace("inbound-", "gone-"))  # a queue that does not exist
    now = datetime.now(UTC)
    learner_id, group = due_learner(db, now)
    with pytest.raises(QueueError):
        handler(scheduled_event(now), lambda_context)
    assert claimed(db, learner_id) == []  # rolled back: the next pass retries

    scheduler_env(url)  # the queue is back: the next pass sends it
    assert handler(scheduled_event(now), lambda_context)["queued"] == 1
    messages = drain(sqs, url)
    assert [m["Attributes"]["MessageGroupId"] for m in messages] == [group]
