"""Fixtures for the browser tests: the real local stack (``espaluz dev``) in a subprocess, and a headless
Debian Chromium driven by Playwright.

The stack runs with a fresh data folder and without DATABASE_URL/REDIS_URL/QUEUE_URL, so it starts its
embedded services; it is stopped with SIGINT (Ctrl-C, its documented way out), then killed if it lingers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 90.0
STOP_GRACE_S = 15.0
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE_VIEWPORT: ViewportSize = {"width": 412, "height": 860}


@dataclass
class RunningStack:
    """The ``espaluz dev`` process and what it printed."""

    url: str
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    def log(self) -> str:
        return "".join(self.output)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _espaluz_command() -> str:
    """The ``espaluz`` script of the environment running pytest (the project's ``.venv``)."""
    beside_python = Path(sys.executable).parent / "espaluz"
    return str(beside_python if beside_python.exists() else REPO / ".venv" / "bin" / "espaluz")


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop(process: subprocess.Popen[str]) -> None:
    """SIGINT (Ctrl-C), then SIGKILL after the grace period; then whatever it left in its session."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_GRACE_S)
    pgid = process.pid  # start_new_session=True: the stack leads its own process group
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not _group_alive(pgid):
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)
        deadline = time.monotonic() + 5
        while _group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.1)


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "QUEUE_URL"}}
    env["ESPALUZ_DATA_DIR"] = str(tmp_path_factory.mktemp("espaluz-data"))
    env["PYTHONUNBUFFERED"] = "1"
    process = subprocess.Popen(
        [_espaluz_command(), "dev", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
        start_new_session=True,
    )
    stack = RunningStack(url=f"http://127.0.0.1:{port}", process=process)
    ready = threading.Event()

    def pump() -> None:
        # Keep draining the pipe for the whole session so the server never blocks on a full pipe.
        assert process.stdout is not None
        for line in process.stdout:
            stack.output.append(line)
            if stack.url in line:
                ready.set()

    reader = threading.Thread(target=pump, name="espaluz-dev-output", daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not ready.wait(0.2):
            if process.poll() is not None:
                reader.join(timeout=2)
                pytest.fail(
                    f"`espaluz dev` exited with {process.returncode} before serving; output:\n{stack.log()}"
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"`espaluz dev` did not print {stack.url} within {READY_TIMEOUT_S:.0f} s; "
                    f"output:\n{stack.log()}"
                )
        yield stack
    finally:
        _stop(process)
        reader.join(timeout=5)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, local_stack: RunningStack) -> Iterator[Page]:
    """A fresh phone-sized page (its own localStorage) on the simulator, once the page is ready."""
    context = browser.new_context(viewport=PHONE_VIEWPORT, locale="es-ES")
    context.set_default_timeout(15_000)
    errors: list[str] = []
    opened = context.new_page()
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    opened.goto(f"{local_stack.url}/")
    opened.wait_for_selector("body[data-ready='true']")
    try:
        yield opened
        assert not errors, f"JavaScript errors on the simulator page: {errors}"
    finally:
        context.close()
