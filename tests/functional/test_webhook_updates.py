"""Every update type through the real webhook Lambda handler (API Gateway v2 events, real Redis, the local
FIFO queue and moto's SQS): what is enqueued, under which learner, what statuses record, what repeats and
reorderings do, and what never reaches the logs."""

from __future__ import annotations

import copy
import io
import json
import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any

import boto3
import pytest
import redis

from espaluz.queue.base import QueueError, QueueMessage
from espaluz.queue.local import LocalFifoQueue
from espaluz.queue.sqs import SqsQueue
from espaluz.whatsapp.inbound import InboundEnvelope, WebhookService, delivery_status, seen_key
from espaluz.whatsapp.models import Message, MessageKind
from functions.webhook import handler as webhook
from tests.conftest import APP_SECRET, VERIFY_TOKEN, stamped
from tests.functional.test_webhook import post, signed
from tests.unit.test_models import CASES, load_update

PNID_A = "100000000000001"
PNID_B = "100000000000003"


@pytest.fixture
def queue(function_env: Any, redis_client: redis.Redis[bytes]) -> LocalFifoQueue:
    return LocalFifoQueue(redis_client, "inbound")


def deliver(payload: dict[str, Any], context: Any) -> int:
    body, headers = signed(payload)
    status: int = post(body, headers, context)["statusCode"]
    return status


def envelopes(queue: LocalFifoQueue) -> list[InboundEnvelope]:
    got: list[InboundEnvelope] = []
    while batch := queue.receive(10):
        got.extend(InboundEnvelope.model_validate_json(r.body) for r in batch)
        for group in {r.group_id for r in batch}:
            queue.settle(group, [r.message_id for r in batch if r.group_id == group])
    return got


def _message(payload: dict[str, Any], index: int = 0) -> dict[str, Any]:
    msg: dict[str, Any] = payload["entry"][0]["changes"][0]["value"]["messages"][index]
    return msg


# -- every update type, data-driven ------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CASES))
def test_update_fixture_through_the_handler(
    name: str, queue: LocalFifoQueue, lambda_context: Any, redis_client: redis.Redis[bytes]
) -> None:
    """Each update type Meta sends (cases.json): the right number of envelopes of the right kind and
    identity, or a status record and no turn; delivering the same payload again (Meta's retry) enqueues
    nothing more."""
    case = CASES[name]
    payload = load_update(name)
    assert deliver(payload, lambda_context) == 200
    assert deliver(payload, lambda_context) == 200  # duplicate delivery
    got = envelopes(queue)
    assert len(got) == case["enqueued"]
    if case["enqueued"]:
        [envelope] = got
        assert envelope.kind == case["kind"]
        assert (envelope.wa_id, envelope.bsuid) == (case["wa_id"], case["bsuid"])
        assert envelope.phone_number_id == PNID_A
        assert envelope.learner_key not in json.dumps([case["wa_id"], case["bsuid"]])
    if case["kind"] == "message":
        message = Message.model_validate(got[0].message)
        assert message.kind == MessageKind(case["message_kind"])
        assert got[0].wamid == message.id
    elif case["kind"] in ("preference", "identity"):
        assert got[0].message == {}
        assert got[0].update is not None
        assert got[0].wamid.startswith("pref." if case["kind"] == "preference" else "uidu.")
        if case["kind"] == "preference":
            assert got[0].update["value"] == case["preference"]
    if case.get("status"):
        expected = case["status"]
        record = delivery_status(redis_client, expected["wamid"])
        assert (record["status"], record["error"]) == (expected["status"], expected["error"])


def test_one_learner_keeps_one_group_across_update_kinds(queue: LocalFifoQueue, lambda_context: Any) -> None:
    """A learner's messages and preference changes must share one FIFO group, or a STOP could overtake the
    message before it; another learner gets another group."""
    for name in ("text.json", "user_preferences_stop.json", "audio_voice.json", "text_bsuid_and_phone.json"):
        assert deliver(load_update(name), lambda_context) == 200
    got = envelopes(queue)
    lucia = [e for e in got if e.wa_id == "15550009876"]
    assert [e.kind for e in lucia] == ["message", "preference", "message"]
    assert len({e.learner_key for e in lucia}) == 1
    [mateo] = [e for e in got if e.bsuid]
    assert mateo.learner_key != lucia[0].learner_key


def test_preference_dedup_is_by_content_and_timestamp(queue: LocalFifoQueue, lambda_context: Any) -> None:
    """Duplicate delivery of a preference change is dropped; a later stop (new timestamp) after a resume is
    a new update and is enqueued."""
    stop = load_update("user_preferences_stop.json")
    assert deliver(stop, lambda_context) == 200
    assert deliver(copy.deepcopy(stop), lambda_context) == 200
    later = copy.deepcopy(stop)
    later["entry"][0]["changes"][0]["value"]["user_preferences"][0]["timestamp"] += 3600
    assert deliver(later, lambda_context) == 200
    got = envelopes(queue)
    assert len(got) == 2
    assert got[0].wamid != got[1].wamid


# -- out of order -----------------------------------------------------------------------------------


def test_statuses_out_of_order_keep_the_furthest_state(
    queue: LocalFifoQueue, lambda_context: Any, redis_client: redis.Redis[bytes]
) -> None:
    """Out-of-order delivery: read arrives before delivered and sent; the record stays at read. A played
    voice note stays played when a late read arrives."""
    for name in ("status_read.json", "status_delivered.json", "status_sent.json"):
        assert deliver(load_update(name), lambda_context) == 200
    assert delivery_status(redis_client, "wamid.OUT00000000000000000000000000000010")["status"] == "read"
    played = load_update("status_played.json")
    late_read = copy.deepcopy(played)
    late_read["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] = "read"
    assert deliver(played, lambda_context) == 200
    assert deliver(late_read, lambda_context) == 200
    assert delivery_status(redis_client, "wamid.OUT00000000000000000000000000000011")["status"] == "played"
    assert queue.depth() == 0


def test_failed_status_records_the_error_code(
    queue: LocalFifoQueue, lambda_context: Any, redis_client: redis.Redis[bytes]
) -> None:
    """A failed send (131047, outside the 24-hour window) is recorded with its code for the sender."""
    assert deliver(load_update("status_failed.json"), lambda_context) == 200
    record = delivery_status(redis_client, "wamid.OUT00000000000000000000000000000012")
    assert record == {"status": "failed", "rank": "5", "error": "131047"}
    assert queue.depth() == 0


def test_reaction_then_unreaction_and_the_reverse_both_reach_the_tutor_in_arrival_order(
    queue: LocalFifoQueue, lambda_context: Any
) -> None:
    """Out-of-order delivery: an un-reaction may arrive before the reaction it removes. Both reach the
    tutor, in arrival order, in one group, each with Meta's timestamp so the tutor can tell which is
    newer."""
    now = time.time()
    reaction = stamped(load_update("reaction.json"), now - 60)
    unreaction = stamped(load_update("unreaction.json"), now)
    assert deliver(reaction, lambda_context) == 200
    assert deliver(unreaction, lambda_context) == 200
    first = envelopes(queue)
    assert [Message.model_validate(e.message).kind for e in first] == ["reaction", "unreaction"]
    late = copy.deepcopy(reaction)
    _message(late)["id"] = "wamid.LATEREACTION0000000000000000000001"
    early_removal = copy.deepcopy(unreaction)
    _message(early_removal)["id"] = "wamid.EARLYREMOVAL0000000000000000000001"
    assert deliver(early_removal, lambda_context) == 200
    assert deliver(late, lambda_context) == 200
    second = [Message.model_validate(e.message) for e in envelopes(queue)]
    assert [m.kind for m in second] == ["unreaction", "reaction"]
    assert int(second[0].timestamp) > int(second[1].timestamp)


# -- several business numbers, batching ---------------------------------------------------------------


def test_two_business_numbers_in_one_deployment_keep_their_own_number(
    queue: LocalFifoQueue, lambda_context: Any
) -> None:
    """One webhook carrying changes for two business numbers: each envelope keeps the phone_number_id that
    received it, so the reply goes out from that number; the same learner stays one learner."""
    payload = load_update("text.json")
    second = copy.deepcopy(payload["entry"][0]["changes"][0])
    second["value"]["metadata"] = {"display_phone_number": "15550100003", "phone_number_id": PNID_B}
    second["value"]["messages"][0]["id"] = "wamid.SECONDNUMBER000000000000000000001"
    payload["entry"].append({"id": "200000000000004", "changes": [second]})
    assert deliver(payload, lambda_context) == 200
    got = envelopes(queue)
    assert [(e.phone_number_id, e.display_phone_number) for e in got] == [
        (PNID_A, "15550100001"),
        (PNID_B, "15550100003"),
    ]
    assert got[0].learner_key == got[1].learner_key


def many_messages(count: int) -> dict[str, Any]:
    payload = load_update("text.json")
    template = _message(payload)
    messages = []
    for i in range(count):
        m = copy.deepcopy(template)
        m["id"] = f"wamid.MANY{i:030d}"
        m["timestamp"] = str(int(template["timestamp"]) + i)
        messages.append(m)
    payload["entry"][0]["changes"][0]["value"]["messages"] = messages
    return payload


class CountingQueue:
    """A queue port that counts calls and can fail once after passing part of a batch on, like an SQS
    batch of which a later chunk is rejected."""

    def __init__(self, inner: Any, fail_after: int | None = None) -> None:
        self.inner = inner
        self.calls: list[int] = []
        self.fail_after = fail_after

    def send_batch(self, messages: Sequence[QueueMessage]) -> None:
        self.calls.append(len(messages))
        if self.fail_after is not None:
            cut, self.fail_after = self.fail_after, None
            self.inner.send_batch(messages[:cut])
            raise QueueError("injected: the rest of the batch was rejected")
        self.inner.send_batch(messages)


@pytest.fixture
def fifo_url(aws_env: str) -> Iterator[str]:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(
        QueueName="webhook-batch.fifo", Attributes={"FifoQueue": "true", "VisibilityTimeout": "0"}
    )["QueueUrl"]
    yield url
    sqs.delete_queue(QueueUrl=url)


def drain_sqs(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    got: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get(
            "Messages", []
        )
        if not batch:
            return got
        got.extend(dict(m) for m in batch)
        for m in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def service_with(queue: Any, redis_client: redis.Redis[bytes]) -> WebhookService:
    return WebhookService(app_secret=APP_SECRET, verify_token=VERIFY_TOKEN, queue=queue, redis=redis_client)


def receive(service: WebhookService, payload: dict[str, Any]) -> int:
    from espaluz.httpapi import Request

    body, headers = signed(payload)
    return service.receive(Request("POST", "/webhooks/whatsapp", headers, {}, body)).status


def test_twelve_messages_go_in_one_send_batch_and_two_sqs_chunks(
    fifo_url: str, redis_client: redis.Redis[bytes]
) -> None:
    """More messages than one SQS batch holds (10): one send_batch call from the webhook, every message in
    the FIFO queue, in order, in the learner's group, deduplicated by wamid."""
    counting = CountingQueue(SqsQueue(fifo_url))
    service = service_with(counting, redis_client)
    assert receive(service, many_messages(12)) == 200
    assert counting.calls == [12]
    got = drain_sqs(fifo_url)
    assert [m["Attributes"]["MessageDeduplicationId"] for m in got] == [
        f"wamid.MANY{i:030d}" for i in range(12)
    ]
    assert len({m["Attributes"]["MessageGroupId"] for m in got}) == 1


def test_enqueue_failure_midway_answers_503_and_the_retry_enqueues_each_message_once(
    queue: LocalFifoQueue, redis_client: redis.Redis[bytes]
) -> None:
    """Provider failure in the middle of a batch: Meta gets a 5xx and nothing is marked seen; Meta's retry
    enqueues the rest, and the part that went through the first time is not enqueued twice."""
    counting = CountingQueue(queue, fail_after=10)
    service = service_with(counting, redis_client)
    payload = many_messages(12)
    assert receive(service, payload) == 503
    assert queue.depth() == 10
    assert redis_client.exists(seen_key("wamid.MANY000000000000000000000000000000")) == 0
    assert receive(service, payload) == 200
    assert receive(service, payload) == 200  # and a third, late duplicate
    got = envelopes(queue)
    assert [e.wamid for e in got] == [f"wamid.MANY{i:030d}" for i in range(12)]


def test_enqueue_failure_against_sqs_then_retry_enqueues_once(
    fifo_url: str, redis_client: redis.Redis[bytes]
) -> None:
    """The same against moto's SQS FIFO queue: the first chunk of 10 is in, the second refused; the retry
    leaves exactly 12 messages (SQS drops the repeated dedup ids)."""
    service = service_with(CountingQueue(SqsQueue(fifo_url), fail_after=10), redis_client)
    payload = many_messages(12)
    assert receive(service, payload) == 503
    assert receive(service, payload) == 200
    got = drain_sqs(fifo_url)
    assert sorted(m["Attributes"]["MessageDeduplicationId"] for m in got) == [
        f"wamid.MANY{i:030d}" for i in range(12)
    ]


# -- privacy -----------------------------------------------------------------------------------------

PRIVATE_KEYS = {
    "wa_id", "from", "phone", "display_phone_number", "recipient_id", "user_id", "from_user_id",
    "parent_user_id", "from_parent_user_id", "recipient_user_id", "previous", "current", "username",
    "name", "formatted_name", "first_name", "last_name", "email", "street", "address", "body", "caption",
    "emoji", "title", "description", "text", "filename", "headline", "payload", "detail", "url",
    "source_url", "ctwa_clid", "birthday", "city", "company",
}  # fmt: skip


def private_strings(node: Any, key: str = "") -> set[str]:
    """Every phone number, BSUID, name and piece of message text in a payload (strings of 4+ chars)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for k, v in node.items():
            found |= private_strings(v, k)
    elif isinstance(node, list):
        for v in node:
            found |= private_strings(v, key)
    elif isinstance(node, str) and key in PRIVATE_KEYS and (len(node) >= 4 or not node.isascii()):
        found.add(node)
    return found


def test_no_phone_number_bsuid_or_text_reaches_the_logs(
    function_env: Any,
    queue: LocalFifoQueue,
    lambda_context: Any,
    caplog: pytest.LogCaptureFixture,
    aws_env: str,
) -> None:
    """Privacy: every fixture through the handler, plus the failure paths (unknown shape, enqueue failure,
    a message without identity), with logging at INFO: no phone number, BSUID, name, text, caption or
    emoji appears in any log record (message, args and extra fields) nor in the Powertools JSON output."""
    caplog.set_level(logging.INFO)
    powertools_out = io.StringIO()
    handlers = [h for h in webhook.logger.handlers if isinstance(h, logging.StreamHandler)]
    assert handlers, "the Powertools logger writes through a stream handler"
    old_streams = [h.setStream(powertools_out) for h in handlers]
    json_records = io.StringIO()
    json_handler = logging.StreamHandler(json_records)
    json_handler.setFormatter(handlers[0].formatter)
    logging.getLogger("espaluz").addHandler(json_handler)
    secrets: set[str] = set()
    try:
        for name in sorted(CASES):
            payload = load_update(name)
            secrets |= private_strings(payload)
            assert deliver(payload, lambda_context) == 200
        orphan = load_update("text.json")
        orphan["entry"][0]["changes"][0]["value"]["contacts"] = []
        del _message(orphan)["from"]
        _message(orphan)["id"] = "wamid.ORPHAN0000000000000000000000000001"
        assert deliver(orphan, lambda_context) == 200
        odd = {"object": "whatsapp_business_account", "entry": "15550009876 hola"}
        assert deliver(odd, lambda_context) == 200
        function_env(QUEUE_URL=f"{aws_env}/123456789012/nowhere.fifo")
        fresh = load_update("referral.json")
        _message(fresh)["id"] = "wamid.QUEUEDOWN00000000000000000000001"
        assert deliver(fresh, lambda_context) == 503
    finally:
        for h, old in zip(handlers, old_streams, strict=True):
            h.setStream(old)
        logging.getLogger("espaluz").removeHandler(json_handler)
    secrets |= {"15550009876 hola"}
    assert len(secrets) > 40
    records = [json.dumps(r.__dict__, default=str, ensure_ascii=False) for r in caplog.records]
    assert any("webhook accepted" in r for r in records)
    logged = "\n".join([*records, powertools_out.getvalue(), json_records.getvalue()])
    assert "webhook accepted" in json_records.getvalue()
    leaked = sorted(s for s in secrets if s in logged or json.dumps(s)[1:-1] in logged)
    assert leaked == []
