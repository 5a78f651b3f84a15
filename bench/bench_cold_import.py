"""Cold import time of each Lambda handler module, in fresh interpreters (``python -X importtime``).

Prints p50/p95 over repeated fresh processes, the ratio to a bare interpreter start measured in the
same run (the baseline), and the heaviest top-level imports of each handler. Not a pass/fail test.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import time

MODULES = ["functions.webhook.handler", "functions.tutor.handler", "functions.billing.handler"]
RUNS = 7


def wall_ms(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return (time.perf_counter() - started) * 1000


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def heaviest(module: str, top: int = 6) -> list[tuple[str, float]]:
    """The packages that cost the most, by their largest cumulative import time."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        check=True,
        capture_output=True,
        text=True,
    ).stderr
    cost: dict[str, float] = {}
    for line in out.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s*(\S+)", line)
        if m:
            package = m.group(2).split(".")[0]
            cost[package] = max(cost.get(package, 0.0), int(m.group(1)) / 1000)
    skip = {"functions", "site", "encodings"}
    return sorted(((k, v) for k, v in cost.items() if k not in skip), key=lambda r: -r[1])[:top]


def main() -> None:
    baseline = [wall_ms("pass") for _ in range(RUNS)]
    base_p50 = statistics.median(baseline)
    print(f"baseline: bare interpreter p50 {base_p50:.1f} ms p95 {pct(baseline, 0.95):.1f} ms ({RUNS} runs)")
    for module in MODULES:
        wall_ms(f"import {module}")  # warm the OS file cache; Lambda's cold start reads from a warm disk too
        samples = [wall_ms(f"import {module}") for _ in range(RUNS)]
        p50 = statistics.median(samples)
        own = p50 - base_p50
        print(
            f"{module}: p50 {p50:.1f} ms p95 {pct(samples, 0.95):.1f} ms; import alone ~{own:.0f} ms; "
            f"ratio to baseline {p50 / base_p50:.1f}x"
        )
        for name, ms in heaviest(module):
            print(f"    {name:45s} {ms:7.1f} ms cumulative")


if __name__ == "__main__":
    main()
