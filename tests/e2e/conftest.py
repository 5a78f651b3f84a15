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
    log_path: Path
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


def _left_behind(pgid: int, data_dir: Path) -> list[int]:
    """Live (not zombie) processes the stack left: in its process group, or daemons in a session of
    their own working in, or started with, our data folder (Linux /proc; elsewhere nothing is found)."""
    root = str(data_dir)
    found: list[int] = []
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            state, pgrp = fields[0], int(fields[2])
            if state in ("Z", "X"):
                continue
            cwd = os.readlink(entry / "cwd")
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if pgrp == pgid or cwd == root or cwd.startswith(root + os.sep) or root in cmdline:
                found.append(int(entry.name))
    return found


def _stop(process: subprocess.Popen[str], data_dir: Path) -> None:
    """SIGINT (Ctrl-C), then SIGKILL after the grace period; then end, by pid, whatever it left behind."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_GRACE_S)
    pgid = process.pid  # start_new_session=True: the stack leads its own process group
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = _left_behind(pgid, data_dir)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 5
        while pids and time.monotonic() < deadline:
            time.sleep(0.1)
            pids = [pid for pid in pids if pid in _left_behind(pgid, data_dir)]


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "QUEUE_URL"}}
    data_dir = tmp_path_factory.mktemp("espaluz-data")
    env["ESPALUZ_DATA_DIR"] = str(data_dir)
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
    log_path = tmp_path_factory.mktemp("espaluz-log") / "espaluz-dev.log"
    stack = RunningStack(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    ready = threading.Event()

    def pump() -> None:
        # Keep draining the pipe for the whole session so the server never blocks on a full pipe.
        assert process.stdout is not None
        with log_path.open("w", encoding="utf-8") as log:
            for line in process.stdout:
                stack.output.append(line)
                log.write(line)
                log.flush()
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
        _stop(process, data_dir)
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
