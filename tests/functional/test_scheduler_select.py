"""The scheduler's selection against a real Postgres: which learner gets which proactive message at a given
clock, claimed once, enqueued on the real local FIFO queue (Redis).

Each test stamps ``now`` at run time, picks the next instant when it is a given hour in Mexico City (no
daylight saving since 2022: 19:00 there is always 01:00 UTC) and inserts learners, skill cards, review items,
offers and proactive rows relative to that instant, so it holds any day and in the 40-days-ahead pass.

Covered: the reminder hour (and not the hour before or after, never inside quiet hours); quiet hours for
every kind; reviews inside the window, at the reminder hour with consent outside it, not too soon after
the last message, once a day and not on a day a reminder went; the idle gap, the hours between two
proactive messages and the daily cap (skipped rows do not count); STOP, declined reminders and stopped
marketing; the re-engagement steps and their end; an offer follow-up before a review (one message per
learner per pass).

Bad input: two overlapping passes (threads, and a selection that loses the claim to another pass), a queue
that refuses (nothing stays claimed, the next pass sends), learners without a timezone (filled from the
country code; a business-scoped id gets the default), a learner in a zone the ``tzdata`` package knows and
Postgres does not (the pass goes on, for them and everyone else).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import psycopg
import pytest
import redis

from espaluz.queue.base import QueueError, QueueMessage
from espaluz.queue.local import LocalFifoQueue
from espaluz.scheduler.rules import Rules, day_slot
from espaluz.scheduler.tick import Due, claim, fill_timezones, run_tick, select_due
from espaluz.scheduler.zones import DEFAULT_ZONE, known_zones
from espaluz.storage.postgres import get_pool

ZONE = "America/Mexico_City"
H = timedelta(hours=1)
D = timedelta(days=1)


def at_local(hour: int, minute: int = 0, zone: str = ZONE) -> datetime:
    """The next instant after now when it is ``hour:minute`` in ``zone`` (UTC)."""
    here = datetime.now(UTC).astimezone(ZoneInfo(zone))
    then = here.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if then <= here:
        then += D
    return then.astimezone(UTC)


@pytest.fixture
def db(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def fifo(redis_client: redis.Redis[bytes]) -> LocalFifoQueue:
    return LocalFifoQueue(redis_client, "sched-" + uuid.uuid4().hex[:8])


class Counting:
    """The real queue, counting every message a pass hands it (its dedup would hide a repeat)."""

    def __init__(self, inner: LocalFifoQueue) -> None:
        self.inner = inner
        self.sent: list[QueueMessage] = []
        self._lock = threading.Lock()

    def send_batch(self, messages: Sequence[QueueMessage]) -> None:
        with self._lock:
            self.sent.extend(messages)
        self.inner.send_batch(messages)


class Refusing:
    def send_batch(self, messages: Sequence[QueueMessage]) -> None:
        raise QueueError("the queue is down")


def learner(
    db: psycopg.Connection[Any],
    last: datetime | None,
    *,
    hour: int = 19,
    consent: bool | None = True,
    zone: str | None = ZONE,
    wa_id: str | None = None,
    bsuid: str | None = None,
    opted_out_at: datetime | None = None,
    marketing_opt_out: bool = False,
) -> UUID:
    if wa_id is None and bsuid is None:
        wa_id = "52155" + str(uuid.uuid4().int)[:8]
    row = db.execute(
        """INSERT INTO learners (wa_id, bsuid, learner_key, last_inbound_at, timezone, reminder_hour,
                                 reminders_consent, opted_out_at, marketing_opt_out, onboarded_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
        (wa_id, bsuid, wa_id or bsuid, last, zone, hour, consent, opted_out_at, marketing_opt_out, last),
    ).fetchone()
    assert row is not None
    return UUID(str(row[0]))


def due_card(db: psycopg.Connection[Any], learner_id: UUID, due: datetime) -> None:
    db.execute(
        "INSERT INTO skill_cards (learner_id, skill, card, due) VALUES (%s, 'ser_estar', '{}', %s)",
        (learner_id, due),
    )


def due_item(db: psycopg.Connection[Any], learner_id: UUID, due: datetime) -> None:
    db.execute(
        """INSERT INTO review_items (learner_id, skill, prompt, expected, wrong_answer, card, due)
           VALUES (%s, 'ser_estar', 'Yo ___ cansado.', 'estoy', 'soy', '{}', %s)""",
        (learner_id, due),
    )


def offer(db: psycopg.Connection[Any], learner_id: UUID, due: datetime, status: str = "scheduled") -> UUID:
    row = db.execute(
        """INSERT INTO offers (learner_id, moment, value_line, offered_at, followup_due_at, followup_status)
           VALUES (%s, 'streak', 'Voz ilimitada', %s, %s, %s) RETURNING id""",
        (learner_id, due - D, due, status),
    ).fetchone()
    assert row is not None
    return UUID(str(row[0]))


def proactive(
    db: psycopg.Connection[Any],
    learner_id: UUID,
    kind: str,
    slot: str,
    queued_at: datetime,
    status: str = "sent",
) -> None:
    db.execute(
        """INSERT INTO proactive_messages (learner_id, kind, slot, queued_at, status)
           VALUES (%s, %s, %s, %s, %s)""",
        (learner_id, kind, slot, queued_at, status),
    )


def chosen(database_url: str, at: datetime, rules: Rules | None = None) -> dict[UUID, tuple[str, str]]:
    with psycopg.connect(database_url) as conn:
        due = select_due(conn, at, rules or Rules())
    result: dict[UUID, tuple[str, str]] = {d.learner_id: (d.kind, d.slot) for d in due}
    assert len(result) == len(due)  # one message per learner per pass
    return result


def rows(db: psycopg.Connection[Any]) -> list[tuple[UUID, str, str]]:
    found = db.execute(
        "SELECT learner_id, kind, slot FROM proactive_messages ORDER BY learner_id, kind, slot"
    )
    return [(UUID(str(r[0])), r[1], r[2]) for r in found.fetchall()]


def test_the_reminder_goes_at_the_reminder_hour_only(database_url: str, db: psycopg.Connection[Any]) -> None:
    at = at_local(19)
    assert (at.hour, at.minute) == (1, 0)  # 19:00 in Mexico City is 01:00 UTC
    today = day_slot(at, ZONE)
    yesterday = learner(db, at - 26 * H)
    wrote_today = learner(db, at - 3 * H)  # 16:00 local: no reminder the day they wrote
    no_consent = learner(db, at - 26 * H, consent=None)
    at_23 = learner(db, at - 26 * H, hour=23)
    at_7 = learner(db, at - 26 * H, hour=7)
    assert chosen(database_url, at) == {yesterday: ("reminder", today)}
    assert chosen(database_url, at + timedelta(minutes=59)) == {yesterday: ("reminder", today)}
    assert chosen(database_url, at - H) == {}  # 18:00
    assert chosen(database_url, at + H) == {}  # 20:00
    # A reminder hour inside quiet hours never comes, at that hour or any other of the day.
    for minutes in range(0, 24 * 60, 30):
        picked = chosen(database_url, at + timedelta(minutes=minutes))
        assert not {at_23, at_7, wrote_today, no_consent} & picked.keys(), minutes
    assert chosen(database_url, at_local(23)) == {}
    assert chosen(database_url, at_local(7)) == {}


def test_nothing_in_quiet_hours_whatever_is_due(database_url: str, db: psycopg.Connection[Any]) -> None:
    for hour, expected in ((23, False), (7, False), (8, True), (21, True)):
        at = at_local(hour)
        db.execute("DELETE FROM learners")
        review = learner(db, at - 8 * H, hour=hour)
        due_card(db, review, at - H)
        follow = learner(db, at - 8 * H, hour=hour)
        offer_id = offer(db, follow, at - H)
        silent = learner(db, at - 3 * D - H, hour=hour)
        reminded = learner(db, at - 26 * H, hour=hour)
        picked = chosen(database_url, at)
        if not expected:
            assert picked == {}, hour
            continue
        assert picked == {
            review: ("review", day_slot(at, ZONE)),
            follow: ("followup", str(offer_id)),
            silent: ("reengage", f"1.{(at - 3 * D - H).date().isoformat()}"),
            reminded: ("reminder", day_slot(at, ZONE)),
        }, hour


def test_a_due_review(database_url: str, db: psycopg.Connection[Any]) -> None:
    at = at_local(19)
    today = day_slot(at, ZONE)
    # Inside the window (last message 8 h ago): at any waking hour, consent not asked yet is fine.
    inside = learner(db, at - 8 * H, hour=12, consent=None)
    due_card(db, inside, at - H)
    inside_item = learner(db, at - 8 * H, hour=12)
    due_item(db, inside_item, at - H)
    # Outside it (30 h ago): only at the reminder hour and only with consent (a template).
    outside = learner(db, at - 30 * H)
    due_item(db, outside, at - 2 * H)
    outside_no_consent = learner(db, at - 30 * H, consent=None)
    due_card(db, outside_no_consent, at - H)
    outside_other_hour = learner(db, at - 30 * H, hour=12)
    due_card(db, outside_other_hour, at - H)
    too_soon = learner(db, at - 2 * H)  # review_after is 6 h
    due_card(db, too_soon, at - H)
    already = learner(db, at - 8 * H, hour=12)
    due_card(db, already, at - H)
    proactive(db, already, "review", today, at - 3 * H)
    not_due = learner(db, at - 8 * H, hour=12)
    due_card(db, not_due, at + D)
    declined = learner(db, at - 8 * H, consent=False)
    due_card(db, declined, at - H)
    assert chosen(database_url, at) == {
        inside: ("review", today),
        inside_item: ("review", today),
        outside: ("review", today),
    }
    # At 18:00 the learner outside the window waits for their hour; the others do not.
    assert chosen(database_url, at - H).keys() == {inside, inside_item}
    # The reminder went today at their hour; a card falling due half an hour later waits for tomorrow.
    reminded = learner(db, at - 30 * H)
    proactive(db, reminded, "reminder", today, at)
    due_card(db, reminded, at + timedelta(minutes=20))
    assert reminded not in chosen(database_url, at + timedelta(minutes=30))
    # A learner whose window is about to close (less than the margin left) is treated as outside it.
    closing = learner(db, at - 24 * H + timedelta(minutes=10), hour=12, consent=None)
    due_card(db, closing, at - H)
    assert closing not in chosen(database_url, at)


def test_idle_and_daily_cap(database_url: str, db: psycopg.Connection[Any]) -> None:
    at = at_local(12)
    writing = learner(db, at - timedelta(minutes=5))
    offer_id = offer(db, writing, at - H)
    assert chosen(database_url, at) == {}  # mid-conversation
    db.execute(
        "UPDATE learners SET last_inbound_at = %s WHERE id = %s", (at - timedelta(minutes=11), writing)
    )
    assert chosen(database_url, at) == {writing: ("followup", str(offer_id))}
    db.execute("DELETE FROM learners")
    capped = learner(db, at - 8 * H, hour=12)
    due_card(db, capped, at - H)
    proactive(db, capped, "reminder", day_slot(at - 17 * H, ZONE), at - 17 * H)
    proactive(db, capped, "followup", str(uuid.uuid4()), at - 4 * H, status="queued")
    proactive(db, capped, "reengage", "1.old", at - 25 * H)  # older than a day: does not count
    assert chosen(database_url, at) == {}
    db.execute("UPDATE proactive_messages SET status = 'skipped' WHERE kind = 'followup'")
    assert chosen(database_url, at) == {capped: ("review", day_slot(at, ZONE))}
    assert chosen(database_url, at, Rules(daily_cap=0)) == {}


def test_hours_between_two_proactive_messages(database_url: str, db: psycopg.Connection[Any]) -> None:
    """A follow-up went an hour ago: the review due this afternoon waits for SCHEDULER_GAP_HOURS (3)."""
    at = at_local(15)
    followed = learner(db, at - 8 * H)
    due_card(db, followed, at - H)
    proactive(db, followed, "followup", str(uuid.uuid4()), at - H)
    assert chosen(database_url, at) == {}
    assert chosen(database_url, at + 2 * H + 5 * timedelta(minutes=1)) == {
        followed: ("review", day_slot(at, ZONE))
    }
    assert chosen(database_url, at, Rules(gap=timedelta(0))) == {followed: ("review", day_slot(at, ZONE))}


def test_stop_consent_and_marketing(database_url: str, db: psycopg.Connection[Any]) -> None:
    at = at_local(19)
    stopped = learner(db, at - 8 * H, opted_out_at=at - 7 * H)
    due_card(db, stopped, at - H)
    offer(db, stopped, at - H)
    stopped_silent = learner(db, at - 3 * D - H, opted_out_at=at - 3 * D)
    stopped_reminder = learner(db, at - 26 * H, opted_out_at=at - 25 * H)
    no_marketing = learner(db, at - 3 * D - H, marketing_opt_out=True)
    no_marketing_reminder = learner(db, at - 26 * H, marketing_opt_out=True)
    silent = learner(db, at - 3 * D - H)
    declined_reminder = learner(db, at - 26 * H, consent=False)
    declined_silent = learner(db, at - 3 * D - H, consent=False)
    declined_review = learner(db, at - 30 * H, consent=False)
    due_card(db, declined_review, at - H)
    picked = chosen(database_url, at)
    assert not {stopped, stopped_silent, stopped_reminder, no_marketing} & picked.keys()
    assert not {declined_reminder, declined_silent, declined_review} & picked.keys()
    assert picked == {
        no_marketing_reminder: ("reminder", day_slot(at, ZONE)),  # a reminder is not marketing
        silent: ("reengage", f"1.{(at - 3 * D - H).date().isoformat()}"),
    }


def test_reengagement_steps(database_url: str, db: psycopg.Connection[Any], fifo: LocalFifoQueue) -> None:
    at = at_local(19)
    pool = get_pool(database_url)
    three = learner(db, at - 3 * D - H)
    ten = learner(db, at - 10 * D - H)
    twenty = learner(db, at - 20 * D)
    two = learner(db, at - 2 * D)  # still the daily reminder
    assert chosen(database_url, at - H) == {}  # 18:00: not their hour
    result = run_tick(pool, fifo, Rules(), at)
    assert result.by_kind == {"reengage": 2, "reminder": 1}
    assert rows(db) == sorted(
        [
            (three, "reengage", f"1.{(at - 3 * D - H).date().isoformat()}"),
            (ten, "reengage", f"2.{(at - 10 * D - H).date().isoformat()}"),
            (two, "reminder", day_slot(at, ZONE)),
        ]
    )
    assert twenty not in chosen(database_url, at)
    assert run_tick(pool, fifo, Rules(), at + timedelta(minutes=30)).queued == 0  # later that hour
    assert run_tick(pool, fifo, Rules(), at + 2 * H).queued == 0  # later that day
    next_day = chosen(database_url, at + D)  # still step 1 and 2: sent already
    assert not {three, ten, twenty} & next_day.keys()
    assert next_day == {two: ("reengage", f"1.{(at - 2 * D).date().isoformat()}")}
    assert fifo.depth() == 3


def test_a_followup_comes_before_a_review(
    database_url: str, db: psycopg.Connection[Any], fifo: LocalFifoQueue
) -> None:
    at = at_local(12)
    both = learner(db, at - 8 * H)
    due_card(db, both, at - H)
    offer_id = offer(db, both, at - H)
    offer(db, both, at + H)  # not due yet
    later = learner(db, at - 8 * H)
    offer(db, later, at + H)
    declined = learner(db, at - 8 * H)
    offer(db, declined, at - H, status="skipped")
    with psycopg.connect(database_url) as conn:
        due = select_due(conn, at, Rules())
    assert due == [Due(both, str(group_of(db, both)), "followup", str(offer_id), offer_id)]
    result = run_tick(get_pool(database_url), fifo, Rules(), at)
    assert (result.selected, result.queued, result.by_kind) == (1, 1, {"followup": 1})
    [message] = fifo.receive(10)
    envelope = json.loads(message.body)
    assert envelope["kind"] == "proactive"
    assert envelope["wamid"] == f"tick.followup.{both}.{offer_id}"
    assert envelope["update"]["kind"] == "followup"
    assert envelope["update"]["slot"] == str(offer_id)
    assert envelope["update"]["offer_id"] == str(offer_id)
    assert envelope["update"]["learner_id"] == str(both)
    assert message.group_id == group_of(db, both)


def group_of(db: psycopg.Connection[Any], learner_id: UUID) -> str:
    row = db.execute("SELECT learner_key FROM learners WHERE id = %s", (learner_id,)).fetchone()
    assert row is not None
    return str(row[0])


def test_two_overlapping_passes_enqueue_each_message_once(
    database_url: str, db: psycopg.Connection[Any], fifo: LocalFifoQueue
) -> None:
    at = at_local(12)
    last = at - 8 * H  # the same instant for all: ties in every ORDER BY
    learners = [learner(db, last, hour=12) for _ in range(40)]
    for learner_id in learners:
        due_card(db, learner_id, at - H)
    queue = Counting(fifo)
    pools = [get_pool(database_url, max_size=2), get_pool(database_url, max_size=3)]
    start = threading.Barrier(2)
    results: list[Any] = []

    def one_pass(index: int) -> None:
        start.wait(10)
        try:
            results.append(run_tick(pools[index], queue, Rules(), at))
        except Exception as exc:  # reported below
            results.append(exc)

    threads = [threading.Thread(target=one_pass, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(not isinstance(r, Exception) for r in results), results
    assert sum(r.queued for r in results) == len(learners)
    assert len(queue.sent) == len(learners)
    assert len({m.dedup_id for m in queue.sent}) == len(learners)
    assert len(rows(db)) == len(learners)
    assert fifo.depth() == len(learners)
    # The same race, step by step: a pass that selected before the other committed claims nothing.
    db.execute("DELETE FROM proactive_messages")
    with psycopg.connect(database_url) as late:
        due = select_due(late, at, Rules())
        assert len(due) == len(learners)
        assert run_tick(get_pool(database_url), queue, Rules(), at).queued == len(learners)
        assert claim(late, due, at) == []
        late.commit()
    assert len(queue.sent) == 2 * len(learners)
    assert len(rows(db)) == len(learners)


def test_a_queue_that_refuses_claims_nothing(
    database_url: str, db: psycopg.Connection[Any], fifo: LocalFifoQueue
) -> None:
    at = at_local(12)
    waiting = learner(db, at - 8 * H)
    due_card(db, waiting, at - H)
    pool = get_pool(database_url)
    with pytest.raises(QueueError):
        run_tick(pool, Refusing(), Rules(), at)
    assert rows(db) == []
    assert fifo.depth() == 0
    result = run_tick(pool, fifo, Rules(), at + timedelta(minutes=5))
    assert (result.queued, result.by_kind) == (1, {"review": 1})
    assert rows(db) == [(waiting, "review", day_slot(at, ZONE))]
    assert fifo.depth() == 1


def test_fill_timezones_from_the_country_code(
    database_url: str, db: psycopg.Connection[Any], fifo: LocalFifoQueue
) -> None:
    mexico = learner(db, None, zone=None, wa_id="5215512345678")
    spain = learner(db, None, zone=None, wa_id="34612345678")
    puerto_rico = learner(db, None, zone=None, wa_id="17875551234")
    business_only = learner(db, None, zone=None, bsuid="US.13491208655302741918")
    chosen_zone = learner(db, None, zone="Asia/Tokyo", wa_id="5215599999999")
    with psycopg.connect(database_url) as conn:
        assert fill_timezones(conn, limit=2) == 2  # bounded
        assert fill_timezones(conn) == 2
        assert fill_timezones(conn) == 0
    zones = dict(db.execute("SELECT id, timezone FROM learners").fetchall())
    assert {UUID(str(k)): v for k, v in zones.items()} == {
        mexico: "America/Mexico_City",
        spain: "Europe/Madrid",
        puerto_rico: "America/Puerto_Rico",
        business_only: DEFAULT_ZONE,
        chosen_zone: "Asia/Tokyo",
    }
    db.execute("UPDATE learners SET timezone = NULL WHERE id = %s", (spain,))
    assert run_tick(get_pool(database_url), fifo, Rules(), datetime.now(UTC)).timezones_filled == 1


def test_a_zone_postgres_does_not_know_does_not_stop_the_pass(
    database_url: str, db: psycopg.Connection[Any], fifo: LocalFifoQueue
) -> None:
    """The zone files of the ``tzdata`` package may be newer than Postgres's (``America/Coyhaique``, 2025):
    a learner there is still served and the others too."""
    postgres_zones = {r[0] for r in db.execute("SELECT name FROM pg_timezone_names").fetchall()}
    unknown = sorted(known_zones() - postgres_zones)
    for zone in [*unknown[:5], ZONE]:
        db.execute("DELETE FROM learners")
        at = at_local(12, zone=zone)
        there = learner(db, at - 8 * H, zone=zone, hour=12)
        due_card(db, there, at - H)
        reminded = learner(db, at - 26 * H, zone=zone, hour=12)
        here = learner(db, at - 8 * H, zone=ZONE, hour=12)
        due_card(db, here, at - H)
        picked = chosen(database_url, at)
        assert picked[there] == ("review", day_slot(at, zone)), zone
        assert picked[reminded] == ("reminder", day_slot(at, zone)), zone
        assert (here in picked) == (not Rules().quiet(at.astimezone(ZoneInfo(ZONE)).hour)), zone
        assert run_tick(get_pool(database_url), fifo, Rules(), at).queued == len(picked)
