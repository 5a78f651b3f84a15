"""Signed but pathological Stripe events (issue 14, item 4) on the real billing handler and Postgres: never a
5xx, which Stripe retries for three days (and then disables the endpoint).

The rules under test (espaluz/billing/events.py says why): a body nested deeper than ``MAX_DEPTH``, or
whose event id or type is not Stripe's printable ASCII (NUL, lone surrogates), is not a Stripe event: 400,
nothing recorded. An event of the right shape whose object lacks what its handler needs (a subscription
event without an object id) is Stripe's own and will never change: 200, recorded, ignored with a log line.
Other strings are cleaned (NUL removed, lone surrogates replaced) before they reach Postgres.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import STRIPE_SECRET
from tests.stripe_api import StripeAPI, signed_post, stripe_api, stripe_header

__all__ = ["stripe_api"]  # the fixture, imported for pytest


def post_raw(body: bytes, context: Any) -> dict[str, Any]:
    """``body`` exactly as given, signed like Stripe signs it, to the billing Lambda handler."""
    from functions.billing import handler as billing
    from tests.functional.test_webhook import api_event

    headers = {"stripe-signature": stripe_header(body, STRIPE_SECRET)}
    result: dict[str, Any] = billing.handler(
        api_event(body, path="/webhooks/stripe", headers=headers, b64=True), context
    )
    return result


def recorded(database_url: str) -> list[tuple[str, str]]:
    with psycopg.connect(database_url) as conn:
        return [(r[0], r[1]) for r in conn.execute("SELECT id, type FROM stripe_events").fetchall()]


def nested(depth: int) -> Any:
    node: Any = "x"
    for _ in range(depth):
        node = {"a": node}
    return node


@pytest.mark.parametrize(
    ("depth", "where"),
    [(900, "metadata"), (70, "metadata"), (100_000, "raw")],
    ids=["metadata-900", "metadata-70", "raw-100000"],
)
def test_deep_nesting_is_400_and_records_nothing(
    stripe_api: StripeAPI, database_url: str, lambda_context: Any, depth: int, where: str
) -> None:
    """Bad input: a signed event nested ``depth`` levels deep (before: 100,000 levels raised
    RecursionError in the parser, a 500 that Stripe retries for three days; 900 and 70 were recorded and
    applied)."""
    if where == "raw":
        body = b'{"object":"event","id":"evt_deep","type":"x","created":1,"data":{"object":' + (
            b"[" * depth + b"]" * depth + b"}}"
        )
    else:
        event = stripe_api.emulator.event("customer.created", {"id": "cus_1", "metadata": nested(depth)})
        body = json.dumps(event).encode()
    result = post_raw(body, lambda_context)
    assert result["statusCode"] == 400
    assert json.loads(result["body"]) == {"error": "body nested too deep"}
    assert recorded(database_url) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "evt_\x00nul"),
        ("id", "evt_\ud800surrogate"),
        ("type", "customer.\x00created"),
        ("type", "customer.subscription.updated\udfff"),
        ("id", "evt_" + "x" * 300),
        ("id", "evt con espacio"),
    ],
    ids=["nul-in-id", "surrogate-in-id", "nul-in-type", "surrogate-in-type", "id-300-chars", "space-in-id"],
)
def test_event_id_or_type_outside_stripes_alphabet_is_400(
    stripe_api: StripeAPI, database_url: str, lambda_context: Any, field: str, value: str
) -> None:
    """Bad input: a NUL, a lone surrogate, a space or 300 characters in the event id or type (before:
    Postgres or psycopg refused them inside the event's transaction: a 500, retried by Stripe for three
    days)."""
    event = stripe_api.emulator.event("customer.created", {"id": "cus_1", "object": "customer"})
    event[field] = value
    result = signed_post(event, lambda_context)  # json.dumps escapes the NUL and the surrogate
    assert result["statusCode"] == 400
    assert json.loads(result["body"]) == {"error": "body is not a Stripe event"}
    assert recorded(database_url) == []


@pytest.mark.parametrize(
    "event_type",
    [
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.trial_will_end",
    ],
)
@pytest.mark.parametrize("object_id", [None, "", 42, "sub con espacio", {"nested": "dict"}], ids=repr)
def test_subscription_event_without_a_usable_object_id_is_acknowledged_and_ignored(
    stripe_api: StripeAPI,
    database_url: str,
    lambda_context: Any,
    caplog: pytest.LogCaptureFixture,
    event_type: str,
    object_id: Any,
) -> None:
    """Bad input: a subscription event whose object has no id, an empty or numeric one, one with spaces, or
    an object for an id (before: no id was a KeyError inside the transaction, a 500 that Stripe retries
    for three days for an event that can never change; the others were looked up at Stripe). Now: 200,
    recorded once, nothing asked of Stripe's API, and a warning saying why."""
    obj: dict[str, Any] = {"object": "subscription", "status": "active"}
    if object_id is not None:
        obj["id"] = object_id
    event = stripe_api.emulator.event(event_type, obj)
    with caplog.at_level(logging.WARNING):
        result = signed_post(event, lambda_context)
    assert result["statusCode"] == 200
    assert recorded(database_url) == [(event["id"], event_type)]
    assert stripe_api.emulator.requests == []
    assert "subscription event without an object id ignored" in caplog.messages
    assert signed_post(event, lambda_context)["statusCode"] == 200  # a retry is a duplicate


CHECKOUT_WITH_NULS = {
    "id": "cs_\x00nul",
    "object": "checkout.session",
    "client_reference_id": "not-a-learner\udc80",
    "customer": "cus_\x00",
    "subscription": "sub_\ud800",
    "metadata": {"offer_id": "\x00", "learner_id": "\ud800"},
}


@pytest.mark.parametrize(
    ("event_type", "obj"),
    [
        ("checkout.session.completed", CHECKOUT_WITH_NULS),
        ("customer.subscription.updated", {"id": "sub_\x00nul", "object": "subscription"}),
        ("invoice.payment_failed", {"id": "in_1", "subscription": "sub_\x00", "customer": "cus_\ud800"}),
    ],
    ids=["checkout", "subscription", "invoice"],
)
def test_nul_and_surrogates_in_the_object_are_cleaned_not_fatal(
    stripe_api: StripeAPI, database_url: str, lambda_context: Any, event_type: str, obj: dict[str, Any]
) -> None:
    """Bad input: NUL and lone surrogates in the object's ids, customer, subscription and metadata (before:
    Postgres or psycopg refused them inside the event's transaction, a 500). Now cleaned (an id that no
    longer names anything at Stripe is answered 404 there, and acknowledged): 200, recorded."""
    event = stripe_api.emulator.event(event_type, obj)
    assert signed_post(event, lambda_context)["statusCode"] == 200
    assert recorded(database_url) == [(event["id"], event_type)]


# -- fuzz: no signed body makes the billing webhook answer 5xx ---------------------------------------------

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
OBJECT_KEYS = [
    "id", "object", "subscription", "customer", "client_reference_id", "metadata", "offer_id", "learner_id",
    "parent", "subscription_details", "status", "items", "data",
]  # fmt: skip
stripe_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
    | st.text(st.sampled_from(["\x00", "\ud800", "\udfff", "a", "_", " ", "ñ"]), min_size=1, max_size=6)
    | st.sampled_from(["sub_1", "cus_1", "00000000-0000-0000-0000-000000000000", "x" * 300])
)
stripe_values = st.recursive(
    stripe_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(OBJECT_KEYS), inner, max_size=4)
    ),
    max_leaves=15,
)
EVENT_TYPES = [
    "checkout.session.completed", "customer.subscription.created", "customer.subscription.updated",
    "customer.subscription.deleted", "customer.subscription.trial_will_end", "invoice.paid",
    "invoice.payment_failed", "customer.created",
]  # fmt: skip


@st.composite
def stripe_events(draw: st.DrawFn) -> Any:
    """A Stripe-shaped event of a type we handle, its object, id, type or ``created`` random (NUL, lone
    surrogates, numbers, nesting), sometimes nested far beyond the limit."""
    event: dict[str, Any] = {
        "id": draw(st.sampled_from(["evt_fuzz"]) | stripe_scalars),
        "object": "event",
        "type": draw(st.sampled_from(EVENT_TYPES) | stripe_scalars),
        "created": draw(st.sampled_from([1_700_000_000]) | stripe_scalars),
        "data": {"object": draw(st.dictionaries(st.sampled_from(OBJECT_KEYS), stripe_values, max_size=6))},
    }
    if draw(st.booleans()):
        event["data"]["object"]["metadata"] = nested(draw(st.sampled_from([50, 64, 65, 900])))
    return event


@FUZZ
@given(document=stripe_events() | stripe_values)
def test_no_signed_body_makes_the_billing_webhook_answer_5xx(
    stripe_api: StripeAPI, database_url: str, lambda_context: Any, document: Any
) -> None:
    """Bad input: random Stripe-shaped events and random JSON, signed with the right secret (lone surrogates
    travel as JSON escapes, as Stripe would write them). With Postgres and Stripe's API up, every answer is
    200 or 400: a 5xx would have Stripe retry the same poison for three days."""
    body = json.dumps(document).encode()
    assert post_raw(body, lambda_context)["statusCode"] in {200, 400}
