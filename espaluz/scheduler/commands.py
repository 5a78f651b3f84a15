"""``espaluz tick [--at ISO8601]``: one scheduler pass as if the clock said ``--at``.

With ``DATABASE_URL`` and ``QUEUE_URL`` set (an operator pointing at a deployment, or a script with its own
services), the pass runs here and puts its messages on that queue; the tutor sends them. Otherwise it asks
the running local stack (``espaluz dev``, at ``--url``) to run it (``POST /dev/tick``), so the messages
appear in the simulator and in ``GET /dev/outbox`` once its worker sent them. It prints the pass's figures:
``{"at", "selected", "queued", "by_kind", "timezones_filled"}``.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime

import click


def _parse_at(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(
            "expected an ISO 8601 time, e.g. 2026-12-05T01:00:00Z", param_hint="--at"
        ) from exc
    return at if at.tzinfo else at.replace(tzinfo=UTC)


@click.command()
@click.option(
    "--at", "at_text", default=None, help="The pass's clock, ISO 8601 (default: now; no zone: UTC)."
)
@click.option("--url", default="http://127.0.0.1:8765", show_default=True, help="The local stack to ask.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
def tick(at_text: str | None, url: str, as_json: bool) -> None:
    """Run one scheduler pass: reviews, reminders, follow-ups and re-engagement that are due."""
    at = _parse_at(at_text)
    if os.environ.get("DATABASE_URL") and os.environ.get("QUEUE_URL"):
        from espaluz.config import get_settings
        from espaluz.scheduler.tick import tick_from_settings

        result = tick_from_settings(get_settings(), at).to_json()
    else:
        import httpx

        try:
            answer = httpx.post(f"{url.rstrip('/')}/dev/tick", json={"at": at.isoformat()}, timeout=60)
            answer.raise_for_status()
        except httpx.HTTPError:
            click.echo(
                f"espaluz tick: no local stack answers at {url}; start one with `espaluz dev`, or set "
                "DATABASE_URL and QUEUE_URL to run the pass against those services",
                err=True,
            )
            sys.exit(1)
        result = answer.json()
    if as_json:
        click.echo(json.dumps(result))
        return
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(result.get("by_kind", {}).items())) or "nothing due"
    click.echo(f"{result['at']}: {result['queued']} queued ({kinds})")
