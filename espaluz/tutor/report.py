"""``espaluz report``: daily active learners, DAU/MAU, turns per learner and turn latency percentiles, and
what the tutor sent first.

Read from the ``turns`` table (one row per learner message; ``latency_ms`` is set when the turn was
answered; notices and proactive messages are turns too, left out of the learner figures) and
``proactive_messages`` (per kind: sent, skipped, and the share the learner answered within an hour),
with the day's opt-outs (STOP/BAJA). Days are UTC; MAU is the distinct learners of the 30 days ending
that day. Uses ``DATABASE_URL`` when set, else the local stack's embedded database.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import click

from espaluz.tutor.ledger import OWN_TURNS_SQL

if TYPE_CHECKING:
    import psycopg


def _bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return start, start + timedelta(days=1)


def _ms(value: float | None) -> int | None:
    return None if value is None else round(value)


def daily_report(conn: psycopg.Connection[Any], end: date, days: int) -> list[dict[str, Any]]:
    """One object per day, oldest first, ending with ``end``."""
    out = []
    for offset in range(days - 1, -1, -1):
        day = end - timedelta(days=offset)
        start, stop = _bounds(day)
        row = conn.execute(
            f"""SELECT count(*), count(DISTINCT learner_id),
                      percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms),
                      percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms),
                      percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms)
               FROM turns WHERE received_at >= %s AND received_at < %s AND {OWN_TURNS_SQL}""",  # noqa: S608
            (start, stop),
        ).fetchone()
        assert row is not None
        turns, dau, p50, p95, p99 = row
        mau_row = conn.execute(
            f"""SELECT count(DISTINCT learner_id) FROM turns
                WHERE received_at >= %s AND received_at < %s AND {OWN_TURNS_SQL}""",  # noqa: S608
            (stop - timedelta(days=30), stop),
        ).fetchone()
        mau = int(mau_row[0]) if mau_row else 0
        opt_outs = conn.execute(
            "SELECT count(*) FROM learners WHERE opted_out_at >= %s AND opted_out_at < %s", (start, stop)
        ).fetchone()
        routes = {
            route or "unknown": {"turns": n, "p50_ms": _ms(r50), "p95_ms": _ms(r95)}
            for route, n, r50, r95 in conn.execute(
                """SELECT route, count(*),
                          percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms),
                          percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms)
                   FROM turns WHERE received_at >= %s AND received_at < %s
                   GROUP BY route ORDER BY count(*) DESC""",
                (start, stop),
            ).fetchall()
        }
        out.append(
            {
                "date": day.isoformat(),
                "active_learners": dau,
                "mau": mau,
                "dau_mau": round(dau / mau, 4) if mau else None,
                "turns": turns,
                "turns_per_learner": round(turns / dau, 2) if dau else None,
                "latency_ms": {"p50": _ms(p50), "p95": _ms(p95), "p99": _ms(p99)},
                "routes": routes,
                "proactive": proactive_report(conn, start, stop),
                "opt_outs": int(opt_outs[0]) if opt_outs else 0,
            }
        )
    return out


def proactive_report(conn: psycopg.Connection[Any], start: datetime, stop: datetime) -> dict[str, Any]:
    """What the scheduler chose in ``[start, stop)``, per kind: sent, skipped, and how many of those sent
    the learner answered within an hour (their own message, ``OWN_TURNS_SQL``)."""
    rows = conn.execute(
        f"""SELECT p.kind, count(*) FILTER (WHERE p.status = 'sent'),
                   count(*) FILTER (WHERE p.status = 'skipped'),
                   count(*) FILTER (WHERE p.status = 'sent' AND EXISTS (
                       SELECT 1 FROM turns t WHERE t.learner_id = p.learner_id AND {OWN_TURNS_SQL}
                         AND t.received_at > p.sent_at AND t.received_at <= p.sent_at + interval '1 hour'))
            FROM proactive_messages p WHERE p.queued_at >= %s AND p.queued_at < %s
            GROUP BY p.kind ORDER BY p.kind""",  # noqa: S608
        (start, stop),
    ).fetchall()
    return {
        kind: {
            "sent": sent,
            "skipped": skipped,
            "replied_within_1h": replied,
            "reply_rate": round(replied / sent, 4) if sent else None,
        }
        for kind, sent, skipped, replied in rows
    }


@click.command()
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 366), help="How many days.")
@click.option("--date", "end", default=None, help="Last day, YYYY-MM-DD (UTC); default today.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per day, one per line.")
def report(days: int, end: str | None, as_json: bool) -> None:
    """Daily active learners, DAU/MAU, turns per learner and latency percentiles."""
    import psycopg

    from espaluz.storage.commands import _database_url
    from espaluz.storage.postgres import migrate

    try:
        last = date.fromisoformat(end) if end else datetime.now(UTC).date()
    except ValueError as exc:
        raise click.BadParameter("expected YYYY-MM-DD", param_hint="--date") from exc
    with _database_url() as url:
        migrate(url)
        with psycopg.connect(url) as conn:
            rows = daily_report(conn, last, days)
    if as_json:
        for row in rows:
            click.echo(json.dumps(row))
        return
    click.echo(
        f"{'date':10} {'DAU':>5} {'MAU':>5} {'DAU/MAU':>8} {'turns':>6} {'t/lrn':>6} "
        f"{'p50':>6} {'p95':>6} {'p99':>6}"
    )
    for row in rows:
        lat = row["latency_ms"]
        ratio = "-" if row["dau_mau"] is None else f"{row['dau_mau']:.2f}"
        per = "-" if row["turns_per_learner"] is None else f"{row['turns_per_learner']:.1f}"
        click.echo(
            f"{row['date']:10} {row['active_learners']:>5} {row['mau']:>5} {ratio:>8} "
            f"{row['turns']:>6} {per:>6} "
            f"{_fmt(lat['p50']):>6} {_fmt(lat['p95']):>6} {_fmt(lat['p99']):>6}"
        )
        sent = [
            f"{k} {v['sent']} ({v['replied_within_1h']} answered within 1 h)"
            for k, v in row["proactive"].items()
        ]
        if sent or row["opt_outs"]:
            click.echo(f"{'':10} sent first: {', '.join(sent) or 'none'}; opt-outs: {row['opt_outs']}")


def _fmt(value: int | None) -> str:
    return "-" if value is None else str(value)
