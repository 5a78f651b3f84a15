"""Reply latency of learners who share batches with a learner whose provider hangs (issue 14, item 2).

One learner (the hung one) writes ``--hung-messages`` messages that go to the conversation partner
(Claude), which never answers: each of its turns ends at the LLM turn deadline with the fallback reply.
``--learners`` other learners write once each ("hola": answered by rules, no provider). Everything is
queued before the worker starts, interleaved (one hung message, then a few others), so batches mix them
as SQS FIFO batches do. Same stack, same run, same concurrency and timeout, two handlers:

- before: today's handler before this change, rebuilt here: Powertools' ``SqsFifoPartialProcessor``
  (skip_group_on_error) over the same record handler, no budget, batches of 10 (serverless.yml's old
  ``batchSize``);
- after: ``functions.tutor.handler.handler`` (the per-turn budget, ChangeMessageVisibility's local
  stand-in), batches of 3 (serverless.yml's ``batchSize``).

Time runs 4x faster than production (``--scale 0.25``): every deadline of the per-turn budget, the
learner interval and the tutor timeout are multiplied by it, so the arithmetic of the budget is kept.
A learner's latency runs from the worker's start (everything is already queued) to the emulator's
timestamp of the learner's reply. Printed: p50, p95, max over the other learners, the worker's timeouts,
and the before/after ratios.

    .venv/bin/python bench/bench_batch_budget.py [--learners 20] [--hung-messages 4] [--concurrency 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_local_stack import Outbox, pct, say

GIVE_UP_S = 300.0

# Production values of what the budget is made of (espaluz/config.py defaults), scaled by --scale.
SCALED = {
    "TUTOR_TIMEOUT_SECONDS": 60.0,
    "LLM_TURN_DEADLINE_SECONDS": 8.0,
    "VOICE_DEADLINE_SECONDS": 18.0,
    "VOICE_GROQ_TIMEOUT_SECONDS": 3.0,
    "VOICE_MODAL_TIMEOUT_SECONDS": 15.0,
    "WHATSAPP_GRAPH_TIMEOUT_SECONDS": 3.0,
    "WHATSAPP_SEND_MAX_WAIT_SECONDS": 12.0,
    "WHATSAPP_SEND_BACKOFF_SECONDS": 0.5,
    "WHATSAPP_LEARNER_INTERVAL_SECONDS": 6.0,
    "TURN_CLAIM_TIMEOUT_SECONDS": 90.0,
}


def baseline_handler() -> Any:
    """The tutor handler as it was: every record in sequence, whatever the clock says."""
    from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response

    from functions.tutor import handler as tutor

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        batch = SqsFifoPartialProcessor(skip_group_on_error=True)
        return dict(
            process_partial_response(
                event=event, record_handler=tutor.record_handler, processor=batch, context=context
            )
        )

    return handler


def settle(client: Any, outbox: Any, make_worker: Any, wa_id: str, replies: int) -> None:
    """Run a worker of its own until ``wa_id`` has ``replies`` replies (warm-up steps)."""
    worker = make_worker()
    worker.start()
    try:
        while len(outbox.replies_to(wa_id)) < replies:
            time.sleep(0.1)
            outbox.poll()
    finally:
        worker.stop()


def run(client: Any, make_worker: Any, prefix: str, learners: int, hung_messages: int) -> dict[str, Any]:
    outbox = Outbox(client)
    warm = f"{prefix}9999"  # the first turn of a process builds the tutor; keep it out of the figures
    say(client, warm, "hola")
    settle(client, outbox, make_worker, warm, 1)
    hung = f"{prefix}0000"
    say(client, hung, "hola")  # greeted first, so that its next messages go to the conversation partner
    settle(client, outbox, make_worker, hung, 1)
    others = [f"{prefix}{i + 1:04d}" for i in range(learners)]
    per_hung = max(1, learners // hung_messages)
    for n in range(hung_messages):  # queued before the worker runs: batches mix them
        say(client, hung, f"hoy estoy muy contento porque es viernes, número {n}")
        for learner in others[n * per_hung : (n + 1) * per_hung]:
            say(client, learner, "hola")
    for learner in others[hung_messages * per_hung :]:
        say(client, learner, "hola")
    worker = make_worker()
    started = time.time()
    worker.start()
    try:
        while True:
            outbox.poll()
            # The hung learner's messages may be answered together (a burst): wait for the queue instead.
            done = all(outbox.replies_to(w) for w in others)
            if done and worker.queue.depth() == 0 and worker.running() == 0:
                break
            if time.time() - started > GIVE_UP_S:
                missing = [w for w in others if not outbox.replies_to(w)]
                raise RuntimeError(
                    f"no reply after {GIVE_UP_S} s to {missing}; the hung learner got "
                    f"{len(outbox.replies_to(hung))}; queue depth {worker.queue.depth()}"
                )
            time.sleep(0.1)
    finally:
        worker.stop(timeout=120)
    latency = [outbox.replies_to(w)[0] - started for w in others]
    return {"latency": latency, "timed_out": worker.stats.timed_out, "invocations": worker.stats.invocations}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=20)
    parser.add_argument("--hung-messages", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--scale", type=float, default=0.25, help="time runs 1/scale times faster")
    args = parser.parse_args()
    for name, seconds in SCALED.items():
        os.environ[name] = str(seconds * args.scale)
    os.environ["TUTOR_ONBOARDING"] = "false"
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    for name in ("DATABASE_URL", "REDIS_URL", "QUEUE_URL"):
        os.environ.pop(name, None)

    import httpx

    from espaluz.config import get_settings
    from espaluz.dev.stack import LocalStack
    from espaluz.dev.worker import QueueWorker
    from espaluz.queue.local import LocalFifoQueue
    from espaluz.storage.redis import get_redis
    from espaluz.tutor.batch import turn_budget
    from tests.conftest import free_port
    from tests.providers import Latency, ProviderServers

    # The conversation partner never answers in time; the others' "hola" needs no provider.
    with ProviderServers(claude=Latency(first_token=3600.0)) as providers:
        os.environ.update(providers.env())
        get_settings.cache_clear()
        with tempfile.TemporaryDirectory(prefix="bench-batch-budget-") as tmp:
            stack = LocalStack(Path(tmp) / "data", port=free_port(), run_worker=False)
            stack.serve_in_thread(timeout=120)
            try:
                from functions.tutor import handler as tutor

                settings = get_settings()
                redis_client = get_redis(settings.redis_url, cluster=settings.redis_cluster)
                timeout = settings.tutor_timeout_seconds

                def worker(handler: Any, batch_size: int) -> Any:
                    def make() -> QueueWorker:
                        queue = LocalFifoQueue(
                            redis_client, "inbound", visibility_timeout_ms=int(timeout * 1500)
                        )
                        return QueueWorker(
                            queue, handler, batch_size, concurrency=args.concurrency, timeout_s=timeout
                        )

                    return make

                with httpx.Client(base_url=stack.url, timeout=60) as client:
                    results = {
                        "before": run(
                            client,
                            worker(baseline_handler(), 10),
                            "1555300",
                            args.learners,
                            args.hung_messages,
                        ),
                        "after": run(
                            client, worker(tutor.handler, 3), "1555400", args.learners, args.hung_messages
                        ),
                    }
            finally:
                stack.stop()

    budget = turn_budget(settings).total
    print(
        f"{args.learners} learners share batches with one learner whose {args.hung_messages} turns hang on "
        f"the LLM (deadline {settings.llm_turn_deadline_seconds:g} s); time x{args.scale:g}: timeout "
        f"{timeout:g} s, per-turn budget {budget:g} s, concurrency {args.concurrency}"
    )
    print(f"{'handler':<8}{'p50':>9}{'p95':>9}{'max':>9}{'timeouts':>10}{'invocations':>13}")
    for mode, r in results.items():
        lat = r["latency"]
        print(
            f"{mode:<8}{statistics.median(lat):>7.2f} s{pct(lat, 0.95):>7.2f} s{max(lat):>7.2f} s"
            f"{r['timed_out']:>10}{r['invocations']:>13}"
        )
    before, after = results["before"]["latency"], results["after"]["latency"]
    print(
        f"ratio before/after: p50 {statistics.median(before) / statistics.median(after):.1f}x, "
        f"p95 {pct(before, 0.95) / pct(after, 0.95):.1f}x (production seconds: times {1 / args.scale:g})"
    )


if __name__ == "__main__":
    main()
