"""The local stack's scheduler: ``POST /dev/tick`` (the simulator's "skip ahead") and the pass every minute.

Over HTTP against the in-process local stack (real Postgres and Redis, the real tutor behind the local
worker): a learner made due for their reminder at run time gets exactly one pass's message, which the
worker hands to the tutor and which reaches the chat (the Graph emulator's outbox) like any reply; the same
slot asked again queues nothing. Bad input: an ``at`` that is not a time, ``hours`` that are not a number or
beyond a year (400, nothing run). The minute loop: a pass that raises is retried next time and never stops
the loop. In Chromium against ``espaluz dev`` (a subprocess): the "+1 h" control posts ``{"hours": 1}`` to
``/dev/tick`` and shows the answer.
"""

from __future__ import annotations

import os
import re
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest
from playwright.sync_api import Page, expect

from espaluz.config import get_settings
from espaluz.dev.stack import LocalStack
from espaluz.dev.worker import SchedulerTicker
from espaluz.scheduler.tick import TickResult
from tests.conftest import CHROMIUM, free_port
from tests.functional.test_scheduler_lambda import waking_zone


@pytest.fixture
def stack(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[LocalStack]:
    """The local stack without its minute loop (the test asks for each pass)."""
    from functions.billing import handler as billing
    from functions.tutor import handler as tutor
    from functions.webhook import handler as webhook

    def reset() -> None:
        get_settings.cache_clear()
        webhook.service.cache_clear()
        billing.service.cache_clear()
        tutor.processor.cache_clear()

    saved = dict(os.environ)
    reset()
    local = LocalStack(
        tmp_path / "data",
        port=free_port(),
        database_url=database_url,
        redis_url=redis_url,
        run_scheduler=False,
    )
    local.serve_in_thread()
    try:
        yield local
    finally:
        local.stop()
        os.environ.clear()
        os.environ.update(saved)
        reset()


def due_learner(database_url: str, now: datetime) -> str:
    """A learner whose daily reminder is due at ``now``; returns their wa_id."""
    zone = waking_zone(now)  # the pass runs at ``now`` exactly (``at``): the minute does not matter
    hour = now.astimezone(ZoneInfo(zone)).hour
    wa_id = "52155" + str(uuid.uuid4().int)[:8]
    last = now - timedelta(days=2)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            """INSERT INTO learners (wa_id, learner_key, last_inbound_at, timezone, reminder_hour,
                                     reminders_consent, onboarded_at)
               VALUES (%s, %s, %s, %s, %s, true, %s)""",
            (wa_id, wa_id, last, zone, hour, last),
        )
    return wa_id


def messages_to(client: httpx.Client, wa_id: str) -> list[dict[str, Any]]:
    return [i for i in client.get("/dev/outbox").json() if i["kind"] == "message" and i["to"] == wa_id]


def test_dev_tick_queues_what_is_due_once_and_the_chat_receives_it(
    stack: LocalStack, database_url: str
) -> None:
    now = datetime.now(UTC)
    wa_id = due_learner(database_url, now)
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        answer = client.post("/dev/tick", json={"at": now.isoformat()})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["queued"] == 1, body
        assert body["by_kind"] == {"reminder": 1}
        assert datetime.fromisoformat(body["at"]) == now
        # The same slot again (a second click, the minute loop): nothing more.
        assert client.post("/dev/tick", json={"at": now.isoformat()}).json()["queued"] == 0

        deadline = time.monotonic() + 20
        while not messages_to(client, wa_id) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(messages_to(client, wa_id)) == 1, "the proactive message did not reach the chat"
        time.sleep(0.5)
        assert len(messages_to(client, wa_id)) == 1


def test_dev_tick_takes_hours_from_now_and_refuses_bad_input(stack: LocalStack) -> None:
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        before = datetime.now(UTC)
        body = client.post("/dev/tick", json={"hours": 24}).json()
        at = datetime.fromisoformat(body["at"])
        assert before + timedelta(hours=24) <= at <= datetime.now(UTC) + timedelta(hours=24)
        assert {"selected", "queued", "by_kind", "timezones_filled"} <= set(body)
        for bad in ({"at": "tomorrow"}, {"hours": "soon"}, {"hours": True}, {"hours": 24 * 400}, [1]):
            answer = client.post("/dev/tick", json=bad)
            assert answer.status_code == 400, bad
            assert "error" in answer.json()


def test_a_failing_pass_is_retried_next_time_and_never_stops_the_loop() -> None:
    passes: list[datetime | None] = []
    done = threading.Event()

    def flaky(at: datetime | None) -> TickResult:
        passes.append(at)
        if len(passes) == 1:
            raise ConnectionError("database restarting")
        if len(passes) >= 3:
            done.set()
        return TickResult(datetime.now(UTC))

    ticker = SchedulerTicker(flaky, interval_s=0.05)
    ticker.start()
    try:
        assert done.wait(5), passes
    finally:
        ticker.stop()
    assert ticker.failures == 1
    assert ticker.passes >= 2


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (scripts/system-deps.sh)")
def test_skip_ahead_posts_to_dev_tick_and_shows_the_answer(page: Page) -> None:
    page.get_by_test_id("settings-open").click()
    with page.expect_request(lambda r: r.url.endswith("/dev/tick") and r.method == "POST") as posted:
        page.get_by_test_id("skip-1h").click()
    assert posted.value.post_data_json == {"hours": 1}
    expect(page.get_by_test_id("skip-result")).to_have_text(
        # "<date>: nada pendiente para nadie." or "<date>: N mensaje(s) en camino (...)."
        re.compile(r"\d.*: (nada pendiente para nadie|\d+ mensaje\(s\) en camino)")
    )
