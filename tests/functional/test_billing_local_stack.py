"""A test purchase on the local stack, without Stripe keys: the chat's checkout link opens the local
checkout page, its "Pay" sends signed events to ``/webhooks/stripe``, and ``espaluz learner show`` then
reports the plan (the contract in ARCHITECTURE.md)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from click.testing import CliRunner

from espaluz.dev.stack import LocalStack
from tests.functional.test_local_stack import stack

__all__ = ["stack"]

LEARNER = {"wa_id": "15550000001", "name": "Ana"}


@pytest.fixture
def keyless(monkeypatch: pytest.MonkeyPatch) -> None:
    """No Stripe keys in the environment: the stack must use its own checkout page."""
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    monkeypatch.delenv("STRIPE_API_BASE", raising=False)


def next_message(client: httpx.Client, after: int, timeout: float = 20) -> tuple[dict[str, Any], int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for item in client.get("/dev/outbox", params={"after": after}).json():
            if item["kind"] == "message" and item["to"] == LEARNER["wa_id"]:
                return dict(item), int(item["seq"])
        time.sleep(0.05)
    raise AssertionError("no message in the outbox")


def test_local_checkout_page_completes_a_purchase(
    keyless: None, stack: LocalStack, database_url: str
) -> None:
    with httpx.Client(base_url=stack.url, timeout=20) as client:
        spec = {**LEARNER, "type": "text", "text": "suscribir"}
        assert client.post("/dev/simulator/messages", json=spec).json()["webhook_status"] == 200
        link, seq = next_message(client, 0)
        assert link["body"]["interactive"]["type"] == "cta_url"
        url = link["body"]["interactive"]["action"]["parameters"]["url"]
        assert url.startswith(f"{stack.url}/dev/checkout/cs_test_")
        page = client.get(url)
        assert page.status_code == 200
        assert "Pagar" in page.text
        session_id = url.rsplit("/", 1)[1]
        paid = client.post(f"/dev/checkout/api/sessions/{session_id}/pay").json()["events"]
        assert [e["type"] for e in paid] == [
            "customer.subscription.created",
            "checkout.session.completed",
            "invoice.paid",
        ]
        assert all(e["status"] == 200 for e in paid)
        thanks, _ = next_message(client, seq)
        assert "Espaluz Plus" in json.dumps(thanks["body"], ensure_ascii=False)

    from espaluz.cli import main

    shown = CliRunner().invoke(
        main, ["learner", "show", LEARNER["wa_id"], "--json"], env={"DATABASE_URL": database_url}
    )
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert (data["plan"], data["plan_status"]) == ("premium", "active")


def test_checkout_page_for_an_unknown_session(keyless: None, stack: LocalStack) -> None:
    """A made-up session id: the page loads but the pay action answers 404 and sends nothing."""
    with httpx.Client(base_url=stack.url, timeout=20) as client:
        assert client.post("/dev/checkout/api/sessions/cs_test_nope/pay").status_code == 404
        assert client.get("/dev/outbox").json() == []


def test_static_page_exists() -> None:
    from espaluz.dev.checkout import STATIC_DIR

    assert (Path(STATIC_DIR) / "checkout.html").read_text().count("/dev/checkout/api/") >= 3


@pytest.mark.browser
def test_pay_button_in_a_browser(keyless: None, stack: LocalStack, database_url: str, browser: Any) -> None:
    """The checkout page's own script: a click on "Pagar" completes the purchase (headless Chromium)."""
    with httpx.Client(base_url=stack.url, timeout=20) as client:
        spec = {**LEARNER, "type": "text", "text": "plan"}
        assert client.post("/dev/simulator/messages", json=spec).json()["webhook_status"] == 200
        link, _ = next_message(client, 0)
    url = link["body"]["interactive"]["action"]["parameters"]["url"]
    page = browser.new_page()
    try:
        page.goto(url)
        page.get_by_role("button", name="Pagar").click()
        page.get_by_text("¡Pago completado!").wait_for(timeout=20_000)
        assert "checkout.session.completed → 200" in page.locator("#log").inner_text()
    finally:
        page.close()
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT plan, plan_status FROM learners WHERE wa_id = %s", (LEARNER["wa_id"],)
        ).fetchone()
    assert row == ("premium", "active")
