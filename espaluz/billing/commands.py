"""``espaluz billing report``: offers made, their answers and conversions, and the conversion rate.

Reads ``DATABASE_URL``, or the local stack's embedded database (as ``espaluz learner show`` does)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import click


@click.group()
def billing() -> None:
    """Billing: plans, offers and conversions."""


@billing.command("report")
@click.option("--days", default=30, show_default=True, help="Offers made in the last N days.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def report(days: int, as_json: bool) -> None:
    """Conversion of in-chat offers, overall and per engagement moment."""
    import psycopg

    from espaluz.billing.offers import report as offers_report
    from espaluz.storage.commands import _database_url
    from espaluz.storage.postgres import migrate

    since = datetime.now(UTC) - timedelta(days=days)
    with _database_url() as url:
        migrate(url)
        with psycopg.connect(url) as conn:
            data = offers_report(conn, since)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    click.echo(f"Offers since {since:%Y-%m-%d}: {data['offers']}")
    click.echo(
        f"  accepted {data['accepted']}, declined {data['declined']}, converted {data['converted']} "
        f"({data['conversion_rate']:.1%})"
    )
    for moment, row in data["by_moment"].items():
        click.echo(
            f"  {moment:16} {row['offers']:5} offers  {row['converted']:4} converted  "
            f"{row['conversion_rate']:.1%}"
        )


@billing.command("followups")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per follow-up.")
def followups(as_json: bool) -> None:
    """List the next-day follow-ups that are due and the channel each may use (dry run: nothing is sent;
    the scheduler's pass, ``espaluz tick``, sends them)."""
    import psycopg

    from espaluz.billing.offers import due_followups
    from espaluz.config import get_settings
    from espaluz.storage.commands import _database_url
    from espaluz.storage.postgres import migrate

    with _database_url() as url:
        migrate(url)
        with psycopg.connect(url) as conn:
            due = due_followups(conn, get_settings().billing_followup_template)
    for f in due:
        row = {
            "offer_id": str(f.offer_id),
            "learner_id": str(f.learner_id),
            "channel": f.channel,
            "template": f.template,
        }
        click.echo(json.dumps(row) if as_json else f"{f.learner_id}  {f.channel:8}  {f.template or ''}")
