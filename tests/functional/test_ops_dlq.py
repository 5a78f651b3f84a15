"""`espaluz dlq list|show|redrive` against moto's SQS (real boto3 calls over HTTP).

Failures covered: a message redriven within SQS's 5-minute deduplication window (a resend with the same
id would be dropped silently), a learner's order across a redrive, peeking that must not consume or hide
messages, unknown message ids, a queue without a dead-letter queue, and messages that really went
through maxReceiveCount failed receives.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from click.testing import CliRunner

from espaluz.config import get_settings
from espaluz.ops import dlq as dlq_module
from espaluz.ops.dlq import dlq


class Queues:
    def __init__(self, client: Any, max_receive_count: int = 5) -> None:
        suffix = uuid.uuid4().hex[:8]
        self.client = client
        self.dlq_url = client.create_queue(
            QueueName=f"inbound-dlq-{suffix}.fifo", Attributes={"FifoQueue": "true"}
        )["QueueUrl"]
        dlq_arn = client.get_queue_attributes(QueueUrl=self.dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count})
        self.url = client.create_queue(
            QueueName=f"inbound-{suffix}.fifo",
            Attributes={"FifoQueue": "true", "RedrivePolicy": policy, "VisibilityTimeout": "30"},
        )["QueueUrl"]

    def dead_letter(self, wamid: str, group: str) -> str:
        body = json.dumps({"wamid": wamid, "wa_id": "15550000000", "message": {"type": "text"}})
        return str(
            self.client.send_message(
                QueueUrl=self.dlq_url, MessageBody=body, MessageGroupId=group, MessageDeduplicationId=wamid
            )["MessageId"]
        )

    def drain(self, url: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            got = self.client.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
            ).get("Messages", [])
            if not got:
                return out
            for m in got:
                self.client.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            out.extend(got)

    def count(self, url: str) -> int:
        attrs = self.client.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


@pytest.fixture
def queues(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Queues]:
    q = Queues(boto3.client("sqs"))
    monkeypatch.setenv("QUEUE_URL", q.url)
    get_settings.cache_clear()
    yield q
    get_settings.cache_clear()


def run(*args: str) -> Any:
    return CliRunner().invoke(dlq, list(args), catch_exceptions=False)


def test_list_peeks_without_consuming_and_hides_bodies(queues: Queues) -> None:
    """Listing twice shows the same messages: a peek that forgot to release them would hide them."""
    ids = [queues.dead_letter(f"wamid.A{i}", "learner-a") for i in range(3)]
    ids.append(queues.dead_letter("wamid.B0", "learner-b"))
    for _ in range(2):
        result = run("list", "--json")
        assert result.exit_code == 0, result.output
        rows = [json.loads(line) for line in result.output.splitlines()]
        assert sorted(r["message_id"] for r in rows) == sorted(ids)
        assert {r["wamid"] for r in rows} == {"wamid.A0", "wamid.A1", "wamid.A2", "wamid.B0"}
        assert {r["group_id"] for r in rows} == {"learner-a", "learner-b"}
        assert "15550000000" not in result.output  # the body (a phone number) is never listed
    assert queues.count(queues.dlq_url) == 4


def test_show_prints_one_message_with_its_body(queues: Queues) -> None:
    message_id = queues.dead_letter("wamid.SHOW", "learner-a")
    result = run("show", message_id)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["message_id"] == message_id
    assert data["body"]["wamid"] == "wamid.SHOW"
    missing = CliRunner().invoke(dlq, ["show", "no-such-id"])
    assert missing.exit_code == 1
    assert "no message no-such-id" in missing.output


def test_redrive_one_keeps_the_rest_and_survives_the_dedup_window(queues: Queues) -> None:
    """The original wamid was enqueued seconds ago on the source queue: a resend with the same
    deduplication id would be accepted by SQS and silently dropped; redrive must use a fresh one."""
    queues.client.send_message(
        QueueUrl=queues.url, MessageBody="{}", MessageGroupId="learner-a", MessageDeduplicationId="wamid.R1"
    )
    queues.drain(queues.url)
    first = queues.dead_letter("wamid.R1", "learner-a")
    second = queues.dead_letter("wamid.R2", "learner-b")
    result = run("redrive", first)
    assert result.exit_code == 0, result.output
    moved = queues.drain(queues.url)
    assert len(moved) == 1
    assert json.loads(moved[0]["Body"])["wamid"] == "wamid.R1"
    assert moved[0]["Attributes"]["MessageGroupId"] == "learner-a"
    left = queues.drain(queues.dlq_url)
    assert [m["MessageId"] for m in left] == [second]


def test_redrive_all_preserves_each_learners_order(queues: Queues) -> None:
    for i in range(4):
        queues.dead_letter(f"wamid.O{i}", "learner-a")
    queues.dead_letter("wamid.P0", "learner-b")
    dry = run("redrive", "--all", "--dry-run")
    assert dry.exit_code == 0
    assert queues.count(queues.dlq_url) == 5  # a dry run moves nothing
    result = run("redrive", "--all", "--json")
    assert result.exit_code == 0, result.output
    assert len(result.output.splitlines()) == 5
    moved = queues.drain(queues.url)
    group_a = [
        json.loads(m["Body"])["wamid"] for m in moved if m["Attributes"]["MessageGroupId"] == "learner-a"
    ]
    assert group_a == ["wamid.O0", "wamid.O1", "wamid.O2", "wamid.O3"]
    assert queues.count(queues.dlq_url) == 0


def test_redrive_of_unknown_ids_fails_and_moves_nothing_else(queues: Queues) -> None:
    queues.dead_letter("wamid.K", "learner-a")
    result = CliRunner().invoke(dlq, ["redrive", "nope"])
    assert result.exit_code == 1
    assert "not in the dead-letter queue: nope" in result.output
    assert queues.count(queues.dlq_url) == 1
    assert queues.count(queues.url) == 0
    usage = CliRunner().invoke(dlq, ["redrive"])
    assert usage.exit_code == 2  # neither ids nor --all


def test_messages_that_failed_max_receive_count_times_are_found_and_redriven(aws_env: str) -> None:
    """The real path: SQS itself moves a message after maxReceiveCount receives without a delete."""
    client = boto3.client("sqs")
    q = Queues(client, max_receive_count=1)
    client.send_message(
        QueueUrl=q.url,
        MessageBody=json.dumps({"wamid": "wamid.F"}),
        MessageGroupId="g",
        MessageDeduplicationId="F",
    )
    for _ in range(3):  # received, not deleted (the tutor failed), visible again at once
        for m in client.receive_message(QueueUrl=q.url, VisibilityTimeout=0).get("Messages", []):
            client.change_message_visibility(
                QueueUrl=q.url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
            )
    letters = dlq_module.peek(client, dlq_module.dead_letter_queue_url(client, q.url))
    assert [d.wamid for d in letters] == ["wamid.F"]
    moved = dlq_module.redrive(client, q.url, q.dlq_url)
    assert [d.message_id for d in moved] == [d.message_id for d in letters]
    assert [json.loads(m["Body"])["wamid"] for m in q.drain(q.url)] == ["wamid.F"]


def test_a_queue_without_a_dead_letter_queue_is_reported(
    aws_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = boto3.client("sqs")
    url = client.create_queue(
        QueueName=f"plain-{uuid.uuid4().hex[:8]}.fifo", Attributes={"FifoQueue": "true"}
    )["QueueUrl"]
    result = CliRunner().invoke(dlq, ["list", "--queue-url", url])
    assert result.exit_code == 1
    assert "no dead-letter queue" in result.output
    monkeypatch.setenv("QUEUE_URL", "local:inbound")
    get_settings.cache_clear()
    local = CliRunner().invoke(dlq, ["list"])
    get_settings.cache_clear()
    assert local.exit_code == 2  # the local stack's queue has no SQS dead-letter queue
