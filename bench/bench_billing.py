"""Billing webhook latency on a real PostgreSQL (pgserver), with the Stripe API served locally.

What is timed: ``StripeWebhookService.receive`` called in-process with events signed as Stripe signs them
(verify, record the event id, re-read the subscription from the API, upsert subscription + entitlement +
learner row, commit). Two variants: with the subscription re-read going over HTTP to the local Stripe
server (``espaluz.dev.checkout``, as in the local stack), and with an in-process payments stand-in (the
database cost alone). Repeats (duplicate event ids) are timed too: they must stay cheap.

Baselines in the same run: signature verification alone, a bare ``INSERT ... ON CONFLICT`` of an event row
in its own transaction, and the SDK's subscription retrieve alone (the local server runs in this process,
so its share of the HTTP figure is CPU this process also pays). Figures are ratios to the bare INSERT.

    .venv/bin/python -m bench.bench_billing          # default: 600 events per variant
    .venv/bin/python -m bench.bench_billing --full   # 5000 events per variant
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

SECRET = "whsec_bench"  # noqa: S105 - fake, for the bench only


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {"p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99), "mean": statistics.fmean(ordered) * 1000}


def line(name: str, samples: list[float], base_p50: float) -> None:
    p = percentiles(samples)
    total = sum(samples)
    print(
        f"{name:46} p50 {p['p50']:7.3f} ms  p95 {p['p95']:7.3f}  p99 {p['p99']:7.3f}  "
        f"{len(samples) / total:8.0f}/s  x{p['p50'] / base_p50:5.1f} bare INSERT"
    )


class InProcessPayments:
    """Answers subscription reads from a dict: the handler's database cost without HTTP."""

    def __init__(self, subs: dict[str, dict[str, Any]]) -> None:
        self.subs = subs

    def retrieve_subscription(self, subscription_id: str) -> dict[str, Any]:
        return self.subs[subscription_id]

    def create_checkout(self, **kwargs: Any) -> Any:
        raise NotImplementedError

    def create_portal(self, customer_id: str, return_url: str) -> str:
        return "https://example.invalid/portal"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="5000 events per variant instead of 600")
    args = parser.parse_args()
    n = 5000 if args.full else 600

    import pgserver
    import psycopg
    import uvicorn
    from fastapi import FastAPI

    from espaluz.billing.events import StripeWebhookService
    from espaluz.billing.plans import Catalog
    from espaluz.billing.stripe_client import StripePayments
    from espaluz.config import Settings
    from espaluz.dev.checkout import StripeEmulator, sign, stripe_router
    from espaluz.httpapi import Request
    from espaluz.storage.postgres import close_pools, get_pool, migrate

    tracemalloc.start()
    tmp = Path(tempfile.mkdtemp(prefix="espaluz-bench-billing-"))
    server = pgserver.get_server(tmp / "pg", cleanup_mode="delete")
    url = server.get_uri()
    migrate(url)
    pool = get_pool(url)

    # The local Stripe API on loopback.
    app = FastAPI()
    port_holder: dict[str, int] = {}
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port_holder["port"] = s.getsockname()[1]
    base = f"http://127.0.0.1:{port_holder['port']}"
    emulator = StripeEmulator(base, f"{base}/webhooks/stripe", SECRET)
    app.include_router(stripe_router(emulator))
    web = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port_holder["port"], log_level="warning"))
    threading.Thread(target=web.run, daemon=True).start()
    while not web.started:
        time.sleep(0.02)

    catalog = Catalog.from_settings(Settings())
    with psycopg.connect(url) as conn:
        learner_ids = [
            conn.execute("INSERT INTO learners (bsuid) VALUES (%s) RETURNING id", (f"US.{i}",)).fetchone()[0]  # type: ignore[index]
            for i in range(200)
        ]

    def events(count: int) -> list[tuple[bytes, str, str]]:
        """Signed subscription.updated events, each about one of 200 subscriptions."""
        out = []
        for i in range(count):
            learner = str(learner_ids[i % len(learner_ids)])
            sub_key = f"sub_bench_{i % len(learner_ids)}"
            if sub_key not in emulator.subscriptions:
                sub = emulator.new_subscription(f"cus_bench_{i % 200}", "price_x", {"learner_id": learner})
                emulator.subscriptions[sub_key] = {**sub, "id": sub_key}
            event = emulator.event("customer.subscription.updated", emulator.snapshot(sub_key))
            payload = json.dumps(event)
            out.append((payload.encode(), sign(payload, SECRET), event["id"]))
        return out

    def request(body: bytes, header: str) -> Request:
        return Request("POST", "/webhooks/stripe", {"stripe-signature": header}, {}, body)

    def run(service: StripeWebhookService, batch: list[tuple[bytes, str, str]]) -> list[float]:
        samples = []
        for body, header, _ in batch:
            started = time.perf_counter()
            response = service.receive(request(body, header))
            samples.append(time.perf_counter() - started)
            assert response.status == 200, response.body
        return samples

    # Baselines.
    import stripe

    batch = events(n)
    verify = []
    for body, header, _ in batch:
        started = time.perf_counter()
        stripe.WebhookSignature.verify_header(body.decode(), header, SECRET, tolerance=300)  # type: ignore[no-untyped-call]
        verify.append(time.perf_counter() - started)
    bare = []
    with pool.connection() as conn:
        for _ in range(n):
            started = time.perf_counter()
            with conn.transaction():
                conn.execute(
                    "INSERT INTO stripe_events (id, type, created_at) VALUES (%s, 'bench', now()) "
                    "ON CONFLICT DO NOTHING",
                    ("evt_bare_" + uuid.uuid4().hex,),
                )
            bare.append(time.perf_counter() - started)
    base_p50 = percentiles(bare)["p50"]

    http_service = StripeWebhookService(
        SECRET, pool, StripePayments("sk_test_bench", f"{base}/stripe"), catalog
    )
    local_subs = {k: v for k, v in emulator.subscriptions.items()}
    db_service = StripeWebhookService(SECRET, pool, InProcessPayments(local_subs), catalog)

    run(http_service, events(50))  # warm-up (connections, imports)
    sdk = StripePayments("sk_test_bench", f"{base}/stripe")
    sdk_only = []
    for i in range(n):
        started = time.perf_counter()
        sdk.retrieve_subscription(f"sub_bench_{i % len(learner_ids)}")
        sdk_only.append(time.perf_counter() - started)
    full = run(http_service, batch)
    db_only = run(db_service, events(n))
    repeats = run(db_service, batch)  # every id already recorded

    print(
        f"billing webhook latency, {n} events per variant, real PostgreSQL (pgserver), Stripe API on loopback"
    )
    line("baseline: signature verification only", verify, base_p50)
    line("baseline: bare INSERT event row + commit", bare, base_p50)
    line("stripe SDK subscription retrieve alone (HTTP)", sdk_only, base_p50)
    line("webhook, API re-read over HTTP (local Stripe)", full, base_p50)
    line("webhook, in-process API stand-in (DB only)", db_only, base_p50)
    line("webhook, repeated event (duplicate)", repeats, base_p50)
    current, peak = tracemalloc.get_traced_memory()
    print(f"python memory: current {current / 1e6:.1f} MB, peak {peak / 1e6:.1f} MB (tracemalloc)")

    web.should_exit = True
    close_pools()
    server.cleanup()


if __name__ == "__main__":
    main()
