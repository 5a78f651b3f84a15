"""``espaluz dev`` as a person runs it: a subprocess with embedded services under ESPALUZ_DATA_DIR."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from tests.conftest import free_port

ESPALUZ = str(Path(sys.executable).parent / "espaluz")


def stack_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "QUEUE_URL"}}
    env["ESPALUZ_DATA_DIR"] = str(data_dir)
    return env


class DevProcess:
    def __init__(self, data_dir: Path, port: int, *args: str) -> None:
        self.port = port
        self.proc = subprocess.Popen(
            [ESPALUZ, "dev", "--port", str(port), *args],
            env=stack_env(data_dir),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.url = f"http://127.0.0.1:{port}"
        seen: list[str] = []
        deadline = time.monotonic() + 90
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line and self.proc.poll() is not None:
                break
            seen.append(line)
            if self.url in line:
                return
        self.proc.kill()
        raise AssertionError("espaluz dev did not become ready:\n" + "".join(seen))

    def stop(self, sig: int = signal.SIGINT) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def kill_leftover_services(data_dir: Path) -> None:
    """A ``kill -9`` leaves the embedded Postgres and Redis running (the next start reuses them).
    Tests must not leave them behind."""
    marker = str(data_dir)
    for proc in psutil.process_iter(["cmdline", "cwd"]):
        try:
            cmdline = " ".join(proc.info["cmdline"] or [])
            if marker in cmdline or (proc.info["cwd"] or "").startswith(marker):
                proc.kill()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "espaluz-data"
    yield path
    kill_leftover_services(path)


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ESPALUZ, *args], env=env, capture_output=True, text=True, timeout=120)


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
    first = DevProcess(data_dir, port)
    send = {"wa_id": wa_id, "name": "Ana", "type": "text", "text": "hola"}
    assert httpx.post(f"{first.url}/dev/simulator/messages", json=send).json()["webhook_status"] == 200
    wait_for(lambda: len(outbox_messages(first.url, wa_id)) == 1)
    practice = {"wa_id": wa_id, "name": "Ana", "type": "button_reply", "id": "practice", "title": "Practicar"}
    assert httpx.post(f"{first.url}/dev/simulator/messages", json=practice).json()["webhook_status"] == 200
    first.stop(signal.SIGKILL)

    second = DevProcess(data_dir, port)
    try:
        wait_for(lambda: len(outbox_messages(second.url, wa_id)) == 2)
        replies = outbox_messages(second.url, wa_id)
        assert "Hola, Ana" in replies[0]["body"]["interactive"]["body"]["text"]
        assert replies[1]["body"]["text"]["body"].startswith("¿Cómo se conjuga")
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
    first = DevProcess(data_dir, port)
    send = {"wa_id": wa_id, "name": "Ana", "type": "text", "text": "hola"}
    httpx.post(f"{first.url}/dev/simulator/messages", json=send)
    wait_for(lambda: len(outbox_messages(first.url, wa_id)) == 1)
    first.stop()
    kill_leftover_services(data_dir)
    second = DevProcess(data_dir, port, "--reset")
    try:
        assert outbox_messages(second.url, wa_id) == []
    finally:
        second.stop()
    assert run_cli("learner", "show", wa_id, "--json", env=stack_env(data_dir)).returncode == 1
