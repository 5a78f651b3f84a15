"""Poison-proof parsing of WhatsApp webhooks (issue 14, item 4), on the real webhook and tutor handlers with
real Redis and Postgres.

Each test names the bad input it covers. The rules under test (espaluz/whatsapp/models.py says why):

- every message, status, contact, preference and identity update of a payload is parsed on its own: an
  invalid one is logged (no content) and skipped, its valid siblings are enqueued;
- tolerated and coerced: a numeric timestamp, a timestamp out of any sane range (the tutor then uses the
  receive time), ``null`` where a field is optional or has a default (a null ``text.body`` is an empty
  text, which the tutor answers);
- sanitised once, at the model boundary: NUL characters (Postgres ``text`` refuses them) are removed, lone
  surrogates become U+FFFD, ids longer than 256 characters become a digest, so the learner still gets an
  answer instead of a dead letter;
- a document nested deeper than Meta ever nests is refused with a 400, never a 5xx.
"""

from __future__ import annotations

import copy
import json
import logging
import random
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
import redis

from espaluz.dev.worker import QueueWorker
from espaluz.queue.local import LocalFifoQueue
from espaluz.whatsapp.inbound import InboundEnvelope
from functions.tutor import handler as tutor
from tests.conftest import GraphEmulator, load_event
from tests.functional.test_webhook import post, signed

LEARNER = "15550009876"
NAME = "Lucía"


@pytest.fixture
def queue(function_env: Any, redis_client: redis.Redis[bytes]) -> LocalFifoQueue:
    return LocalFifoQueue(redis_client, "inbound")


def text_payload() -> dict[str, Any]:
    return load_event("whatsapp_text.json")


def value_of(payload: dict[str, Any]) -> dict[str, Any]:
    value: dict[str, Any] = payload["entry"][0]["changes"][0]["value"]
    return value


def first_message(payload: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = value_of(payload)["messages"][0]
    return message


def nested(depth: int, leaf: Any = "hola") -> Any:
    """``leaf`` inside ``depth`` levels of objects."""
    node = leaf
    for _ in range(depth):
        node = {"a": node}
    return node


def envelopes(queue: LocalFifoQueue) -> list[InboundEnvelope]:
    out = [InboundEnvelope.model_validate_json(r.body) for r in queue.receive(10)]
    return out


# -- one invalid sibling ------------------------------------------------------------------------------


def test_an_invalid_message_is_skipped_and_its_valid_siblings_are_enqueued(
    queue: LocalFifoQueue, lambda_context: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Bad input: one message without a type and with a numeric id, between two valid ones (before: the
    whole payload failed validation, the webhook answered 200 {"accepted":0} and Meta never retried, so
    both valid messages were lost)."""
    payload = text_payload()
    good = first_message(payload)
    second = copy.deepcopy(good) | {"id": "wamid.SIBLING2", "text": {"body": "secreto del alumno"}}
    value_of(payload)["messages"] = [good, {"id": 5, "from": LEARNER, "text": {"body": "x"}}, second]
    body, headers = signed(payload)
    with caplog.at_level(logging.INFO):
        result = post(body, headers, lambda_context)
    assert result["statusCode"] == 200
    assert json.loads(result["body"]) == {"accepted": 2}
    assert [e.wamid for e in envelopes(queue)] == [good["id"], "wamid.SIBLING2"]
    skipped = [r for r in caplog.records if r.getMessage() == "webhook item skipped"]
    assert [(r.__dict__["field"], r.__dict__["index"]) for r in skipped] == [("messages", 1)]
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert LEARNER not in logged
    assert "secreto" not in logged


def test_invalid_statuses_contacts_and_changes_do_not_drop_the_messages(
    queue: LocalFifoQueue, lambda_context: Any
) -> None:
    """Bad input: an invalid status (no id), an invalid second contact (a list for a profile), an invalid
    preference (a list for its value) and a whole invalid change (no ``field``) around one valid message
    (before: any of them made the payload unparseable and the message was lost)."""
    payload = text_payload()
    value = value_of(payload)
    value["statuses"] = [{"status": "read"}]
    value["contacts"].append({"profile": [], "wa_id": "15550000000"})
    value["user_preferences"] = [{"wa_id": LEARNER, "value": ["stop"]}]
    payload["entry"][0]["changes"].append({"value": {"messages": []}})
    body, headers = signed(payload)
    result = post(body, headers, lambda_context)
    assert json.loads(result["body"]) == {"accepted": 1}
    [envelope] = envelopes(queue)
    assert envelope.wamid == first_message(payload)["id"]
    assert envelope.name == NAME  # the valid contact still names the sender


def test_tolerated_fields_are_coerced_not_refused(queue: LocalFifoQueue, lambda_context: Any) -> None:
    """Bad input: a numeric timestamp, a null ``text.body`` and a null profile name (before: each made the
    whole payload unparseable, answered 200 {"accepted":0}: the message was lost)."""
    payload = text_payload()
    message = first_message(payload)
    sent_at = int(message["timestamp"])
    message["timestamp"] = sent_at
    message["text"]["body"] = None
    value_of(payload)["contacts"][0]["profile"]["name"] = None
    body, headers = signed(payload)
    assert json.loads(post(body, headers, lambda_context)["body"]) == {"accepted": 1}
    [envelope] = envelopes(queue)
    assert envelope.message["timestamp"] == str(sent_at)
    assert envelope.message["text"] == {"body": ""}
    assert envelope.name == ""


# -- sanitised where Postgres or our limits would refuse it: the learner still gets an answer ------------

LONG_WAMID = "wamid." + "W" * 3_000  # over Postgres's B-tree row limit (2,704 bytes) for turns' key
# Over the same limit for learners.wa_id's unique index; random digits, which Postgres cannot compress
# below it (a run of one digit would compress and pass).
LONG_FROM = "".join(random.Random(14).choices("0123456789", k=3_000))

Mutation = Callable[[dict[str, Any]], None]


def _set_name(name: str) -> Mutation:
    return lambda payload: value_of(payload)["contacts"][0]["profile"].update(name=name)


def _set_message(**fields: Any) -> Mutation:
    return lambda payload: first_message(payload).update(fields)


def _set_body(text: str) -> Mutation:
    return lambda payload: first_message(payload).update(text={"body": text})


POISON: dict[str, tuple[Mutation, str | None]] = {
    # name: (mutation, the recipient the answer goes to; None: the usual learner)
    "nul-in-profile-name": (_set_name("Lu\x00cía"), None),
    "lone-surrogate-in-profile-name": (_set_name("Lucía \ud83d"), None),
    "nul-in-text": (_set_body("hola\x00"), None),
    "lone-surrogate-in-text": (_set_body("hola \udc00"), None),
    "null-text-body": (_set_message(text={"body": None}), None),
    "nul-in-wamid": (_set_message(id="wamid.NUL\x00ID"), None),
    "wamid-over-2704-bytes": (_set_message(id=LONG_WAMID), None),
    "timestamp-1e13": (_set_message(timestamp="10000000000000"), None),
    "timestamp-1e300-number": (_set_message(timestamp=1e300), None),
    "nul-in-from": (_set_message(**{"from": LEARNER + "\x00"}), LEARNER),
    "from-over-2704-bytes": (_set_message(**{"from": LONG_FROM}), None),
}


@pytest.mark.parametrize("case", sorted(POISON))
def test_poison_fields_are_sanitised_and_the_message_answered(
    case: str,
    function_env: Any,
    redis_client: redis.Redis[bytes],
    graph_emulator: GraphEmulator,
    database_url: str,
    lambda_context: Any,
) -> None:
    """Bad input: the field named by ``case``. Before: accepted (200), then the tutor failed on it (Postgres
    refused a NUL or an index row over 2,704 bytes, psycopg could not encode a lone surrogate, datetime
    could not hold the timestamp) until the message was dead-lettered without a word to the learner; a NUL
    in the profile name silenced every later message of that learner. Now the turn is answered once and
    nothing reaches the dead-letter list."""
    mutate, recipient = POISON[case]
    payload = text_payload()
    if case == "from-over-2704-bytes":
        value_of(payload)["contacts"][0]["wa_id"] = LONG_FROM
    mutate(payload)
    body, headers = signed(json.dumps(payload).encode())  # escaped, as Meta sends a lone surrogate
    assert post(body, headers, lambda_context)["statusCode"] == 200
    queue = LocalFifoQueue(redis_client, "inbound")
    worker = QueueWorker(queue, tutor.handler)
    assert worker.run_once() == 1
    assert queue.depth() == 0, "the message was neither answered nor settled"
    with psycopg.connect(database_url) as conn:
        turns = conn.execute("SELECT wamid, status FROM turns").fetchall()
        names = [r[0] for r in conn.execute("SELECT display_name FROM learners").fetchall()]
    assert [status for _, status in turns] == ["answered"]
    [(wamid, _)] = turns
    assert "\x00" not in wamid
    assert len(wamid.encode()) <= 1_024
    assert all("\x00" not in n and "\ud83d" not in n for n in names)
    sent = graph_emulator.messages()
    if case == "from-over-2704-bytes":
        # Nobody can be answered at a 3,000-digit number: the turn is recorded, not dead-lettered.
        return
    assert [m["to"] for m in sent] == [recipient or LEARNER]


def test_a_nul_in_the_profile_name_no_longer_silences_later_messages(
    function_env: Any,
    redis_client: redis.Redis[bytes],
    graph_emulator: GraphEmulator,
    database_url: str,
    lambda_context: Any,
) -> None:
    """Bad input: a profile name with a NUL, kept by the learner for every later message (before: every
    message of that learner failed in Postgres and was dead-lettered; the learner never heard back)."""
    worker = QueueWorker(LocalFifoQueue(redis_client, "inbound"), tutor.handler)
    for n, text in enumerate(["hola", "quiero practicar", "gracias"]):
        payload = text_payload()
        _set_name("Lu\x00cía")(payload)
        first_message(payload).update(id=f"wamid.NULNAME{n}", text={"body": text})
        body, headers = signed(payload)
        assert post(body, headers, lambda_context)["statusCode"] == 200
        assert worker.run_once() == 1
    assert len([m for m in graph_emulator.messages() if m["to"] == LEARNER]) >= 3
    with psycopg.connect(database_url) as conn:
        [(name,)] = conn.execute("SELECT display_name FROM learners").fetchall()
    assert name == NAME


def test_an_out_of_range_timestamp_is_replaced_by_the_receive_time(
    queue: LocalFifoQueue, lambda_context: Any
) -> None:
    """Bad input: timestamps of 1e13 (beyond datetime's year 9999), negative, and not a number; the tutor
    reads "0" as "use the receive time" (before: ``datetime.fromtimestamp`` raised in the tutor)."""
    payload = text_payload()
    value = value_of(payload)
    second = copy.deepcopy(first_message(payload)) | {"id": "wamid.TS2", "timestamp": "-5"}
    third = copy.deepcopy(first_message(payload)) | {"id": "wamid.TS3", "timestamp": "ayer"}
    first_message(payload)["timestamp"] = "10000000000000"
    value["messages"] += [second, third]
    value["user_preferences"] = [
        {"wa_id": LEARNER, "category": "marketing_messages", "value": "stop", "timestamp": 10**13}
    ]
    before = int(time.time())
    body, headers = signed(payload)
    assert json.loads(post(body, headers, lambda_context)["body"]) == {"accepted": 4}
    received = envelopes(queue)
    assert [e.message["timestamp"] for e in received if e.kind == "message"] == ["0", "0", "0"]
    [preference] = [e for e in received if e.kind == "preference"]
    assert preference.update is not None
    assert before <= preference.update["timestamp"] <= int(time.time()) + 1


# -- nesting and size: 400/413, never 5xx ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "depth"),
    [("text", 900), ("text", 180), ("message", 300), ("contact", 70)],
    ids=["text-900", "text-180", "message-300", "contact-70"],
)
def test_deep_nesting_is_400_and_enqueues_nothing(
    queue: LocalFifoQueue, lambda_context: Any, where: str, depth: int
) -> None:
    """Bad input: objects nested ``depth`` levels inside the text, a message or a contact (before: the
    webhook raised "Maximum serialization depth exceeded", a 5xx Meta retries for days; at 180 it was
    accepted and then the tutor's JSON parser refused it, a dead letter)."""
    payload = text_payload()
    if where == "text":
        first_message(payload)["text"] = nested(depth)
    elif where == "message":
        first_message(payload)["extra"] = nested(depth)
    else:
        value_of(payload)["contacts"][0]["profile"]["more"] = nested(depth)
    body, headers = signed(payload)
    result = post(body, headers, lambda_context)
    assert result["statusCode"] == 400
    assert json.loads(result["body"]) == {"error": "body nested too deep"}
    assert queue.depth() == 0


def test_nesting_within_the_limit_is_accepted(queue: LocalFifoQueue, lambda_context: Any) -> None:
    """Bad input (tolerated): an unknown field nested 40 deep in a message, deeper than anything Meta
    sends today, still reaches the tutor whole."""
    payload = text_payload()
    first_message(payload)["extra"] = nested(40)
    body, headers = signed(payload)
    assert json.loads(post(body, headers, lambda_context)["body"]) == {"accepted": 1}
    [envelope] = envelopes(queue)
    assert envelope.message["extra"] == nested(40)
