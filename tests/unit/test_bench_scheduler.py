"""``bench/bench_scheduler.py`` at a tiny size, so the bench keeps running as the scheduler changes.

On the real migrated PostgreSQL and Redis (single or cluster) of the fixtures: the generated mix loads
(duplicates would break COPY on the unique phone numbers and card keys), every figure the report prints
is there, the selection without indexes chooses exactly what the indexed one chose, and a pass repeated
at the same instant enqueues nothing (the claim keys hold). It checks the bench's wiring, not speed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bench.bench_scheduler import INSTANTS, report, run

if TYPE_CHECKING:
    from espaluz.storage.redis import RedisClient


def test_bench_runs_at_tiny_size(database_url: str, redis_client: RedisClient) -> None:
    figures = run(database_url, redis_client, 300, reps=2, now=datetime.now(UTC))

    assert figures["rows"]["learners"] == 300
    assert figures["rows"]["skill_cards"] > 300 * 3
    assert figures["rows"]["proactive_messages"] > 0
    selection = figures["selection"]
    assert selection["samples"] == INSTANTS * 2
    assert len(selection["instants"]) == INSTANTS
    assert sum(i["selected"] for i in selection["instants"]) > 0
    assert selection["read"]["rows_per_learner"] > 0
    assert figures["baseline"]["same_choices"] is True
    assert set(figures["plans"]) == {"followup", "review", "reminder", "reengage"}
    assert not any(p["indexes"] for p in figures["baseline_plans"].values())

    tick = figures["tick"]
    assert tick["queued"] > 0
    assert tick["depth"] == tick["queued"]
    assert tick["repeat_queued"] == 0
    assert figures["peak_rss_mb"]["end"] > 0
    report(figures)
