"""``espaluz dev`` as a person runs it: a subprocess with embedded services under ESPALUZ_DATA_DIR."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import free_port
from tests.dev_process import DevStack, end_left_behind, espaluz_command, stack_env, subprocess_clock


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "espaluz-data"
    yield path
    end_left_behind(path)


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([espaluz_command(), *args], env=env, capture_output=True, text=True, timeout=120)


def test_port_in_use_is_refused_with_one_line(data_dir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("dev", "--port", str(port), env=stack_env(data_dir))
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "already in use" in lines[0]


def test_unwritable_data_folder_is_refused_with_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_cli("dev", "--port", str(free_port()), env=stack_env(blocker / "data"))
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "not writable" in lines[0]


def outbox_messages(url: str, wa_id: str) -> list[dict[str, Any]]:
    items = httpx.get(f"{url}/dev/outbox", timeout=10).json()
    return [i for i in items if i["kind"] == "message" and i["to"] == wa_id]


def wait_for(predicate: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_kill_mid_conversation_then_restart_loses_nothing(data_dir: Path) -> None:
    """The local stack is killed (SIGKILL) right after a message arrives: after a restart the learner,
    the earlier replies and the in-flight message are all still there, and the message is answered."""
    wa_id = "15550000077"
    port = free_port()
    first = DevStack.start(data_dir, port)
    send = {"wa_id": wa_id, "name": "Ana", "type": "text", "text": "hola"}
    assert httpx.post(f"{first.url}/dev/simulator/messages", json=send).json()["webhook_status"] == 200
    wait_for(lambda: len(outbox_messages(first.url, wa_id)) == 1)
    practice = {"wa_id": wa_id, "name": "Ana", "type": "button_reply", "id": "practice", "title": "Practicar"}
    assert httpx.post(f"{first.url}/dev/simulator/messages", json=practice).json()["webhook_status"] == 200
    first.stop(signal.SIGKILL, keep_services=True)  # a crash: Postgres and Redis stay up

    second = DevStack.start(data_dir, port)
    try:
        wait_for(lambda: len(outbox_messages(second.url, wa_id)) == 2)
        replies = outbox_messages(second.url, wa_id)
        assert "Hola, Ana" in replies[0]["body"]["interactive"]["body"]["text"]
        exercise = replies[1]["body"]["interactive"]  # an exercise, with its buttons (options or a hint)
        assert exercise["type"] == "button"
        assert exercise["action"]["buttons"]
    finally:
        second.stop()
    shown = run_cli("learner", "show", wa_id, "--json", env=stack_env(data_dir))
    assert shown.returncode == 0, shown.stderr
    learner = json.loads(shown.stdout)
    assert learner["level"] == "A1"
    assert learner["plan"] == "free"
    assert learner["plan_status"] == "none"
    assert set(learner) >= {"learner_id", "level", "plan", "plan_status"}


def test_reset_wipes_the_local_data(data_dir: Path) -> None:
    wa_id = "15550000088"
    port = free_port()
    first = DevStack.start(data_dir, port)
    send = {"wa_id": wa_id, "name": "Ana", "type": "text", "text": "hola"}
    httpx.post(f"{first.url}/dev/simulator/messages", json=send)
    wait_for(lambda: len(outbox_messages(first.url, wa_id)) == 1)
    first.stop()
    second = DevStack.start(data_dir, port, "--reset")
    try:
        assert outbox_messages(second.url, wa_id) == []
    finally:
        second.stop()
    assert run_cli("learner", "show", wa_id, "--json", env=stack_env(data_dir)).returncode == 1


def test_secrets_from_the_environment_win_and_sign_real_requests(data_dir: Path) -> None:
    """``espaluz dev`` with WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN and STRIPE_WEBHOOK_SECRET in its
    environment, as when Meta's real webhook reaches it through a tunnel: requests a script signs with
    those secrets are accepted and answered, the simulator signs with them too, and the secrets it
    generated (still kept in its data folder) no longer pass. Fault covered: generated secrets
    overriding the given ones (Meta's posts rejected with 403), or the simulator signing with a secret
    the webhook does not check."""
    from espaluz.dev.checkout import sign as stripe_sign
    from espaluz.dev.settings import DISPLAY_PHONE_NUMBER, PHONE_NUMBER_ID
    from espaluz.dev.simulator import message_payload, new_wamid
    from espaluz.whatsapp.signature import sign

    given = {
        "WHATSAPP_APP_SECRET": "tunnel-app-secret",
        "WHATSAPP_VERIFY_TOKEN": "tunnel-verify-token",
        "STRIPE_WEBHOOK_SECRET": "whsec_tunnel",
    }
    stack = DevStack.start(data_dir, free_port(), env=given)
    try:
        generated = json.loads((data_dir / "dev-secrets.json").read_text())
        assert generated["app_secret"] != given["WHATSAPP_APP_SECRET"]

        subscribe = {"hub.mode": "subscribe", "hub.challenge": "7"}
        verified = httpx.get(
            f"{stack.url}/webhooks/whatsapp", params={**subscribe, "hub.verify_token": "tunnel-verify-token"}
        )
        assert (verified.status_code, verified.text) == (200, "7")
        wrong_token = {**subscribe, "hub.verify_token": generated["verify_token"]}
        assert httpx.get(f"{stack.url}/webhooks/whatsapp", params=wrong_token).status_code == 403

        wa_id = "15550000099"
        spec = {"wa_id": wa_id, "name": "Ana", "type": "text", "text": "hola"}
        body = json.dumps(message_payload(spec, PHONE_NUMBER_ID, DISPLAY_PHONE_NUMBER, new_wamid())).encode()

        def post(secret: str) -> int:
            headers = {"content-type": "application/json", "x-hub-signature-256": sign(body, secret)}
            return httpx.post(f"{stack.url}/webhooks/whatsapp", content=body, headers=headers).status_code

        assert post(generated["app_secret"]) == 403  # a signature that does not match
        assert post("tunnel-app-secret") == 200
        wait_for(lambda: len(outbox_messages(stack.url, wa_id)) == 1)  # the tutor answered it
        again = {**spec, "text": "ayuda"}
        assert httpx.post(f"{stack.url}/dev/simulator/messages", json=again).json()["webhook_status"] == 200

        event: dict[str, Any] = {"object": "event", "id": "evt_tunnel_1", "type": "product.created"}
        event.update({"created": int(subprocess_clock()), "data": {"object": {"object": "product"}}})
        payload = json.dumps(event)

        def stripe_post(secret: str) -> httpx.Response:
            # Signed at the stack's time: Stripe's tolerance applies both ways, and the stack's clock is
            # the real one even when this test runs ahead (ESPALUZ_TEST_DAYS_AHEAD).
            signature = stripe_sign(payload, secret, int(subprocess_clock()))
            headers = {"content-type": "application/json", "stripe-signature": signature}
            return httpx.post(f"{stack.url}/webhooks/stripe", content=payload, headers=headers)

        rejected = stripe_post(generated["stripe_webhook_secret"])
        assert (rejected.status_code, rejected.json()) == (400, {"error": "bad signature"})
        assert stripe_post("whsec_tunnel").status_code == 200
    finally:
        stack.stop()
