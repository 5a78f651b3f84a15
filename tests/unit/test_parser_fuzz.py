"""The webhook parser and service, fuzzed with hypothesis.

Random JSON and mutated real fixtures (tests/events/updates/): ``WebhookPayload.model_validate`` raises
nothing but ``pydantic.ValidationError``; whatever parses, the tutor's accessors read without raising and
survive the queue round trip. The service itself, fed random bytes, signed or not, plain or base64, answers
only 200/400/413/401/403/503 and never raises; with Redis and the queue up, a signed body under the size
limit gets 200 or 400, never a 5xx, including bodies with NUL characters, lone surrogates and nesting
around ``httpapi.MAX_DEPTH`` (issue 14). What it enqueues is clean: no NUL, no lone surrogate, ids of at
most ``MAX_ID_CHARS``. (The Stripe webhook's fuzz is in tests/functional/test_billing_poison.py: it needs
Postgres.)
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from espaluz.httpapi import MAX_DEPTH, Request
from espaluz.queue.local import LocalFifoQueue
from espaluz.whatsapp.inbound import InboundEnvelope, WebhookService
from espaluz.whatsapp.models import (
    MAX_ID_CHARS,
    Message,
    MessageKind,
    Value,
    WebhookPayload,
    error_codes,
    is_voice_note,
    location_of,
    media_id,
    message_text,
    reaction_of,
    reply_id,
    sender_of,
)
from espaluz.whatsapp.signature import sign
from tests.unit.test_models import CASES, load_update

SECRET = "fuzz-app-secret"  # fake, for the fuzzer only
FIXTURES = [load_update(name) for name in sorted(CASES)]

# Field names of the webhook, so random documents reach deep into the models instead of failing at the top.
KEYS = [
    "object", "entry", "id", "changes", "field", "value", "metadata", "phone_number_id",
    "display_phone_number", "contacts", "profile", "name", "wa_id", "user_id", "messages", "statuses",
    "user_preferences", "user_id_update", "from", "from_user_id", "timestamp", "type", "text", "body",
    "audio", "voice", "image", "caption", "sticker", "animated", "location", "latitude", "longitude",
    "reaction", "message_id", "emoji", "interactive", "button_reply", "list_reply", "button", "payload",
    "system", "errors", "code", "status", "recipient_id", "conversation", "pricing", "referral",
    "previous", "current", "category",
]  # fmt: skip
TYPES = [
    "text", "audio", "image", "video", "document", "sticker", "location", "contacts", "reaction",
    "interactive", "button", "unsupported", "system", "order", "",
]  # fmt: skip

# Text Postgres or UTF-8 refuse: NUL, lone surrogates; and ids beyond the B-tree row limit.
poison_text = (
    st.text(
        st.sampled_from(["\x00", "\ud800", "\udfff", "\ud83d", "a", "ñ", "\U0001f600"]),
        min_size=1,
        max_size=6,
    )
    | st.just("w" * 300)  # over MAX_ID_CHARS (the B-tree limit itself: test_webhook_poison.py)
    | st.sampled_from(["10000000000000", "-1", "1e300"])
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(TYPES)
    | poison_text
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=5)
    ),
    max_leaves=25,
)
HYPO = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def exercise(payload: WebhookPayload) -> None:
    """Everything the webhook and the tutor read from a parsed payload."""
    for entry in payload.entry:
        for change in entry.changes:
            if not isinstance(change.value, Value):
                continue
            value = change.value
            for message in value.messages:
                assert isinstance(message.kind, MessageKind)
                sender_of(value, message)
                message_text(message)
                reply_id(message)
                media_id(message)
                is_voice_note(message)
                reaction_of(message)
                location_of(message)
                error_codes(message)
                dumped = message.model_dump(mode="json", by_alias=True, exclude_none=True)
                assert Message.model_validate(json.loads(json.dumps(dumped))).kind == message.kind
            for status in value.statuses:
                _ = status.error_code


def validate_or_reject(document: Any) -> None:
    try:
        payload = WebhookPayload.model_validate(document)
    except ValidationError:
        return
    exercise(payload)


@HYPO
@given(json_values)
def test_random_json_raises_only_validation_errors(document: Any) -> None:
    """Bad input covered: arbitrary JSON values of any shape."""
    validate_or_reject(document)


@HYPO
@given(json_values, json_values)
def test_random_changes_inside_a_valid_envelope_raise_only_validation_errors(
    value: Any, message: Any
) -> None:
    """Bad input covered: a well-formed envelope whose change value and message are random, so the
    fuzzer reaches the message and status models."""
    document = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [
                    {"field": "messages", "value": value},
                    {
                        "field": "messages",
                        "value": {"metadata": {"phone_number_id": "1"}, "messages": [message]},
                    },
                ],
            }
        ],
    }
    validate_or_reject(document)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            out.extend(_paths(v, (*path, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(_paths(v, (*path, i)))
    return out


@st.composite
def mutated_fixtures(draw: st.DrawFn) -> Any:
    """A real fixture with 1-4 mutations: a value replaced by random JSON or a sampled message type, a key
    deleted, a list item duplicated, or a key added."""
    document = copy.deepcopy(draw(st.sampled_from(FIXTURES)))
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(document)
        path = draw(st.sampled_from(paths[1:] if len(paths) > 1 else paths))
        if not path:
            break
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        action = draw(st.sampled_from(["replace", "type", "delete", "duplicate", "add"]))
        if action == "replace":
            parent[last] = draw(json_values)
        elif action == "type":
            parent[last] = draw(st.sampled_from(TYPES))
        elif action == "delete":
            del parent[last]
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[last]))
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(KEYS))] = draw(json_values)
    return document


@HYPO
@given(mutated_fixtures())
def test_mutated_real_fixtures_raise_only_validation_errors(document: Any) -> None:
    """Bad input covered: real payloads with fields deleted, retyped, duplicated or added."""
    validate_or_reject(document)


# -- the service --------------------------------------------------------------------------------------


@pytest.fixture
def service(redis_client: redis.Redis[bytes]) -> WebhookService:
    return WebhookService(
        app_secret=SECRET,
        verify_token="fuzz-verify",
        queue=LocalFifoQueue(redis_client, "fuzz"),
        redis=redis_client,
        max_body_bytes=20_000,
    )


def _nest(depth: int, leaf: Any) -> Any:
    for _ in range(depth):
        leaf = {"a": leaf}
    return leaf


@st.composite
def deeply_nested_fixtures(draw: st.DrawFn) -> Any:
    """A real fixture with a value replaced by objects nested around the limit (just under, at, far over)."""
    document = copy.deepcopy(draw(st.sampled_from(FIXTURES)))
    paths = [p for p in _paths(document) if p]
    path = draw(st.sampled_from(paths))
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    depth = draw(st.sampled_from([MAX_DEPTH - 12, MAX_DEPTH, 200, 900]))
    parent[path[-1]] = _nest(depth, draw(scalars))
    return document


def _escaped(document: Any) -> bytes:
    """JSON as Meta writes it: non-ASCII escaped, so NUL and lone surrogates travel as escapes."""
    return json.dumps(document).encode()


surrogate_text = st.text(
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, categories=["Cs"]) | st.characters(),
    max_size=8,
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    # Raw UTF-8; a lone surrogate among the values makes it invalid UTF-8, another 400.
    mutated_fixtures().map(lambda v: json.dumps(v, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    surrogate_text.map(lambda t: json.dumps({"object": "x", "entry": [], "t": t}).encode()),
    st.integers(21_000, 40_000).map(lambda n: b" " * n),
    mutated_fixtures().map(_escaped),
    deeply_nested_fixtures().map(_escaped),
)


@HYPO
@given(body=bodies, how=st.sampled_from(["signed", "unsigned", "forged", "odd-header"]))
def test_service_answers_only_known_statuses_and_never_raises(
    service: WebhookService, body: bytes, how: str
) -> None:
    """Bad input covered: random bytes, random JSON, mutated fixtures, lone surrogates and oversized bodies,
    with a valid, missing, forged or non-ASCII signature. With Redis and the queue up, a signed body under
    the limit is answered 200 or 400 (a 5xx would be a bug: Meta would retry it for days)."""
    headers = {
        "signed": {"x-hub-signature-256": sign(body, SECRET)},
        "unsigned": {},
        "forged": {"x-hub-signature-256": sign(body, "another-secret")},
        "odd-header": {"x-hub-signature-256": "sha256=\udcff\u00f1"},
    }[how]
    response = service.receive(Request("POST", "/webhooks/whatsapp", headers, {}, body))
    assert response.status in {200, 400, 401, 403, 413, 503}
    if len(body) > service.max_body_bytes:
        assert response.status == 413
    elif how == "signed":
        assert response.status in {200, 400}
    else:
        assert response.status == (401 if how == "unsigned" else 403)


def test_every_fuzzed_envelope_on_the_queue_reads_back(
    service: WebhookService, redis_client: redis.Redis[bytes]
) -> None:
    """What the fuzzed service put on the queue is readable by the tutor: each body is a valid envelope, and
    message envelopes hold a valid Message. Bad input covered: mutated fixtures, with NUL, lone surrogates,
    over-long ids and out-of-range timestamps among the values; what is enqueued holds none of them."""

    @HYPO
    @given(mutated_fixtures())
    def feed(document: Any) -> None:
        body = _escaped(document)
        headers = {"x-hub-signature-256": sign(body, SECRET)}
        assert service.receive(Request("POST", "/webhooks/whatsapp", headers, {}, body)).status in {200, 400}

    feed()
    queue = LocalFifoQueue(redis_client, "fuzz")
    seen = 0
    while batch := queue.receive(10):
        for record in batch:
            assert "\\u0000" not in record.body
            record.body.encode()  # no lone surrogate: UTF-8 refuses them
            envelope = InboundEnvelope.model_validate_json(record.body)
            assert len(envelope.wamid) <= MAX_ID_CHARS
            assert all(len(i or "") <= MAX_ID_CHARS for i in (envelope.wa_id, envelope.bsuid))
            if envelope.kind == "message":
                message = Message.model_validate(envelope.message)
                assert message.model_dump(mode="json", by_alias=True, exclude_none=True) == envelope.message
                assert 0 <= int(message.timestamp) < 10**13
            seen += 1
        for group in {r.group_id for r in batch}:
            queue.settle(group, [r.message_id for r in batch if r.group_id == group])
    assert seen > 0
