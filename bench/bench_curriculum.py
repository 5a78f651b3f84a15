"""Benchmark of the course (run: ``.venv/bin/python bench/bench_curriculum.py``).

Prints the course's size (units, grammar points, words, exercises by level and type), p50/p95/p99 of
generating an exercise and of checking an answer (right, accent slip, wrong) against a baseline measured
in the same run (``espaluz.text.fold`` of the same answer: the cheapest thing a turn does to a message),
the bytes the data add to the Lambda bundle, and the cold import + load of the syllabus in a fresh
subprocess next to importing the Spanish engine alone.

Target (issue 16): generation and checking p95 under 1 ms, so an exercise costs nothing next to a turn.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from espaluz.curriculum import answers  # noqa: E402
from espaluz.curriculum.exercises import TYPES, available, make  # noqa: E402
from espaluz.curriculum.syllabus import load  # noqa: E402
from espaluz.spanish import lexicon  # noqa: E402
from espaluz.text import fold  # noqa: E402

N = 3000


def pct(samples: list[float]) -> tuple[float, float, float]:
    qs = statistics.quantiles(samples, n=100, method="inclusive")
    return qs[49], qs[94], qs[98]


def timed(fn: Callable[..., object], args: Sequence[tuple[Any, ...]]) -> list[float]:
    out = []
    for a in args:
        t0 = time.perf_counter_ns()
        fn(*a)
        out.append((time.perf_counter_ns() - t0) / 1000)
    return out


def cold(code: str) -> float:
    runs = []
    for _ in range(5):
        script = f"import time\nt = time.perf_counter()\n{code}\nprint(time.perf_counter() - t)"
        out = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
        )
        runs.append(float(out.stdout.strip()) * 1000)
    return statistics.median(runs)


def main() -> None:
    syl = load()
    by_level: dict[str, Counter[str]] = {lv: Counter() for lv in lexicon.LEVELS}
    for unit in syl.units:
        by_level[unit.level].update(available(syl, unit))
    points = Counter(p.level for p in syl.points.values())
    words = Counter(e.level for e in lexicon.entries())
    print(f"{'level':6}{'units':>6}{'points':>7}{'words':>7}  " + " ".join(f"{t:>11}" for t in TYPES))
    for lv in lexicon.LEVELS:
        row = " ".join(f"{by_level[lv][t]:>11}" for t in TYPES)
        print(f"{lv:6}{len(syl.of_level(lv)):>6}{points[lv]:>7}{words[lv]:>7}  {row}")

    rng = random.Random(7)
    units = [rng.choice(syl.units) for _ in range(N)]
    jobs = [(syl, u, rng.choice([t for t, n in available(syl, u).items() if n]), rng) for u in units]
    generated = timed(make, jobs)
    exercises = [make(syl, u, t, rng) for _, u, t, _ in jobs[:N]]
    right = [(ex, ex.accepted[0]) for ex in exercises]
    slips = [(ex, fold(ex.accepted[0])) for ex in exercises]
    wrong = [(ex, "mi casa es roja") for ex in exercises]
    figures = {
        "generate": pct(generated),
        "check_right": pct(timed(answers.check, right)),
        "check_slip": pct(timed(answers.check, slips)),
        "check_wrong": pct(timed(answers.check, wrong)),
        "baseline_fold": pct(timed(fold, [(ex.accepted[0],) for ex in exercises])),
    }
    base = figures["baseline_fold"][1]
    print(f"\n{'µs':14}{'p50':>9}{'p95':>9}{'p99':>9}{'p95/baseline':>14}")
    for name, (p50, p95, p99) in figures.items():
        print(f"{name:14}{p50:9.1f}{p95:9.1f}{p99:9.1f}{p95 / base:14.1f}")

    data = [
        *(ROOT / "espaluz/curriculum/data").glob("*.json"),
        *(ROOT / "espaluz/spanish/data/lexicon").glob("*.tsv"),
    ]
    size = sum(p.stat().st_size for p in data)
    load_ms = cold("from espaluz.curriculum import answers, exercises, syllabus; syllabus.load()")
    engine_ms = cold("import espaluz.spanish.corrections")
    print(f"\ndata bytes in the bundle: {size:,} ({len(data)} files)")
    print(f"cold import + load: {load_ms:.0f} ms (the engine's import alone: {engine_ms:.0f} ms)")
    print(json.dumps({
        "exercises_by_level": {lv: dict(c) for lv, c in by_level.items()},
        "us": {k: [round(x, 1) for x in v] for k, v in figures.items()},
        "data_bytes": size, "cold_load_ms": round(load_ms), "cold_engine_ms": round(engine_ms),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
