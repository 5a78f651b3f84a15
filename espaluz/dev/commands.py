"""``espaluz dev`` and ``espaluz chat``."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import click
import httpx

from espaluz.config import default_data_dir
from espaluz.dev.services import StartupError
from espaluz.dev.settings import DEFAULT_LEARNER


def _data_dir() -> Path:
    return Path(os.environ.get("ESPALUZ_DATA_DIR") or default_data_dir()).expanduser()


def _start_or_exit(stack: Any, command: str) -> None:
    """Start the stack and serve it in a thread, or print the one-line reason and exit 1."""
    try:
        stack.prepare()
        stack.serve_in_thread()
    except StartupError as exc:
        stack.stop()
        click.echo(f"espaluz {command}: {exc}", err=True)
        sys.exit(1)


def _stack(port: int, host: str, reset: bool) -> Any:
    from espaluz.dev.stack import LocalStack

    return LocalStack(
        _data_dir(),
        host,
        port,
        reset=reset,
        database_url=os.environ.get("DATABASE_URL", ""),
        redis_url=os.environ.get("REDIS_URL", ""),
    )


@click.command()
@click.option("--port", default=8765, show_default=True, help="HTTP port of the local stack.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--reset", is_flag=True, help="Wipe the local data (database, Redis, media) first.")
def dev(port: int, host: str, reset: bool) -> None:
    """Run the local stack: embedded Postgres+pgvector and Redis, the functions, the WhatsApp simulator."""
    started = time.monotonic()
    stack = _stack(port, host, reset)
    _start_or_exit(stack, "dev")
    # Printed only once the socket accepts connections: scripts wait for this line.
    click.echo(
        f"Espaluz is running at {stack.url}/ (WhatsApp simulator; ready in "
        f"{time.monotonic() - started:.1f} s; Ctrl-C stops; data in {stack.data_dir})"
    )
    sys.stdout.flush()
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if the parent shell ignored it
    signal.signal(signal.SIGTERM, lambda *_: stack.stop())
    try:
        stack.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
        click.echo("Espaluz stopped; data kept.")


@click.command()
@click.option("--url", default="", help="A running local stack; without it, one is started here.")
@click.option("--port", default=0, help="Port for the stack started here (0: any free port).")
@click.option("--wa-id", default=DEFAULT_LEARNER["wa_id"], show_default=True, help="The simulated learner.")
@click.option("--name", default=DEFAULT_LEARNER["name"], show_default=True)
def chat(url: str, port: int, wa_id: str, name: str) -> None:
    """Chat with the tutor in the terminal (the same path as the simulator page).

    Log lines (the stack's, when it runs here) go to a file, named once at the start, not between turns;
    the conversation is rendered by espaluz.dev.chat."""
    import shutil

    from espaluz.dev.chat import TerminalChat, log_path, terminal_reader
    from espaluz.dev.logfile import LogsToFile

    log = log_path(_data_dir())
    click.echo(f"Logs: {log}")
    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else 0
    with LogsToFile(log) as logs:
        stack = None
        try:
            if not url:
                import socket

                if not port:
                    with socket.socket() as s:
                        s.bind(("127.0.0.1", 0))
                        port = s.getsockname()[1]
                click.echo("Arrancando Espaluz… (Starting Espaluz…)")
                stack = _stack(port, "127.0.0.1", False)
                _start_or_exit(stack, "chat")
                logs.sweep()  # the functions' loggers exist now
                url = stack.url
            with httpx.Client(base_url=url, timeout=30) as client:
                try:
                    client.get("/dev/outbox").raise_for_status()
                except httpx.HTTPError:
                    click.echo(
                        f"espaluz chat: no local stack answers at {url}; start one with espaluz dev", err=True
                    )
                    sys.exit(1)
                TerminalChat(
                    client,
                    wa_id,
                    name,
                    read=terminal_reader(sys.stdin, click.echo),
                    write=click.echo,
                    color=color,
                    width=width,
                    on_poll=logs.sweep,
                ).run()
        finally:
            if stack is not None:
                stack.stop()
