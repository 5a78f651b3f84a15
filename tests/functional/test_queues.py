"""The queue adapters on real services: SQS FIFO through a moto server, and the Redis-backed local
FIFO queue that the local stack uses. Both must keep the same semantics."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
import redis

from espaluz.queue.base import QueueError, QueueMessage
from espaluz.queue.local import LocalFifoQueue
from espaluz.queue.sqs import SqsQueue


@pytest.fixture
def sqs_pair(aws_env: str) -> tuple[Any, str, str]:
    """A FIFO queue whose messages go to a FIFO dead-letter queue after 2 receives."""
    sqs = boto3.client("sqs")
    suffix = str(time.monotonic_ns())
    dlq = sqs.create_queue(QueueName=f"dlq-{suffix}.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    main = sqs.create_queue(
        QueueName=f"main-{suffix}.fifo",
        Attributes={
            "FifoQueue": "true",
            "VisibilityTimeout": "1",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}),
        },
    )["QueueUrl"]
    return sqs, main, dlq


def test_sqs_fifo_keeps_group_order_and_dedupes_by_id(sqs_pair: tuple[Any, str, str]) -> None:
    sqs, url, _ = sqs_pair
    queue = SqsQueue(url, client=sqs)
    messages = [QueueMessage(f"m{i}", "learner-a", f"wamid.{i}") for i in range(12)]  # > one batch of 10
    queue.send_batch(messages)
    queue.send_batch([QueueMessage("again", "learner-a", "wamid.3")])  # duplicate delivery
    bodies: list[str] = []
    for _ in range(5):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        for m in got:
            bodies.append(m["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert bodies == [f"m{i}" for i in range(12)]


def test_sqs_dead_letter_redrive_after_max_receives(sqs_pair: tuple[Any, str, str]) -> None:
    """A message that keeps failing (never deleted) moves to the DLQ after maxReceiveCount."""
    sqs, url, dlq = sqs_pair
    SqsQueue(url, client=sqs).send_batch([QueueMessage("poison", "learner-b", "wamid.poison")])
    for _ in range(2):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=0)["Messages"]
        assert got[0]["Body"] == "poison"
        time.sleep(1.1)  # let the 1 s visibility timeout lapse, as after a failed invocation
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1).get("Messages", []) == []
    dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=1)["Messages"]
    assert dead[0]["Body"] == "poison"


def test_sqs_unreachable_raises_queue_error(aws_env: str) -> None:
    """Provider timeout / missing queue: the caller gets QueueError, never a silent loss."""
    queue = SqsQueue(f"{aws_env}/123456789012/missing.fifo")
    with pytest.raises(QueueError):
        queue.send_batch([QueueMessage("x", "g", "d")])


def test_local_queue_orders_groups_and_holds_a_group_in_flight(redis_client: redis.Redis[bytes]) -> None:
    q = LocalFifoQueue(redis_client, "t1")
    q.send_batch([QueueMessage("a1", "A", "1"), QueueMessage("b1", "B", "2"), QueueMessage("a2", "A", "3")])
    first = q.receive(max_messages=10)
    assert [(m.group_id, m.body) for m in first] == [("A", "a1"), ("A", "a2"), ("B", "b1")]
    # Both groups are in flight: nothing more until they are settled.
    q.send_batch([QueueMessage("a3", "A", "4")])
    assert q.receive() == []
    q.settle("A", [first[0].message_id, first[1].message_id])
    [next_a] = q.receive()
    assert next_a.body == "a3"


def test_local_queue_dedupes_within_the_window(redis_client: redis.Redis[bytes]) -> None:
    q = LocalFifoQueue(redis_client, "t2")
    q.send_batch([QueueMessage("x", "A", "same"), QueueMessage("x", "A", "same")])
    assert q.depth() == 1


def test_local_queue_redelivers_a_failed_group_then_dead_letters_it(redis_client: redis.Redis[bytes]) -> None:
    q = LocalFifoQueue(redis_client, "t3", max_receives=2)
    q.send_batch([QueueMessage("poison", "A", "p")])
    for expected_count in (1, 2):
        [m] = q.receive()
        assert m.receive_count == expected_count
        q.settle("A", [], retry_delay_ms=0)  # failed: nothing done, group released
    assert q.receive() == []
    [dead] = q.dead_letters()
    assert dead["body"] == "poison"
    assert q.depth() == 0


def test_local_queue_record_has_the_sqs_event_shape(redis_client: redis.Redis[bytes]) -> None:
    q = LocalFifoQueue(redis_client, "t4")
    q.send_batch([QueueMessage('{"k": 1}', "G", "wamid.X")])
    [m] = q.receive()
    record = m.to_sqs_record(q.arn)
    assert record["eventSource"] == "aws:sqs"
    assert record["attributes"]["MessageGroupId"] == "G"
    assert record["attributes"]["MessageDeduplicationId"] == "wamid.X"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["eventSourceARN"].endswith(".fifo")


def test_local_queue_reports_redis_outage_as_queue_error(tmp_path: Any) -> None:
    """Redis goes away: sending raises QueueError so the webhook answers 5xx."""
    gone = redis.Redis(unix_socket_path=str(tmp_path / "nothing.sock"))
    with pytest.raises(QueueError):
        LocalFifoQueue(gone, "t5").send_batch([QueueMessage("x", "A", "1")])


def test_local_dead_letters_are_kept_for_the_retention_then_deleted(redis_client: redis.Redis[bytes]) -> None:
    """Covers: a dead letter is stamped with the receive's clock, kept up to the retention (inclusive)
    and deleted after it by a later read or dead-lettering; its keys carry an expiry in Redis too."""
    q = LocalFifoQueue(redis_client, "t9", max_receives=1, dlq_retention_seconds=100)
    now = float(int(time.time()))  # whole seconds: the boundary below is exact in milliseconds
    q.send_batch([QueueMessage("first", "A", "d1")])
    q.receive(now=now)
    q.settle("A", [], retry_delay_ms=0)
    assert q.receive(now=now) == []
    assert [d["body"] for d in q.dead_letters(now=now + 100)] == ["first"]
    assert 0 < redis_client.pttl(q.key("dead")) <= 100_000
    q.send_batch([QueueMessage("second", "B", "d2")])
    q.receive(now=now + 150)
    q.settle("B", [], retry_delay_ms=0)
    assert q.receive(now=now + 150) == []  # dead-letters "second" and drops "first" (150 s old)
    assert redis_client.hlen(q.key("deadm")) == 1
    assert [d["body"] for d in q.dead_letters(now=now + 150)] == ["second"]
    assert q.dead_letters(now=now + 251) == []


def test_local_dead_letters_of_the_older_unexpiring_list_are_moved_and_then_expire(
    redis_client: redis.Redis[bytes],
) -> None:
    """Covers: a local stack upgraded with dead letters in the list that older versions kept (forever,
    ``q:{NAME}:dlq``, as written below in that version's format) finds them, and they expire from then."""
    q = LocalFifoQueue(redis_client, "t10", dlq_retention_seconds=100)
    fields = ["body", "old", "group", "A", "dedup", "d0", "receives", "6", "sent", "1", "seq", "7"]
    redis_client.rpush(q.key("dlq"), json.dumps(fields))
    now = time.time()
    [moved] = q.dead_letters(now=now)
    assert (moved["id"], moved["body"], moved["group"]) == ("7", "old", "A")
    assert redis_client.exists(q.key("dlq")) == 0
    assert q.dead_letters(now=now + 101) == []
