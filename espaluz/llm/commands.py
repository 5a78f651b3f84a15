"""``espaluz costs``: LLM cost per learner per month, from the stored usage and ``LLM_PRICES``.

Uses ``DATABASE_URL`` when set, else the local stack's embedded database (like ``espaluz learner``).

``espaluz costs --simulate``: the whole cost per learner per month by line (each LLM model, voice, Polly,
Lambda, SQS, API Gateway, Aurora and ElastiCache shares, WhatsApp by country), measured by running
simulated learners through the real handlers on embedded servers (``espaluz.dev.costsim``). With
``--json`` it prints one JSON object; ``--learners``, ``--days`` and ``--seed`` size and seed it.
"""

from __future__ import annotations

import json

import click


@click.command()
@click.option("--month", default=None, help="Only this month, YYYY-MM (UTC).")
@click.option("--learner", "learner_id", default=None, help="Only this learner (uuid).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per learner and month, one per line.")
@click.option("--simulate", is_flag=True, help="Simulate learners through the real code; all cost lines.")
@click.option("--learners", default=10, show_default=True, type=click.IntRange(1, 1000), help="Simulated.")
@click.option("--days", default=2, show_default=True, type=click.IntRange(1, 60), help="Simulated days.")
@click.option("--seed", default=7, show_default=True, type=int, help="The simulation's random seed.")
def costs(
    month: str | None,
    learner_id: str | None,
    as_json: bool,
    simulate: bool,
    learners: int,
    days: int,
    seed: int,
) -> None:
    """LLM cost per learner per month (USD), with tokens in/out and calls by model; with --simulate,
    every cost line per learner per month from a simulation of the original design's usage."""
    if simulate:
        from espaluz.dev.costsim import render_table
        from espaluz.dev.costsim import simulate as run_simulation

        report = run_simulation(learners, days, seed)
        click.echo(json.dumps(report, ensure_ascii=False) if as_json else render_table(report))
        return
    import psycopg

    from espaluz.config import get_settings
    from espaluz.llm.usage import monthly_costs
    from espaluz.storage.commands import _database_url
    from espaluz.storage.postgres import migrate

    if month is not None and not (len(month) == 7 and month[4] == "-" and month.replace("-", "").isdigit()):
        raise click.BadParameter("expected YYYY-MM", param_hint="--month")
    prices = get_settings().llm_prices
    with _database_url() as url:
        migrate(url)
        with psycopg.connect(url) as conn:
            rows = monthly_costs(conn, prices, month, learner_id)
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    if not rows:
        click.echo("no LLM usage recorded")
        return
    click.echo(
        f"{'month':8} {'learner':36} {'turns':>6} {'calls':>6} {'tokens in':>10} {'out':>8} {'USD':>10}"
    )
    total = 0.0
    for row in rows:
        total += row["cost_usd"]
        flag = " *" if row["unpriced_models"] else ""
        click.echo(
            f"{row['month']:8} {row['learner_id']:36} {row['turns']:>6} {row['calls']:>6} "
            f"{row['tokens_in']:>10} {row['tokens_out']:>8} {row['cost_usd']:>10.4f}{flag}"
        )
    click.echo(f"total {total:.4f} USD")
    if any(row["unpriced_models"] for row in rows):
        click.echo("* some models have no price in LLM_PRICES and count as 0")
