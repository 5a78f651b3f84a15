"""Chat command latency on a real PostgreSQL (pgserver): the progress report (two queries, verb lookup,
PNG chart) against a heavy learner, the export, and the level command as the baseline, all measured in the
same run. Also the PNG encoder alone and the chart's size.

Default: one learner with 2,000 drill attempts and 400 turns over 30 days (about a minute on 2 cores).
``--full``: 20,000 attempts and 4,000 turns (a very heavy month; the report caps at 20,000 attempts).
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SKILLS = (
    "conjugation:indicative.present",
    "conjugation:indicative.preterite",
    "conjugation:indicative.imperfect",
    "conjugation:indicative.future",
    "present_irregular_yo",
    "por_para",
    "ser_estar",
)
FORMS = (("tener", "tengo"), ("ir", "fui"), ("hablar", "hablé"), ("ser", "era"), ("decir", "diré"))


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {"p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99), "mean": statistics.fmean(ordered) * 1000}


def measure(fn: Callable[[], Any], n: int) -> list[float]:
    fn()  # warm: caches, the verb index, prepared statements
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="20,000 attempts and 4,000 turns")
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    attempts, turns = (20_000, 4_000) if args.full else (2_000, 400)

    import pgserver

    from espaluz.storage import learners
    from espaluz.storage.postgres import close_pools, get_pool, migrate
    from espaluz.tutor.commands import CommandCenter
    from espaluz.tutor.commands import profile as profiles
    from espaluz.tutor.commands.chart import accuracy_chart
    from espaluz.tutor.state import ConversationState

    tmp = Path(tempfile.mkdtemp(prefix="espaluz-bench-commands-"))
    server = pgserver.get_server(tmp / "pg", cleanup_mode="delete")
    url = server.get_uri()
    migrate(url)
    pool = get_pool(url)
    rng = random.Random(1)
    now = datetime.now(UTC)
    with pool.connection() as conn:
        ana = learners.upsert(conn, learners.Identity(bsuid=None, wa_id="15550001234"), "1")
        profiles.mark_onboarded(conn, ana.id)
        with conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO drill_attempts
                       (learner_id, skill, prompt, expected, answer, verdict, created_at)
                   VALUES (%s, %s, %s, %s, %s, %s, %s)""",
                [
                    (
                        ana.id,
                        rng.choice(SKILLS),
                        f"¿Cómo se conjuga *{verb}*?",
                        form,
                        form,
                        rng.choice(("correct", "correct", "accent", "wrong")),
                        now - timedelta(seconds=rng.randrange(30 * 86400)),
                    )
                    for verb, form in (rng.choice(FORMS) for _ in range(attempts))
                ],
            )
            cur.executemany(
                """INSERT INTO turns (wamid, learner_id, status, received_at)
                   VALUES (%s, %s, 'answered', %s)""",
                [
                    (f"wamid.{uuid.uuid4().hex}", ana.id, now - timedelta(seconds=rng.randrange(30 * 86400)))
                    for _ in range(turns)
                ],
            )
        conn.execute("ANALYZE")
        ana = learners.get(conn, ana.id) or ana
    center = CommandCenter(pool, None, rng=rng)
    state = ConversationState()

    tracemalloc.start()
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("nivel (baseline: one list, no query)", lambda: center.handle(ana, "nivel", None, state)),
        ("progreso (queries + report + PNG)", lambda: center.handle(ana, "progreso", None, state)),
        ("exportar (every table)", lambda: center.handle(ana, "exportar", None, state)),
        ("PNG chart alone (6 bars)", lambda: accuracy_chart([0.9, 0.4, 0.7, 0.55, 1.0, 0.2])),
    ]
    print(
        f"chat commands, {args.runs} runs each; learner with {attempts} attempts and {turns} turns in 30 days"
    )
    base = None
    for name, fn in cases:
        samples = measure(fn, args.runs)
        p = percentiles(samples)
        base = base or p["p50"]
        print(
            f"{name:40} p50 {p['p50']:8.3f} ms  p95 {p['p95']:8.3f}  p99 {p['p99']:8.3f}  "
            f"{len(samples) / sum(samples):7.0f}/s  x{p['p50'] / base:6.1f} baseline"
        )
    _, peak = tracemalloc.get_traced_memory()
    png = accuracy_chart([0.9, 0.4, 0.7, 0.55, 1.0, 0.2])
    result = center.handle(ana, "exportar", None, state)
    document = result.export_document() if result else None
    print(f"chart PNG: {len(png)} bytes; export JSON: {len(document[0]) if document else 0} bytes")
    print(f"peak traced Python memory: {peak / 1e6:.1f} MB")
    close_pools()
    server.cleanup()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
