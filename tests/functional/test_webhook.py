"""The webhook Lambda handler, called with API Gateway HTTP API v2 events, against real Redis and the
Redis-backed local queue (and moto's SQS for the production adapter)."""

from __future__ import annotations

import base64
import copy
import json
import logging
from typing import Any

import boto3
import pytest
import redis

from espaluz.queue.local import LocalFifoQueue
from espaluz.whatsapp.inbound import InboundEnvelope, delivery_status
from espaluz.whatsapp.signature import sign
from functions.webhook import handler as webhook
from tests.conftest import APP_SECRET, VERIFY_TOKEN, load_event


def api_event(
    body: bytes = b"",
    *,
    method: str = "POST",
    path: str = "/webhooks/whatsapp",
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    b64: bool = False,
) -> dict[str, Any]:
    event = copy.deepcopy(load_event("apigw_http_v2.json"))
    event["rawPath"] = path
    event["routeKey"] = f"{method} {path}"
    event["requestContext"]["http"].update(method=method, path=path)
    event["headers"].update(headers or {})
    event["queryStringParameters"] = query
    event["body"] = base64.b64encode(body).decode() if b64 else body.decode()
    event["isBase64Encoded"] = b64
    return event


def signed(payload: dict[str, Any] | bytes, secret: str = APP_SECRET) -> tuple[bytes, dict[str, str]]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    return body, {"x-hub-signature-256": sign(body, secret)}


def post(body: bytes, headers: dict[str, str], context: Any, b64: bool = False) -> dict[str, Any]:
    result: dict[str, Any] = webhook.handler(api_event(body, headers=headers, b64=b64), context)
    return result


@pytest.fixture
def queue(function_env: Any, redis_client: redis.Redis[bytes]) -> LocalFifoQueue:
    return LocalFifoQueue(redis_client, "inbound")


# -- GET verification (bad input: wrong token, wrong mode) ------------------------------------------


def test_subscription_check_echoes_challenge(function_env: Any, lambda_context: Any) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    result = webhook.handler(api_event(method="GET", query=query), lambda_context)
    assert result["statusCode"] == 200
    assert result["body"] == "1158201444"
    assert result["headers"]["content-type"] == "text/plain"


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {},
    ],
)
def test_subscription_check_refuses_wrong_token_or_mode(
    function_env: Any, lambda_context: Any, query: dict[str, str]
) -> None:
    result = webhook.handler(api_event(method="GET", query=query), lambda_context)
    assert result["statusCode"] == 403


# -- POST: signatures (forged signatures, tampered bodies) ------------------------------------------


def test_missing_signature_is_401_and_enqueues_nothing(queue: LocalFifoQueue, lambda_context: Any) -> None:
    body = json.dumps(load_event("whatsapp_text.json")).encode()
    assert post(body, {}, lambda_context)["statusCode"] == 401
    assert queue.depth() == 0


def test_wrong_signature_is_403_and_enqueues_nothing(queue: LocalFifoQueue, lambda_context: Any) -> None:
    body, headers = signed(load_event("whatsapp_text.json"), secret="not-the-app-secret")
    assert post(body, headers, lambda_context)["statusCode"] == 403
    assert queue.depth() == 0


def test_one_tampered_byte_is_403(queue: LocalFifoQueue, lambda_context: Any) -> None:
    body, headers = signed(load_event("whatsapp_text.json"))
    tampered = body.replace(b"practicar", b"practicas")
    assert post(tampered, headers, lambda_context)["statusCode"] == 403
    assert queue.depth() == 0


def test_base64_body_from_api_gateway_verifies_over_raw_bytes(
    queue: LocalFifoQueue, lambda_context: Any
) -> None:
    body, headers = signed(load_event("whatsapp_text.json"))
    assert post(body, headers, lambda_context, b64=True)["statusCode"] == 200
    assert queue.depth() == 1


# -- POST: malformed payloads ------------------------------------------------------------------------


def test_non_json_body_is_400(queue: LocalFifoQueue, lambda_context: Any) -> None:
    body, headers = signed(b"{not json")
    assert post(body, headers, lambda_context)["statusCode"] == 400
    assert queue.depth() == 0


def test_unknown_shape_is_accepted_and_content_not_logged(
    queue: LocalFifoQueue, lambda_context: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    body, headers = signed({"something": "new", "secret_text": "mi número es 15550009876"})
    assert post(body, headers, lambda_context)["statusCode"] == 200
    assert queue.depth() == 0
    assert "15550009876" not in caplog.text
    assert "mi número" not in caplog.text


def test_other_webhook_fields_are_accepted_without_a_turn(queue: LocalFifoQueue, lambda_context: Any) -> None:
    body, headers = signed(load_event("whatsapp_unknown_field.json"))
    assert post(body, headers, lambda_context)["statusCode"] == 200
    assert queue.depth() == 0


def test_body_over_the_limit_is_413(function_env: Any, queue: LocalFifoQueue, lambda_context: Any) -> None:
    function_env(WEBHOOK_MAX_BODY_BYTES="1000")
    payload = load_event("whatsapp_text.json")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = "a" * 2000
    body, headers = signed(payload)
    assert post(body, headers, lambda_context)["statusCode"] == 413
    assert queue.depth() == 0


def test_not_an_http_event_is_400(function_env: Any, lambda_context: Any) -> None:
    assert webhook.handler({"Records": []}, lambda_context)["statusCode"] == 400


def test_unknown_route_is_404(function_env: Any, lambda_context: Any) -> None:
    result = webhook.handler(api_event(method="GET", path="/nope"), lambda_context)
    assert result["statusCode"] == 404


# -- POST: enqueue -----------------------------------------------------------------------------------


def test_text_message_is_enqueued_with_learner_group_and_wamid_dedup(
    queue: LocalFifoQueue, lambda_context: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    payload = load_event("whatsapp_text.json")
    body, headers = signed(payload)
    assert post(body, headers, lambda_context)["statusCode"] == 200
    [received] = queue.receive()
    envelope = InboundEnvelope.model_validate_json(received.body)
    wamid = payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    assert envelope.wamid == wamid == received.dedup_id
    assert envelope.wa_id == "15550009876"
    assert envelope.phone_number_id == "100000000000001"
    assert envelope.message["text"]["body"] == "hola, quiero practicar"
    # The group id is a pseudonym: never the phone number.
    assert received.group_id == envelope.learner_key
    assert "15550009876" not in received.group_id
    # Privacy: no phone number and no message text in the logs.
    assert "15550009876" not in caplog.text
    assert "quiero practicar" not in caplog.text


def test_learner_known_only_by_bsuid_is_enqueued(queue: LocalFifoQueue, lambda_context: Any) -> None:
    body, headers = signed(load_event("whatsapp_bsuid_only.json"))
    assert post(body, headers, lambda_context)["statusCode"] == 200
    [received] = queue.receive()
    envelope = InboundEnvelope.model_validate_json(received.body)
    assert envelope.bsuid == "US.13491208655300000001"
    assert envelope.wa_id is None
    assert envelope.name == "Mateo"


def test_two_messages_in_one_webhook_keep_their_order_in_one_group(
    queue: LocalFifoQueue, lambda_context: Any
) -> None:
    body, headers = signed(load_event("whatsapp_two_messages.json"))
    assert post(body, headers, lambda_context)["statusCode"] == 200
    received = queue.receive()
    assert [r.dedup_id for r in received] == [
        "wamid.TWO0000000000000000000000000000001",
        "wamid.TWO0000000000000000000000000000002",
    ]
    assert len({r.group_id for r in received}) == 1


def test_duplicate_delivery_is_dropped_even_after_the_sqs_window(
    queue: LocalFifoQueue, lambda_context: Any, redis_client: redis.Redis[bytes]
) -> None:
    """Duplicate delivery: Meta retries a webhook; the same wamid must not start a second turn."""
    body, headers = signed(load_event("whatsapp_text.json"))
    assert post(body, headers, lambda_context)["statusCode"] == 200
    # Simulate SQS's 5-minute deduplication window having passed (scan_iter covers every cluster node).
    for key in redis_client.scan_iter(queue.key("dedup:*")):
        redis_client.delete(key)
    assert post(body, headers, lambda_context)["statusCode"] == 200
    assert queue.depth() == 1


def test_enqueue_failure_answers_503_and_a_retry_succeeds(
    function_env: Any, queue: LocalFifoQueue, lambda_context: Any, aws_env: str
) -> None:
    """Provider outage: the queue is unreachable; Meta must get a 5xx and the message must not be
    marked seen, so Meta's retry enqueues it."""
    function_env(QUEUE_URL=f"{aws_env}/123456789012/does-not-exist.fifo")
    body, headers = signed(load_event("whatsapp_text.json"))
    assert post(body, headers, lambda_context)["statusCode"] == 503
    function_env(QUEUE_URL="local:inbound")
    assert post(body, headers, lambda_context)["statusCode"] == 200
    assert queue.depth() == 1


def test_redis_down_answers_503(function_env: Any, lambda_context: Any, redis_down_url: str) -> None:
    """Redis goes away: no 200 without the dedupe check and the enqueue. (In cluster mode the client
    fails already when the service is built, as it reads the slot map: still a 503.)"""
    function_env(REDIS_URL=redis_down_url)
    body, headers = signed(load_event("whatsapp_text.json"))
    assert post(body, headers, lambda_context)["statusCode"] == 503


def test_statuses_never_start_a_turn_and_never_go_backwards(
    queue: LocalFifoQueue, lambda_context: Any, redis_client: redis.Redis[bytes]
) -> None:
    """Out-of-order delivery: 'read' arrives before 'delivered'; the record stays at 'read'."""
    for name in ("whatsapp_status_read.json", "whatsapp_status_delivered.json"):
        body, headers = signed(load_event(name))
        assert post(body, headers, lambda_context)["statusCode"] == 200
    assert queue.depth() == 0
    assert delivery_status(redis_client, "wamid.OUT00000000000000000000000000000001")["status"] == "read"


def test_sqs_adapter_enqueues_to_a_real_fifo_queue(
    function_env: Any, lambda_context: Any, aws_env: str
) -> None:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="webhook-test.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    function_env(QUEUE_URL=url)
    body, headers = signed(load_event("whatsapp_two_messages.json"))
    assert post(body, headers, lambda_context)["statusCode"] == 200
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    assert [m["Attributes"]["MessageDeduplicationId"] for m in got] == [
        "wamid.TWO0000000000000000000000000000001",
        "wamid.TWO0000000000000000000000000000002",
    ]
    assert len({m["Attributes"]["MessageGroupId"] for m in got}) == 1


def test_healthz(function_env: Any, lambda_context: Any) -> None:
    result = webhook.handler(api_event(method="GET", path="/healthz"), lambda_context)
    assert result["statusCode"] == 200
    assert json.loads(result["body"]) == {"status": "ok", "checks": {"redis": "ok", "queue": "ok"}}


def test_healthz_names_what_the_webhook_cannot_reach(
    function_env: Any, lambda_context: Any, tmp_path: Any
) -> None:
    """Faults covered: a health check that says ok while Redis (wamid de-duplication) is unreachable or
    the queue is not configured, i.e. while every post from Meta would get a 503."""
    function_env(REDIS_URL=f"unix://{tmp_path}/no-redis.sock", REDIS_CLUSTER="false", QUEUE_URL="")
    result = webhook.handler(api_event(method="GET", path="/healthz"), lambda_context)
    assert result["statusCode"] == 503
    body = json.loads(result["body"])
    assert body == {"status": "unavailable", "checks": {"redis": "unavailable", "queue": "unavailable"}}


# -- POST: hostile bodies and headers (added with the full update models) ----------------------------


def test_tampered_byte_in_a_base64_body_is_403(queue: LocalFifoQueue, lambda_context: Any) -> None:
    """Forged body behind base64: API Gateway hands the body base64-encoded and one byte was changed in
    transit; the signature is checked over the decoded raw bytes and fails."""
    body, headers = signed(load_event("whatsapp_text.json"))
    tampered = body.replace(b"hola", b"hole")
    assert post(tampered, headers, lambda_context, b64=True)["statusCode"] == 403
    assert queue.depth() == 0


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,  # nested beyond the JSON parser's depth
        b"[" * 65 + b"]" * 65,  # nested beyond ours (models.MAX_DEPTH)
        b"\xff\xfe{}",  # not UTF-8
        b"",
    ],
    ids=["deep-nesting", "nesting-over-our-limit", "not-utf8", "empty"],
)
def test_signed_bodies_that_are_not_usable_json_are_400(
    queue: LocalFifoQueue, lambda_context: Any, body: bytes
) -> None:
    """Malformed payloads that json.loads rejects or that nest too deep to carry: a 400, never an
    exception (a 500 would make Meta retry a poison payload for days). API Gateway hands non-UTF-8
    bodies base64-encoded, so all of them go that way. (A lone surrogate escape used to be here: it is
    now replaced by U+FFFD and the message answered, see test_webhook_poison.py.)"""
    signed_body, headers = signed(body)
    assert post(signed_body, headers, lambda_context, b64=True)["statusCode"] == 400
    assert queue.depth() == 0


def test_signature_header_with_odd_characters_is_403(queue: LocalFifoQueue, lambda_context: Any) -> None:
    """Forged signature header with non-ASCII characters: refused as a mismatch, not a crash."""
    body, _ = signed(load_event("whatsapp_text.json"))
    assert post(body, {"x-hub-signature-256": "sha256=ñ\udcff"}, lambda_context)["statusCode"] == 403
    assert queue.depth() == 0


def test_subscription_check_with_non_ascii_token_is_403(function_env: Any, lambda_context: Any) -> None:
    """A verify token with non-ASCII characters (hmac.compare_digest refuses non-ASCII str) is a plain
    403."""
    query = {"hub.mode": "subscribe", "hub.verify_token": "tokén", "hub.challenge": "1"}
    assert webhook.handler(api_event(method="GET", query=query), lambda_context)["statusCode"] == 403


def test_message_with_unknown_type_and_no_contacts_is_still_enqueued(
    queue: LocalFifoQueue, lambda_context: Any
) -> None:
    """A message type this code does not know yet (here 'order') still reaches the tutor, which decides
    what to answer; dropping it would lose a learner's message silently."""
    payload = load_event("whatsapp_text.json")
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message.pop("text")
    message.update(type="order", order={"catalog_id": "1", "product_items": []})
    body, headers = signed(payload)
    assert post(body, headers, lambda_context)["statusCode"] == 200
    [received] = queue.receive()
    envelope = InboundEnvelope.model_validate_json(received.body)
    assert envelope.kind == "message"
    assert envelope.message["order"] == {"catalog_id": "1", "product_items": []}
