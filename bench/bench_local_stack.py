"""First-reply latency on the local stack while one learner floods it (issue 13): ``--learners`` learners
write once each while one learner has just sent ``--burst`` messages, every reply paced by Meta's pair
rate (one message per learner per ``--interval`` s; 6 s is the real one). Same stack, same run, two
queue workers:

- old: the worker before issue 13: one invocation at a time, batches of 10 from the queue's plain
  receive (one learner's backlog fills a batch), no deadline enforced;
- new: the local stack's worker: ``LOCAL_TUTOR_CONCURRENCY`` invocations at once (default 10), one
  message per batch, the tutor's 60 s timeout.

A learner's first-reply latency runs from just before their message is posted to the simulator (the
signed webhook, the queue, the real tutor handler) to the emulator's timestamp of their first reply.
Printed: p50, p95 and max over the learners, the burst learner's last reply, and old/new ratios.

    .venv/bin/python bench/bench_local_stack.py [--learners 50] [--burst 20] [--interval 6]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Outbox:
    """What the Graph API emulator received, read incrementally."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.after = 0
        self.items: list[dict[str, Any]] = []

    def poll(self) -> None:
        fresh = self.client.get("/dev/outbox", params={"after": self.after}).json()
        if fresh:
            self.after = fresh[-1]["seq"]
            self.items += [i for i in fresh if i["kind"] == "message"]

    def replies_to(self, wa_id: str) -> list[float]:
        return [datetime.fromisoformat(i["at"]).timestamp() for i in self.items if i["to"] == wa_id]


def say(client: Any, wa_id: str, text: str) -> float:
    started = time.time()
    sent = client.post(
        "/dev/simulator/messages", json={"wa_id": wa_id, "name": "Ana", "type": "text", "text": text}
    )
    if sent.json().get("webhook_status") != 200:
        raise RuntimeError(f"the webhook refused a message: {sent.text}")
    return started


def run(stack: Any, worker: Any, client: Any, prefix: str, learners: int, burst: int) -> dict[str, Any]:
    outbox = Outbox(client)
    worker.start()
    try:
        warm = f"{prefix}9999"  # the first turn of a process builds the tutor; keep it out of the figures
        say(client, warm, "hola")
        while not outbox.replies_to(warm):
            time.sleep(0.2)
            outbox.poll()
        flooder = f"{prefix}0000"
        burst_sent = [say(client, flooder, f"hola {n}") for n in range(burst)]
        others = {
            f"{prefix}{i + 1:04d}": say(client, f"{prefix}{i + 1:04d}", "hola") for i in range(learners)
        }
        while True:
            outbox.poll()
            if all(outbox.replies_to(w) for w in others) and len(outbox.replies_to(flooder)) >= burst:
                break
            time.sleep(0.2)
    finally:
        worker.stop()
    first = [outbox.replies_to(w)[0] - sent for w, sent in others.items()]
    return {"first": first, "burst_last": max(outbox.replies_to(flooder)) - burst_sent[0]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=50)
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument("--interval", type=float, default=6.0, help="seconds between replies to one learner")
    args = parser.parse_args()
    os.environ["WHATSAPP_LEARNER_INTERVAL_SECONDS"] = str(args.interval)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")  # the figures, not every turn's log line
    for name in ("DATABASE_URL", "REDIS_URL", "QUEUE_URL"):
        os.environ.pop(name, None)

    import httpx

    from espaluz.config import get_settings
    from espaluz.dev.stack import LocalStack
    from espaluz.dev.worker import QueueWorker
    from espaluz.queue.local import LocalFifoQueue
    from espaluz.storage.redis import get_redis
    from tests.conftest import free_port

    with tempfile.TemporaryDirectory(prefix="bench-local-stack-") as tmp:
        stack = LocalStack(Path(tmp) / "data", port=free_port(), run_worker=False)
        stack.serve_in_thread(timeout=120)
        try:
            from functions.tutor import handler as tutor

            settings = get_settings()
            redis_client = get_redis(settings.redis_url, cluster=settings.redis_cluster)
            # Before issue 13: receive(10) on one thread, the LambdaContext's 60 s never enforced.
            old = QueueWorker(LocalFifoQueue(redis_client, "inbound"), tutor.handler, 10, timeout_s=3600)
            new = QueueWorker.for_local_stack(redis_client, tutor.handler, settings)
            with httpx.Client(base_url=stack.url, timeout=60) as client:
                results = {
                    "old": run(stack, old, client, "1555100", args.learners, args.burst),
                    "new": run(stack, new, client, "1555200", args.learners, args.burst),
                }
        finally:
            stack.stop()

    print(
        f"{args.learners} learners write once while one learner has sent {args.burst} messages; "
        f"pacing {args.interval:g} s per learner; new = concurrency {settings.local_tutor_concurrency}, "
        "one message per batch"
    )
    print(f"{'worker':<8}{'first reply p50':>17}{'p95':>9}{'max':>9}{'burst last reply':>19}")
    for mode, r in results.items():
        first = r["first"]
        p50, p95 = statistics.median(first), pct(first, 0.95)
        print(f"{mode:<8}{p50:>15.2f} s{p95:>7.2f} s{max(first):>7.2f} s{r['burst_last']:>17.2f} s")
    old_first, new_first = results["old"]["first"], results["new"]["first"]
    print(
        f"ratio old/new: p50 {statistics.median(old_first) / statistics.median(new_first):.1f}x, "
        f"p95 {pct(old_first, 0.95) / pct(new_first, 0.95):.1f}x"
    )


if __name__ == "__main__":
    main()
