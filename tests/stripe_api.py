"""A local server speaking Stripe's HTTP API (``espaluz.dev.checkout``), for tests.

The ``stripe_api`` fixture serves the emulated API and the checkout page on loopback, with the billing
Lambda handler behind ``/webhooks/stripe`` (through the local API Gateway stand-in), and points the
functions' settings at it (``STRIPE_API_KEY``, ``STRIPE_API_BASE``). The official ``stripe`` package thus
runs unchanged against it. Import the fixture into a test module to use it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import stripe
from fastapi import Request
from fastapi.responses import Response

from tests.conftest import STRIPE_SECRET, _Server

TEST_KEY = "sk_test_fixture"  # fake


def stripe_header(body: bytes, secret: str = STRIPE_SECRET, at: int | None = None) -> str:
    """``Stripe-Signature`` computed by the ``stripe`` package's own signing code."""
    timestamp = int(time.time()) if at is None else at
    signature = stripe.WebhookSignature._compute_signature(  # type: ignore[no-untyped-call]
        f"{timestamp}.{body.decode()}", secret
    )
    return f"t={timestamp},v1={signature}"


@dataclass
class StripeAPI:
    base_url: str
    emulator: Any  # espaluz.dev.checkout.StripeEmulator

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/stripe"

    def pay(self, session_id: str) -> list[dict[str, Any]]:
        """Press "Pay" on the local checkout page."""
        response = httpx.post(f"{self.base_url}/dev/checkout/api/sessions/{session_id}/pay", timeout=30)
        response.raise_for_status()
        events: list[dict[str, Any]] = response.json()["events"]
        return events

    def act(self, subscription_id: str, action: str) -> list[dict[str, Any]]:
        response = httpx.post(
            f"{self.base_url}/dev/checkout/api/subscriptions/{subscription_id}/{action}", timeout=30
        )
        response.raise_for_status()
        events: list[dict[str, Any]] = response.json()["events"]
        return events


@pytest.fixture
def stripe_api(function_env: Callable[..., None]) -> Iterator[StripeAPI]:
    from fastapi import FastAPI

    from espaluz.dev import gateway
    from espaluz.dev.checkout import StripeEmulator, stripe_router
    from functions.billing import handler as billing

    app = FastAPI()
    server = _Server(app)
    base = f"http://127.0.0.1:{server.port}"
    emulator = StripeEmulator(base, f"{base}/webhooks/stripe", STRIPE_SECRET)
    app.include_router(stripe_router(emulator))

    @app.post("/webhooks/stripe")
    async def webhook(request: Request) -> Response:
        return await gateway.invoke(request, billing.handler, "espaluz-billing")

    with server as url:
        function_env(STRIPE_API_KEY=TEST_KEY, STRIPE_API_BASE=f"{url}/stripe")
        yield StripeAPI(url, emulator)


def signed_post(event: dict[str, Any], context: Any, header: str | None = "sign") -> dict[str, Any]:
    """Deliver ``event`` to the billing Lambda handler in-process, signed unless told otherwise."""
    from functions.billing import handler as billing
    from tests.functional.test_webhook import api_event

    body = json.dumps(event).encode()
    headers = {}
    if header == "sign":
        headers["stripe-signature"] = stripe_header(body)
    elif header:
        headers["stripe-signature"] = header
    result: dict[str, Any] = billing.handler(
        api_event(body, path="/webhooks/stripe", headers=headers), context
    )
    return result
