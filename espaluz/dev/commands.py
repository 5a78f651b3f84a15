"""``espaluz dev`` and ``espaluz chat``."""

from __future__ import annotations

import json
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


def _render(item: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    body = item["body"]
    kind = body.get("type")
    if kind == "text":
        return body["text"]["body"], []
    if kind == "interactive":
        inter = body["interactive"]
        options: list[tuple[str, str]] = []
        if inter["type"] == "button":
            options = [(b["reply"]["id"], b["reply"]["title"]) for b in inter["action"]["buttons"]]
        elif inter["type"] == "list":
            options = [(r["id"], r["title"]) for s in inter["action"]["sections"] for r in s["rows"]]
        return inter["body"]["text"], options
    return f"[{kind}]", []


@click.command()
@click.option("--url", default="", help="A running local stack; without it, one is started here.")
@click.option("--port", default=0, help="Port for the stack started here (0: any free port).")
@click.option("--wa-id", default=DEFAULT_LEARNER["wa_id"], show_default=True, help="The simulated learner.")
@click.option("--name", default=DEFAULT_LEARNER["name"], show_default=True)
def chat(url: str, port: int, wa_id: str, name: str) -> None:
    """Chat with the tutor in the terminal (the same path as the simulator page)."""
    stack = None
    if not url:
        import socket

        if not port:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
        stack = _stack(port, "127.0.0.1", False)
        _start_or_exit(stack, "chat")
        url = stack.url
    client = httpx.Client(base_url=url, timeout=30)
    seen = max([i["seq"] for i in client.get("/dev/outbox").json()] or [0])
    options: list[tuple[str, str]] = []
    click.echo("Escribe en español (número = botón, Ctrl-D para salir).")
    try:
        while True:
            try:
                line = input("tú> ").strip()
            except EOFError:
                break
            if not line:
                continue
            spec: dict[str, Any] = {"wa_id": wa_id, "name": name, "type": "text", "text": line}
            if line.isdigit() and 0 < int(line) <= len(options):
                rid, title = options[int(line) - 1]
                spec = {"wa_id": wa_id, "name": name, "type": "button_reply", "id": rid, "title": title}
            sent = client.post("/dev/simulator/messages", json=spec).json()
            if sent.get("webhook_status") != 200:
                click.echo(f"(not delivered: {json.dumps(sent)})")
                continue
            deadline = time.monotonic() + 30
            got = False
            while time.monotonic() < deadline and not got:
                for item in client.get("/dev/outbox", params={"after": seen}).json():
                    seen = max(seen, item["seq"])
                    if item["kind"] != "message" or item["to"] != wa_id:
                        continue
                    text, options = _render(item)
                    click.echo(f"espaluz> {text}")
                    for i, (_, title) in enumerate(options, 1):
                        click.echo(f"   [{i}] {title}")
                    got = True
                time.sleep(0.1)
            if not got:
                click.echo("(no answer within 30 s)")
    finally:
        client.close()
        if stack is not None:
            stack.stop()
