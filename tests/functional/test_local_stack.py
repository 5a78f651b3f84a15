"""The local stack's web app, served on loopback, driven over HTTP as the simulator page drives it."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from espaluz.config import get_settings
from espaluz.dev.stack import LocalStack
from espaluz.whatsapp.graph import GraphAPIError, GraphClient
from espaluz.whatsapp.inbound import delivery_status
from tests.conftest import free_port

LEARNER = {"wa_id": "15550000001", "name": "Ana"}


@pytest.fixture
def stack(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[LocalStack]:
    from functions.billing import handler as billing
    from functions.tutor import handler as tutor
    from functions.webhook import handler as webhook

    def reset() -> None:
        get_settings.cache_clear()
        webhook.service.cache_clear()
        billing.service.cache_clear()
        tutor.processor.cache_clear()

    saved = dict(os.environ)
    reset()
    local = LocalStack(tmp_path / "data", port=free_port(), database_url=database_url, redis_url=redis_url)
    local.serve_in_thread()
    try:
        yield local
    finally:
        local.stop()
        os.environ.clear()
        os.environ.update(saved)
        reset()


def wait_for_reply(client: httpx.Client, wa_id: str, after: int = 0, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for item in client.get("/dev/outbox", params={"after": after}).json():
            if item["kind"] == "message" and item["to"] == wa_id:
                return dict(item)
        time.sleep(0.05)
    raise AssertionError("no reply in the outbox")


def test_a_simulated_message_travels_the_whole_path_and_gets_a_reply(
    stack: LocalStack, redis_client: redis.Redis[bytes]
) -> None:
    with httpx.Client(base_url=stack.url, timeout=10) as client:
        sent = client.post("/dev/simulator/messages", json={**LEARNER, "type": "text", "text": "hola"}).json()
        assert sent["webhook_status"] == 200
        assert sent["wamid"].startswith("wamid.")
        reply = wait_for_reply(client, LEARNER["wa_id"])
        assert reply["type"] == "interactive"
        assert "Hola, Ana" in reply["body"]["interactive"]["body"]["text"]
        reads = [i for i in client.get("/dev/outbox").json() if i["kind"] == "read"]
        assert reads[0]["body"]["message_id"] == sent["wamid"]
        # The emulator reports "sent" for our reply, as Meta does, through the signed webhook.
        deadline = time.monotonic() + 5
        while not delivery_status(redis_client, reply["id"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert delivery_status(redis_client, reply["id"])["status"] == "sent"
        # The page reports read; the record moves forward.
        status = {"wa_id": LEARNER["wa_id"], "wamid": reply["id"], "status": "read"}
        assert client.post("/dev/simulator/statuses", json=status).json() == {"webhook_status": 200}
        assert delivery_status(redis_client, reply["id"])["status"] == "read"


def test_button_reply_from_the_simulator_is_understood(stack: LocalStack) -> None:
    with httpx.Client(base_url=stack.url, timeout=10) as client:
        spec = {**LEARNER, "type": "button_reply", "id": "help", "title": "Ayuda"}
        assert client.post("/dev/simulator/messages", json=spec).json()["webhook_status"] == 200
        reply = wait_for_reply(client, LEARNER["wa_id"])
        assert "practicar" in reply["body"]["interactive"]["body"]["text"]


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "text", "text": "hola"},  # no sender
        {**LEARNER, "type": "text", "text": "   "},
        {**LEARNER, "type": "sticker"},
        {**LEARNER, "type": "button_reply"},
        ["not", "an", "object"],
    ],
)
def test_simulator_rejects_malformed_input_with_400(stack: LocalStack, spec: Any) -> None:
    """Malformed payloads: a clear 400, and nothing reaches the queue."""
    with httpx.Client(base_url=stack.url, timeout=10) as client:
        response = client.post("/dev/simulator/messages", json=spec)
        assert response.status_code == 400
        assert response.json()["error"]
        time.sleep(0.3)
        assert [i for i in client.get("/dev/outbox").json() if i["kind"] == "message"] == []


def test_webhook_subscription_check_through_the_local_gateway(stack: LocalStack) -> None:
    token = get_settings().whatsapp_verify_token.get_secret_value()
    query = {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "42"}
    response = httpx.get(f"{stack.url}/webhooks/whatsapp", params=query)
    assert (response.status_code, response.text) == (200, "42")
    assert httpx.post(f"{stack.url}/webhooks/whatsapp", content=b"{}").status_code == 401


def test_media_round_trip_and_expired_urls(stack: LocalStack) -> None:
    settings = get_settings()
    upload = httpx.post(
        f"{stack.url}/dev/simulator/media", files={"file": ("v.ogg", b"OggS-fake", "audio/ogg")}
    )
    media_id = upload.json()["media_id"]
    graph = GraphClient(settings.whatsapp_graph_url, settings.whatsapp_access_token.get_secret_value())
    info = graph.media_info(media_id)
    assert (info.mime_type, info.file_size) == ("audio/ogg", 9)
    assert graph.download(info.url) == b"OggS-fake"
    expired = info.url.split("?")[0] + "?expires=1&sig=x"
    with pytest.raises(GraphAPIError) as caught:
        graph.download(expired)
    assert caught.value.code == 131052
    wrong_token = GraphClient(settings.whatsapp_graph_url, "not-the-token")
    with pytest.raises(GraphAPIError) as denied:
        wrong_token.media_info(media_id)
    assert denied.value.code == 190


def test_simulator_page_is_served(stack: LocalStack) -> None:
    page = httpx.get(f"{stack.url}/")
    assert page.status_code == 200
    assert "<html" in page.text.lower()
