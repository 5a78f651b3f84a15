"""``espaluz dev`` as a subprocess, as a person runs it: for the CLI tests and the browser tests.

The stack runs with its own data folder and without DATABASE_URL/REDIS_URL/QUEUE_URL, so it starts its
embedded services. Its output is drained by a thread for its whole life (a full pipe would block the
server) and kept for failure messages. ``stop`` sends SIGINT (Ctrl-C, its documented way out), kills it if
it lingers, then ends whatever it left running: after a ``kill -9`` the embedded Postgres and Redis stay
up on purpose (the next start reuses them), and tests must not leave them behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
READY_TIMEOUT_S = 90.0
STOP_GRACE_S = 15.0


class StackDidNotStart(AssertionError):
    pass


def espaluz_command() -> str:
    """The ``espaluz`` script of the environment running pytest (the project's ``.venv``)."""
    beside_python = Path(sys.executable).parent / "espaluz"
    return str(beside_python if beside_python.exists() else REPO / ".venv" / "bin" / "espaluz")


def subprocess_clock() -> float:
    """The clock an ``espaluz dev`` subprocess runs on: the real one, also while this test process runs
    ahead in time (``ESPALUZ_TEST_DAYS_AHEAD``, tests/conftest.py). What the test signs or stamps for the
    stack to check against its own clock (a Stripe signature's timestamp) takes its time from here."""
    import time_machine

    if time_machine.escape_hatch.is_travelling():
        return time_machine.escape_hatch.time.time()
    return time.time()


def stack_env(data_dir: Path) -> dict[str, str]:
    wiring = {"DATABASE_URL", "REDIS_URL", "REDIS_CLUSTER", "QUEUE_URL"}  # the stack embeds its own
    env = {k: v for k, v in os.environ.items() if k not in wiring}
    env["ESPALUZ_DATA_DIR"] = str(data_dir)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def left_behind(data_dir: Path, pgid: int | None = None) -> list[int]:
    """Live (not zombie) processes in the stack's process group, or working in, or started with, its data
    folder (Linux /proc; elsewhere nothing is found)."""
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


def end_left_behind(data_dir: Path, pgid: int | None = None) -> None:
    """SIGTERM, then SIGKILL, whatever ``left_behind`` finds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = left_behind(data_dir, pgid)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 5
        while pids and time.monotonic() < deadline:
            time.sleep(0.1)
            pids = [pid for pid in pids if pid in left_behind(data_dir, pgid)]


@dataclass
class DevStack:
    """A running ``espaluz dev`` and what it printed."""

    url: str
    data_dir: Path
    process: subprocess.Popen[str]
    log_path: Path
    output: list[str] = field(default_factory=list)
    _reader: threading.Thread | None = None

    @classmethod
    def start(
        cls,
        data_dir: Path,
        port: int,
        *args: str,
        log_path: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> DevStack:
        """Start it (with ``env`` added to its environment) and return once it prints its URL; raise
        ``StackDidNotStart`` with its output."""
        process = subprocess.Popen(
            [espaluz_command(), "dev", "--port", str(port), *args],
            cwd=REPO,
            env={**stack_env(data_dir), **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        log = log_path or data_dir.parent / f"espaluz-dev-{port}.log"
        stack = cls(f"http://127.0.0.1:{port}", data_dir, process, log)
        ready = threading.Event()

        def pump() -> None:
            assert process.stdout is not None
            with log.open("a", encoding="utf-8") as out:
                for line in process.stdout:
                    stack.output.append(line)
                    out.write(line)
                    out.flush()
                    if stack.url in line:
                        ready.set()

        stack._reader = threading.Thread(target=pump, name="espaluz-dev-output", daemon=True)
        stack._reader.start()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not ready.wait(0.2):
            if process.poll() is not None or time.monotonic() > deadline:
                stack.stop()
                raise StackDidNotStart(f"`espaluz dev` did not serve {stack.url}; output:\n{stack.log()}")
        return stack

    def log(self) -> str:
        return "".join(self.output)

    def stop(self, sig: int = signal.SIGINT, *, keep_services: bool = False) -> None:
        """Stop with ``sig`` (SIGKILL simulates a crash); then, unless ``keep_services``, end what the
        stack left running."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_GRACE_S)
        if not keep_services:
            # start_new_session=True: the stack leads its own process group.
            end_left_behind(self.data_dir, pgid=self.process.pid)
        if self._reader is not None:
            self._reader.join(timeout=5)
