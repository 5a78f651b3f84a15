"""LLM usage per turn in Postgres, and its cost from the price table in the settings.

The tutor calls :func:`record_usage` with the turn's wamid and the ``Usage`` list an agent returned, in
the same transaction that writes the turn's plan (espaluz.tutor.ledger: a redelivered turn resumes that
plan and asks no provider again, so records nothing twice). Calls that finish after their turn go
through :func:`record_late_usage`, under their own learner and message, in a transaction of their own.
Prices are USD per million tokens by model (``LLM_PRICES``); a model missing from the table is reported
with a cost of ``None`` rather than guessed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from uuid import UUID

    import psycopg
    from psycopg_pool import ConnectionPool

    from espaluz.llm.types import Usage
    from espaluz.tutor.agents.brain import LateUsage

logger = logging.getLogger(__name__)

Prices = Mapping[str, Mapping[str, float]]


def _row(learner_id: UUID, wamid: str, u: Usage) -> tuple[Any, ...]:
    """One ``llm_usage`` row's values, in the column order both inserts below name."""
    return (
        learner_id,
        wamid,
        u.agent,
        u.provider,
        u.model,
        u.tokens_in,
        u.tokens_out,
        u.cache_read_tokens,
        u.cache_write_tokens,
        u.latency_ms,
        u.outcome,
    )


def record_usage(conn: psycopg.Connection[Any], learner_id: UUID, wamid: str, usages: Iterable[Usage]) -> int:
    """Insert one row per call; returns how many. The caller owns the transaction."""
    rows = [_row(learner_id, wamid, u) for u in usages]
    if not rows:
        return 0
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO llm_usage (learner_id, wamid, agent, provider, model, tokens_in, tokens_out,
                                      cache_read_tokens, cache_write_tokens, latency_ms, outcome)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            rows,
        )
    return len(rows)


def record_late_usage(pool: ConnectionPool, late: Iterable[LateUsage]) -> int:
    """Store usage of calls that finished after their own turn (``TutorBrain.take_late_usages``), each
    under its own learner and message, in a transaction of its own: whichever turn happens to take them
    must not fail for them. A learner erased meanwhile has no usage to keep (their rows went with them),
    so rows are inserted only for learners still there, and the insert cannot fail on the foreign key.
    Never raises: a failed write loses those cost figures, which the learner never sees, and is logged.
    Returns how many rows were stored."""
    rows = [_row(item.learner_id, item.wamid, item.usage) for item in late]
    if not rows:
        return 0
    try:
        with pool.connection() as conn, conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO llm_usage (learner_id, wamid, agent, provider, model, tokens_in, tokens_out,
                                          cache_read_tokens, cache_write_tokens, latency_ms, outcome)
                   SELECT v.* FROM (VALUES (%s::uuid, %s, %s, %s, %s, %s::integer, %s::integer,
                                            %s::integer, %s::integer, %s::integer, %s))
                        AS v (learner_id, wamid, agent, provider, model, tokens_in, tokens_out,
                              cache_read_tokens, cache_write_tokens, latency_ms, outcome)
                   -- FOR KEY SHARE: an erasure committing meanwhile waits for this insert, or this
                   -- insert sees the learner gone; either way no foreign-key error.
                   WHERE EXISTS (SELECT 1 FROM learners l WHERE l.id = v.learner_id FOR KEY SHARE)""",
                rows,
            )
            stored = cur.rowcount
    except Exception:
        logger.warning("late LLM usage not recorded", extra={"calls": len(rows)}, exc_info=True)
        return 0
    return max(stored, 0)


def cost_usd(
    prices: Prices, model: str, tokens_in: int, tokens_out: int, cache_read: int = 0, cache_write: int = 0
) -> float | None:
    """The cost of these tokens, or ``None`` when the model has no price. Cache reads and writes default
    to the input price when the table does not list them."""
    price = prices.get(model)
    if price is None:
        return None
    per_in = price.get("in", 0.0)
    total = (
        tokens_in * per_in
        + tokens_out * price.get("out", 0.0)
        + cache_read * price.get("cache_read", per_in)
        + cache_write * price.get("cache_write", per_in)
    )
    return total / 1_000_000


def monthly_costs(
    conn: psycopg.Connection[Any], prices: Prices, month: str | None = None, learner_id: str | None = None
) -> list[dict[str, Any]]:
    """Cost per learner per month (``YYYY-MM`` in UTC), newest month first, dearest learner first."""
    where: list[str] = []
    params: list[str] = []
    if month:
        where.append("to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM') = %s")
        params.append(month)
    if learner_id:
        where.append("learner_id = %s")
        params.append(learner_id)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows = conn.execute(
        f"""SELECT learner_id::text, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month, provider,
                   model, count(*), count(*) FILTER (WHERE outcome <> 'ok'), sum(tokens_in), sum(tokens_out),
                   sum(cache_read_tokens), sum(cache_write_tokens)
            FROM llm_usage {clause}
            GROUP BY 1, 2, 3, 4""",  # noqa: S608 (the clause is built from constants)
        params,
    ).fetchall()
    turns_by = {
        (learner, mon): turns
        for learner, mon, turns in conn.execute(
            f"""SELECT learner_id::text, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM'),
                       count(DISTINCT wamid)
                FROM llm_usage {clause} GROUP BY 1, 2""",  # noqa: S608
            params,
        ).fetchall()
    }
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for learner, mon, provider, model, calls, failed, t_in, t_out, c_read, c_write in rows:
        entry = out.setdefault(
            (learner, mon),
            {
                "learner_id": learner,
                "month": mon,
                "calls": 0,
                "failed_calls": 0,
                "turns": turns_by.get((learner, mon), 0),
                "tokens_in": 0,
                "tokens_out": 0,
                "cost_usd": 0.0,
                "unpriced_models": [],
                "by_model": {},
            },
        )
        cost = cost_usd(prices, model, t_in, t_out, c_read, c_write)
        entry["calls"] += calls
        entry["failed_calls"] += failed
        entry["tokens_in"] += t_in
        entry["tokens_out"] += t_out
        if cost is None:
            entry["unpriced_models"].append(model)
        else:
            entry["cost_usd"] += cost
        entry["by_model"][model] = {
            "provider": provider,
            "calls": calls,
            "tokens_in": t_in,
            "tokens_out": t_out,
            "cache_read_tokens": c_read,
            "cost_usd": None if cost is None else round(cost, 6),
        }
    result = list(out.values())
    for entry in result:
        entry["cost_usd"] = round(entry["cost_usd"], 6)
    result.sort(key=lambda e: (e["month"], e["cost_usd"]), reverse=True)
    return result
