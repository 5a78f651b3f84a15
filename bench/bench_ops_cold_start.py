"""What production wiring adds to a cold start: secrets loading and the first metric, in fresh
interpreters (no network: the Secrets Manager call itself is not timed, only imports and client setup).

Scenarios, each timed over repeated fresh processes (wall time of ``python -c``):

- baseline: a bare interpreter (``import json``);
- webhook: import the webhook handler (what every cold webhook pays today);
- webhook + SQS client: the boto3 client the webhook creates on its first POST (existing cost);
- webhook + SQS + secrets client: what ``ESPALUZ_SECRETS`` adds on top (espaluz.ops.secrets and a
  Secrets Manager client; boto3 itself is shared with the SQS client);
- tutor + first metric: the tutor handler plus one EMF line (Powertools EphemeralMetrics).

Prints p50/p95/p99 in ms and each scenario's ratio to the baseline, and the marginal cost of secrets.

    .venv/bin/python -m bench.bench_ops_cold_start          # 9 runs per scenario
    .venv/bin/python -m bench.bench_ops_cold_start --full   # 40 runs per scenario
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

SQS = "import boto3; boto3.client('sqs', region_name='us-east-1')"
SECRETS = "import espaluz.ops.secrets, boto3; boto3.client('secretsmanager', region_name='us-east-1')"
SCENARIOS = {
    "baseline": "import json",
    "webhook": "import functions.webhook.handler",
    "webhook + SQS client": f"import functions.webhook.handler; {SQS}",
    "webhook + SQS + secrets client": f"import functions.webhook.handler; {SQS}; {SECRETS}",
    "tutor + first metric": (
        "import functions.tutor.handler; from espaluz.ops import metrics; metrics.turn_latency(1.0)"
    ),
}


def wall_ms(code: str) -> float:
    env = dict(os.environ, ESPALUZ_METRICS="1")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, env=env)
    return (time.perf_counter() - started) * 1000


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="40 runs per scenario")
    runs = 40 if parser.parse_args().full else 9
    samples: dict[str, list[float]] = {name: [] for name in SCENARIOS}
    for _ in range(runs):  # interleaved, so machine load hits every scenario alike
        for name, code in SCENARIOS.items():
            samples[name].append(wall_ms(code))
    base = statistics.median(samples["baseline"])
    print(f"{'scenario':<34}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'x baseline':>12}")
    for name, values in samples.items():
        p50 = statistics.median(values)
        print(f"{name:<34}{p50:>9.1f}{pct(values, 0.95):>9.1f}{pct(values, 0.99):>9.1f}{p50 / base:>12.2f}")
    marginal = statistics.median(samples["webhook + SQS + secrets client"]) - statistics.median(
        samples["webhook + SQS client"]
    )
    print(
        f"secrets loading adds {marginal:.1f} ms (p50) to a cold webhook that already creates its SQS client"
    )


if __name__ == "__main__":
    main()
