"""Tutor batches within the Lambda's clock (espaluz/tutor/batch.py), through the real tutor handler on
real Postgres and Redis: records not taken when the remaining time cannot hold one more turn, failed
records brought back by ``ChangeMessageVisibility`` on SQS (the moto server), and the local worker
following the same rules under its enforced timeout.

No assertion is about a duration: each test checks which records were answered, which were reported
failed, and whether a message is receivable again long before the queue's visibility timeout.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import psycopg
import pytest
import redis
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from espaluz.config import get_settings
from espaluz.dev.gateway import LambdaContext
from espaluz.dev.worker import QueueWorker
from espaluz.queue.local import LocalFifoQueue
from espaluz.tutor.batch import turn_budget
from espaluz.whatsapp.signature import sign
from functions.tutor import handler as tutor
from functions.webhook import handler as webhook
from tests.conftest import APP_SECRET, GraphEmulator, load_event
from tests.functional.test_tutor import replies, say
from tests.functional.test_webhook import api_event
from tests.providers import Answer, ProviderServers

QUEUE_VISIBILITY_S = 120  # the moto queue's visibility timeout: a message back sooner was shortened


class MotoFifo:
    """A FIFO queue on the moto server, fed with what the real webhook enqueued locally."""

    def __init__(self) -> None:
        self.client = boto3.client("sqs")
        name = f"espaluz-test-{uuid.uuid4().hex[:12]}.fifo"
        self.url = self.client.create_queue(
            QueueName=name,
            Attributes={"FifoQueue": "true", "VisibilityTimeout": str(QUEUE_VISIBILITY_S)},
        )["QueueUrl"]
        self.arn = self.client.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    def send_from(self, local: LocalFifoQueue) -> None:
        """Move everything the webhook put on the local queue here, in order."""
        for m in local.receive(10):
            self.client.send_message(
                QueueUrl=self.url,
                MessageBody=m.body,
                MessageGroupId=m.group_id,
                MessageDeduplicationId=m.dedup_id,
            )
            local.settle(m.group_id, [m.message_id])

    def receive(self, wait_s: int = 0) -> list[dict[str, Any]]:
        got = self.client.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=10,
            MessageSystemAttributeNames=["All"],
            WaitTimeSeconds=wait_s,
        ).get("Messages", [])
        return [dict(m) for m in got]

    def event(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The SQS event Lambda would build from these received messages."""
        return {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m["Attributes"],
                    "messageAttributes": {},
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.arn,
                    "awsRegion": "us-east-1",
                }
                for m in messages
            ]
        }


def failed_ids(result: dict[str, Any]) -> set[str]:
    return {f["itemIdentifier"] for f in result["batchItemFailures"]}


def turn_wamids(database_url: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        return [r[0] for r in conn.execute("SELECT wamid FROM turns ORDER BY wamid")]


def test_a_retryable_failure_is_receivable_again_after_the_shortened_visibility(
    aws_env: str,
    function_env: Any,
    graph_emulator: GraphEmulator,
    redis_client: redis.Redis[bytes],
    lambda_context: Any,
) -> None:
    """Every send attempt gets a Graph 5xx (retryable): the record fails and the handler sets its
    visibility to TUTOR_RETRY_VISIBILITY_SECONDS (1 s here, no jitter), so the moto queue hands it out
    again long before its 120 s visibility timeout, with a second receive counted; the retry answers.
    Fault covered: the learner blocked for the queue's whole visibility timeout after a passing error
    (no ChangeMessageVisibility, or on another receipt handle)."""
    function_env(TUTOR_RETRY_VISIBILITY_SECONDS="1", TUTOR_RETRY_JITTER_SECONDS="0")
    queue = MotoFifo()
    say(lambda_context, "hola", wamid="wamid.V1")
    queue.send_from(LocalFifoQueue(redis_client, "inbound"))
    [first] = queue.receive()
    graph_emulator.fail_next(code=131000, status=500, count=get_settings().whatsapp_send_max_attempts)
    with pytest.raises(BatchProcessingError):  # the batch's only record failed
        tutor.handler(queue.event([first]), lambda_context)
    assert replies(graph_emulator) == []
    [again] = queue.receive(wait_s=20)  # long poll: well under the 120 s visibility timeout
    assert again["MessageId"] == first["MessageId"]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"
    assert tutor.handler(queue.event([again]), LambdaContext("t", timeout_s=60)) == {"batchItemFailures": []}
    assert len(replies(graph_emulator)) == 1


def test_a_batch_with_too_little_time_left_reports_the_untouched_records_without_processing_them(
    aws_env: str,
    function_env: Any,
    graph_emulator: GraphEmulator,
    redis_client: redis.Redis[bytes],
    database_url: str,
    lambda_context: Any,
) -> None:
    """Three learners' first messages in one batch, handed to an invocation with 1 s left (below the
    per-turn budget): the first record is taken (an invocation always makes progress), the other two are
    reported failed untouched (no turn row, no reply) and made visible at once, so the next receive gets
    them back without waiting for the visibility timeout. Fault covered: taking records the remaining
    time cannot hold (the Lambda times out and the whole batch returns after 6 minutes with a receive
    counted against everyone), or leaving untouched records invisible for the visibility timeout."""
    queue = MotoFifo()
    for i, learner in enumerate(("15550007001", "15550007002", "15550007003")):
        say_as(lambda_context, learner, "hola", f"wamid.S{i}")
    queue.send_from(LocalFifoQueue(redis_client, "inbound"))
    batch = queue.receive()
    assert len(batch) == 3
    short = LambdaContext("t", timeout_s=1.0)
    assert short.get_remaining_time_in_millis() < turn_budget(get_settings()).total * 1000
    result = tutor.handler(queue.event(batch), short)
    assert failed_ids(result) == {m["MessageId"] for m in batch[1:]}
    assert turn_wamids(database_url) == ["wamid.S0"]
    assert len(graph_emulator.messages()) == 1
    back = queue.receive()  # no wait: their visibility is 0
    assert sorted(m["MessageId"] for m in back) == sorted(m["MessageId"] for m in batch[1:])


def say_as(context: Any, learner: str, text: str, wamid: str) -> None:
    """``learner`` sends ``text`` through the real webhook (``say`` speaks as one fixed learner)."""
    payload = load_event("whatsapp_text.json")
    value = payload["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = learner
    message = value["messages"][0]
    message.update({"from": learner, "id": wamid, "text": {"body": text}})
    body = json.dumps(payload, ensure_ascii=False).encode()
    result = webhook.handler(
        api_event(body, headers={"x-hub-signature-256": sign(body, APP_SECRET)}), context
    )
    assert result["statusCode"] == 200


def test_a_hung_provider_does_not_hold_other_learners_and_nobody_is_answered_twice(
    function_env: Any,
    graph_emulator: GraphEmulator,
    redis_client: redis.Redis[bytes],
    database_url: str,
    lambda_context: Any,
) -> None:
    """One batch on the local worker, under its enforced timeout (the per-turn budget + 4 s): learners
    B and C, then learner A, whose conversation partner (Groq, the default route's first step, its call
    limit raised to the turn's deadline as Claude's is) hangs, then A's next message and
    learner D. A's hung turn ends at its LLM deadline (6 s, more than the 4 s of slack) with the
    fallback answer; after it the handler takes nothing more: A's later message and D's are reported
    failed untouched and come straight back; the next invocation answers D's and acknowledges A's (already
    answered with the hung one: consecutive messages of a learner are one turn). Faults covered: the
    batch running past the Lambda's clock (the worker counts a timeout and every record waits for the
    visibility timeout), a learner of the batch answered twice or never, A's later message answered
    before A's hung one."""
    with ProviderServers() as providers:
        function_env(
            **providers.env(),
            TUTOR_ONBOARDING="false",
            LLM_TURN_DEADLINE_SECONDS="6",
            LLM_GROQ_TIMEOUT_SECONDS="6",  # one hung call, not Groq's 2.5 s limit, holds the turn
        )
        settings = get_settings()
        timeout_s = turn_budget(settings).total + 4.0
        queue = LocalFifoQueue(redis_client, "inbound")
        worker = QueueWorker(queue, tutor.handler, timeout_s=timeout_s)
        a, b, c, d = "15550007101", "15550007102", "15550007103", "15550007104"
        say_as(lambda_context, a, "hola", "wamid.H0")  # A's greeting (rules, no provider)
        assert worker.run_once() == 1
        say_as(lambda_context, b, "hola", "wamid.H1")
        say_as(lambda_context, c, "hola", "wamid.H2")
        providers.groq.push(Answer(delay=60.0, when="conversation partner"))
        say_as(lambda_context, a, "hoy estoy muy contento porque es viernes", "wamid.H3")
        say_as(lambda_context, a, "ayuda", "wamid.H4")
        say_as(lambda_context, d, "hola", "wamid.H5")
        assert worker.run_once() == 5
        answered_first = set(turn_wamids(database_url))
        # A's two waiting messages are one turn (a burst, espaluz/tutor/burst.py): "ayuda" is answered
        # with the hung one, in the same message and after it; its record comes back and is acknowledged.
        assert answered_first == {"wamid.H0", "wamid.H1", "wamid.H2", "wamid.H3", "wamid.H4"}
        assert worker.stats.timed_out == 0
        assert worker.run_once() == 2  # back at once: A's later message and D's
        assert worker.run_once() == 0
    assert set(turn_wamids(database_url)) == {f"wamid.H{i}" for i in range(6)}
    to = {learner: len(replies(graph_emulator, learner)) for learner in (a, b, c, d)}
    assert to == {a: 2, b: 1, c: 1, d: 1}  # greeting, then the hung turn's fallback with "ayuda"
    # The hung call used the whole deadline: the route's Claude step had no time left to be asked.
    assert providers.claude.requests == []


def test_the_local_worker_retries_a_retryable_failure_after_the_shortened_visibility(
    function_env: Any,
    graph_emulator: GraphEmulator,
    redis_client: redis.Redis[bytes],
    lambda_context: Any,
) -> None:
    """A and B in one batch; every send to A fails with a Graph 5xx. A's record fails, B is answered,
    and A's group comes back after the handler's shortened visibility (30 s here, no jitter), not the
    worker's fixed RETRY_DELAY_MS: the group's lock lives that long. Fault covered: the local stack
    retrying on its own schedule instead of the one SQS would follow."""
    function_env(TUTOR_RETRY_VISIBILITY_SECONDS="30", TUTOR_RETRY_JITTER_SECONDS="0")
    queue = LocalFifoQueue(redis_client, "inbound")
    worker = QueueWorker(queue, tutor.handler)
    a, b = "15550007201", "15550007202"
    graph_emulator.fail_next(code=131000, status=500, count=get_settings().whatsapp_send_max_attempts)
    say_as(lambda_context, a, "hola", "wamid.R1")
    say_as(lambda_context, b, "hola", "wamid.R2")
    assert worker.run_once() == 2
    assert (len(replies(graph_emulator, a)), len(replies(graph_emulator, b))) == (0, 1)
    [lock] = [k for k in redis_client.scan_iter(match=f"{queue.prefix}lock:*")]
    assert 20_000 < redis_client.pttl(lock) <= 30_000  # not RETRY_DELAY_MS (2 s)
