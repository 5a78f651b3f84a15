"""The tutor writes first: a scheduler pass (``run_tick``) at an explicit clock, then the real tutor handler
sends what it chose (local FIFO queue, Graph API emulator, real Postgres and Redis, espeak-ng voice).

Each test stamps "now" at run time and moves the learner's own rows back in time (last message, turns,
skill cards) instead of the clock forward, so it holds any day and in the 40-days-ahead pass; local hours
come from a zone chosen at run time where it is the hour the test needs.

Covered: a wrong answer comes back as a review the next day inside the window and as a template outside
it; a reminder at 19:00 Mexico City time goes at 01:00 UTC (as a template outside the window, with the
streak inside it) and not at 18:00 local nor twice; an offer follow-up goes once as a voice note and never
after "no"; duplicate deliveries (two overlapping passes, an envelope delivered again after SQS's dedup
window) send once; STOP between selection and sending sends nothing; a learner who writes while the
message waits in the queue is not interrupted; ``espaluz report`` counts sends and answers.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
import redis
from click.testing import CliRunner

from espaluz.queue.base import QueueMessage
from espaluz.queue.local import LocalFifoQueue
from espaluz.scheduler.rules import Rules
from espaluz.scheduler.tick import TickResult, run_tick
from espaluz.scheduler.zones import known_zones, local
from espaluz.storage.postgres import get_pool
from espaluz.tutor.report import report
from espaluz.tutor.state import StateStore
from espaluz.whatsapp.inbound import active_key, proactive_message
from tests.conftest import GraphEmulator
from tests.functional.test_course import opened, wrong_answer
from tests.functional.test_teacher import Learner, learner  # noqa: F401 (fixture)
from tests.functional.test_tutor import replies, say, text_of, worker  # noqa: F401 (fixture)


def zone_at(now: datetime, hour: int) -> str:
    """A zone where it is ``hour`` o'clock at ``now`` (whole-hour offsets make every hour exist somewhere)."""
    return sorted(z for z in known_zones() if local(now, z).hour == hour and "/" in z)[0]


def tick(redis_client: redis.Redis[bytes], database_url: str, at: datetime) -> TickResult:
    return run_tick(get_pool(database_url), LocalFifoQueue(redis_client, "inbound"), Rules(), at)


def learner_row(database_url: str) -> tuple[UUID, str]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT id, learner_key FROM learners").fetchone()
    assert row is not None
    return row[0], row[1]


def step_back(database_url: str, redis_client: redis.Redis[bytes], hours: float, **columns: Any) -> None:
    """Everything happened ``hours`` earlier (their last message, turns, skill cards, what the tutor sent
    first), the webhook's note of their last message has expired, and ``columns`` are set on their row."""
    learner_id, key = learner_row(database_url)
    back = timedelta(hours=hours)
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE learners SET last_inbound_at = last_inbound_at - %s", (back,))
        conn.execute("UPDATE turns SET received_at = received_at - %s", (back,))
        conn.execute("UPDATE skill_cards SET due = due - %s", (back,))
        conn.execute("UPDATE review_items SET due = due - %s", (back,))
        conn.execute(
            "UPDATE proactive_messages SET queued_at = queued_at - %s, sent_at = sent_at - %s", (back, back)
        )
        for column, value in columns.items():
            assert column in ("timezone", "reminder_hour", "reminders_consent", "opted_out_at")
            conn.execute(f"UPDATE learners SET {column} = %s WHERE id = %s", (value, learner_id))  # noqa: S608
    redis_client.delete(active_key(key))


def wrote_hola(
    maya: Learner, redis_client: redis.Redis[bytes], database_url: str, *, hours: float, hour: int
) -> datetime:
    """An English-speaking A1 learner who said "hola" ``hours`` ago, consents to reminders and lives where
    it is ``hour`` o'clock now; returns that now."""
    maya.say("hola")
    maya.profile(native_language="en", level="A1")
    now = datetime.now(UTC)
    step_back(database_url, redis_client, hours, timezone=zone_at(now, hour), reminders_consent=True)
    return now


def proactive_rows(database_url: str) -> list[tuple[str, str, str | None, str | None]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT kind, status, channel, reason FROM proactive_messages ORDER BY queued_at, kind, slot"
        )
        return [tuple(r) for r in rows.fetchall()]


def sent_since(graph: GraphEmulator, before: int) -> list[dict[str, Any]]:
    return replies(graph)[before:]


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_wrong_answer_comes_back_as_a_review_the_next_day_inside_the_window(
    learner: Learner,  # noqa: F811
    redis_client: redis.Redis[bytes],
    database_url: str,
    graph_emulator: GraphEmulator,
    language: str,
) -> None:
    learner.say("hola")
    learner.profile(native_language=language, level="A1")
    learner.say("practicar")
    learner.say(wrong_answer(opened(redis_client, database_url)))
    now = datetime.now(UTC)
    assert tick(redis_client, database_url, now).queued == 0  # the learner just wrote: nothing yet
    # The next morning (20 h later, local 10:00): the window is still open and the mistake is due.
    step_back(database_url, redis_client, 20, timezone=zone_at(now, 10), reminders_consent=True)
    assert tick(redis_client, database_url, now).by_kind == {"review": 1}
    before = len(replies(graph_emulator))
    learner.worker.run_once()
    [review] = sent_since(graph_emulator, before)
    text = text_of(review)
    assert text.startswith("👋 ¡Hola, Lucía! ¿Un repaso rápido?")
    assert ("Hi, Lucía! A quick review?" in text) == (language == "en")
    review_drill = StateStore(redis_client, 3600).load(learner_row(database_url)[0]).pending
    assert review_drill is not None  # the review is an exercise: the answer is checked
    [checked] = learner.say(wrong_answer(review_drill.exercise) if review_drill.exercise else "zzzz")
    assert checked.startswith("❌"), checked
    assert proactive_rows(database_url) == [("review", "sent", "text", None)]
    assert tick(redis_client, database_url, now + timedelta(hours=1)).queued == 0  # one review a day
    # espaluz report: one review sent, answered within the hour.
    out = CliRunner().invoke(report, ["--days", "1", "--json"], env={"DATABASE_URL": database_url})
    assert out.exit_code == 0, out.output
    day = json.loads(out.output.splitlines()[-1])
    assert day["proactive"]["review"] == {"sent": 1, "skipped": 0, "replied_within_1h": 1, "reply_rate": 1.0}


def test_outside_the_window_a_due_review_is_the_review_template_at_the_reminder_hour(
    learner: Learner,  # noqa: F811
    redis_client: redis.Redis[bytes],
    database_url: str,
    graph_emulator: GraphEmulator,
) -> None:
    learner.say("hola")
    learner.profile(native_language="en", level="A1")
    learner.say("practicar")
    learner.say(wrong_answer(opened(redis_client, database_url)))
    now = datetime.now(UTC)
    step_back(database_url, redis_client, 30, timezone=zone_at(now, 19), reminders_consent=True)
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE learners SET reminder_hour = 18")
    assert tick(redis_client, database_url, now).queued == 0  # outside the window: only at their hour
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE learners SET reminder_hour = 19")
    assert tick(redis_client, database_url, now).by_kind == {"review": 1}
    before = len(replies(graph_emulator))
    learner.worker.run_once()
    [template] = sent_since(graph_emulator, before)
    assert template["type"] == "template"
    assert template["template"]["name"] == "espaluz_repaso"
    assert template["template"]["language"]["code"] == "en"
    params = [
        p["text"] for c in template["template"]["components"] if c["type"] == "body" for p in c["parameters"]
    ]
    assert params[0] == "Lucía"  # the learner's name,
    assert int(params[1]) >= 1  # and how many reviews are due
    assert proactive_rows(database_url) == [("review", "sent", "template", None)]


def test_a_reminder_at_seven_pm_mexico_city_goes_at_one_utc_once_and_with_the_streak_inside_the_window(
    learner: Learner,  # noqa: F811
    redis_client: redis.Redis[bytes],
    database_url: str,
    graph_emulator: GraphEmulator,
) -> None:
    learner.say("hola")
    learner.say("buenas tardes")
    learner.profile(native_language="es", level="A1")
    now = datetime.now(UTC)
    seven_pm = (now + timedelta(days=1)).replace(hour=1, minute=0, second=0, microsecond=0)  # 01:00 UTC
    assert local(seven_pm, "America/Mexico_City").hour == 19  # UTC-6 all year since 2022
    # Her last message two days before 19:00 local: outside the window, not silent long enough to re-engage.
    back = (now - (seven_pm - timedelta(days=2))).total_seconds() / 3600
    step_back(database_url, redis_client, back, timezone="America/Mexico_City", reminders_consent=True)
    assert tick(redis_client, database_url, seven_pm - timedelta(hours=1)).queued == 0  # 18:00 local
    assert tick(redis_client, database_url, seven_pm).by_kind == {"reminder": 1}
    assert tick(redis_client, database_url, seven_pm + timedelta(minutes=5)).queued == 0  # once a day
    before = len(replies(graph_emulator))
    learner.worker.run_once()
    [template] = sent_since(graph_emulator, before)
    assert (template["type"], template["template"]["name"]) == ("template", "espaluz_recordatorio")
    assert template["template"]["language"]["code"] == "es"

    # The next day she wrote the evening before and the day before that: inside the window, a text with
    # her streak and a button that starts practice.
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE learners SET last_inbound_at = %s", (seven_pm + timedelta(hours=2),))
        own = conn.execute(
            "SELECT wamid FROM turns WHERE route <> 'proactive' ORDER BY received_at"
        ).fetchall()
        for (wamid,), at in zip(
            own, (seven_pm - timedelta(hours=21), seven_pm + timedelta(hours=2)), strict=True
        ):
            conn.execute(
                "UPDATE turns SET received_at = %s WHERE wamid = %s", (at, wamid)
            )  # 22:00, then 21:00
    next_day = seven_pm + timedelta(days=1)
    assert tick(redis_client, database_url, next_day).by_kind == {"reminder": 1}
    before = len(replies(graph_emulator))
    learner.worker.run_once()
    [text] = sent_since(graph_emulator, before)
    assert text_of(text).startswith("🔔 ¿Practicamos un rato hoy?")
    assert "🔥 Llevas 2 días seguidos: no pierdas la racha." in text_of(text)
    assert [b["reply"]["id"] for b in text["interactive"]["action"]["buttons"]] == ["practice"]


def test_an_offer_follow_up_goes_once_as_a_voice_note_and_never_after_no(
    learner: Learner,  # noqa: F811
    redis_client: redis.Redis[bytes],
    database_url: str,
    graph_emulator: GraphEmulator,
) -> None:
    now = wrote_hola(learner, redis_client, database_url, hours=3, hour=12)
    learner_id, _ = learner_row(database_url)
    with psycopg.connect(database_url) as conn:
        conn.execute(
            """INSERT INTO offers (learner_id, moment, value_line, followup_due_at, followup_status)
               VALUES (%s, 'streak', 'Esta semana acertaste 31 ejercicios', %s, 'scheduled')""",
            (learner_id, now - timedelta(minutes=5)),
        )
        conn.execute(
            "INSERT INTO offer_preferences (learner_id, receives_voice) VALUES (%s, true)", (learner_id,)
        )
    first = tick(redis_client, database_url, now)
    again = tick(redis_client, database_url, now + timedelta(minutes=5))
    assert (first.by_kind, again.queued) == ({"followup": 1}, 0)
    before = len(replies(graph_emulator))
    learner.worker.run_once()
    voice, line = sent_since(graph_emulator, before)
    assert voice["type"] == "audio"
    assert text_of(line).startswith(
        "Ayer te conté lo que desbloquea el plan. Esta semana acertaste 31 ejercicios"
    )
    assert "Shall we keep going like this?" in text_of(line)
    assert [b["reply"]["id"] for b in line["interactive"]["action"]["buttons"]] == [
        "billing:offer:yes",
        "billing:offer:no",
    ]
    with psycopg.connect(database_url) as conn:
        status = conn.execute("SELECT followup_status, followup_channel FROM offers").fetchone()
    assert status == ("sent", "voice")

    # A second offer, answered "no" before its follow-up is due: nothing is ever sent for it.
    with psycopg.connect(database_url) as conn:
        conn.execute(
            """INSERT INTO offers (learner_id, moment, value_line, followup_due_at, followup_status,
                                  offered_at)
               VALUES (%s, 'mastery', 'Dominaste el presente', %s, 'scheduled', %s)""",
            (learner_id, now + timedelta(hours=20), now + timedelta(seconds=1)),
        )
    [declined] = learner.say(button=("billing:offer:no", "No, gracias"))
    assert declined
    step_back(database_url, redis_client, 1)
    assert tick(redis_client, database_url, now + timedelta(days=1)).by_kind.get("followup") is None


def test_overlapping_passes_and_a_redelivered_envelope_send_once(
    learner: Learner,  # noqa: F811
    redis_client: redis.Redis[bytes],
    database_url: str,
    graph_emulator: GraphEmulator,
) -> None:
    now = wrote_hola(learner, redis_client, database_url, hours=48, hour=19)
    results: list[TickResult] = []
    passes = [
        threading.Thread(target=lambda: results.append(tick(redis_client, database_url, now))) for _ in "ab"
    ]
    for p in passes:
        p.start()
    for p in passes:
        p.join()
    assert sorted(r.queued for r in results) == [0, 1]
    queue = LocalFifoQueue(redis_client, "inbound")
    [message] = queue.receive(10)
    queue.settle(message.group_id, [])  # back in the queue, untouched
    # The same envelope once more (a Lambda retry after SQS's five-minute dedup window): both are handled.
    queue.send_batch([QueueMessage(message.body, message.group_id, f"{message.dedup_id}.again")])
    before = len(replies(graph_emulator))
    while learner.worker.run_once():
        pass
    assert len(sent_since(graph_emulator, before)) == 1
    assert proactive_rows(database_url) == [("reminder", "sent", "template", None)]


def test_stop_before_sending_and_a_learner_writing_meanwhile_get_nothing(
    learner: Learner,  # noqa: F811
    redis_client: redis.Redis[bytes],
    database_url: str,
    graph_emulator: GraphEmulator,
    lambda_context: Any,
) -> None:
    now = wrote_hola(learner, redis_client, database_url, hours=48, hour=19)
    # She writes while the reminder waits in the queue: her message is answered, the reminder is not sent.
    assert tick(redis_client, database_url, now).by_kind == {"reminder": 1}
    before = len(replies(graph_emulator))
    say(lambda_context, "hola otra vez", wamid="wamid.MEANWHILE")
    learner.worker.run_once()
    sent = sent_since(graph_emulator, before)
    assert len(sent) == 1
    assert sent[0]["type"] != "template"
    assert proactive_rows(database_url) == [("reminder", "skipped", None, "active")]

    # The next day the pass chooses her again, and STOP is handled before the message is sent.
    step_back(database_url, redis_client, 24)
    tomorrow = now + timedelta(days=1)
    assert tick(redis_client, database_url, tomorrow).by_kind == {"reminder": 1}
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE learners SET opted_out_at = now()")
    before = len(replies(graph_emulator))
    learner.worker.run_once()
    assert sent_since(graph_emulator, before) == []
    assert proactive_rows(database_url)[-1] == ("reminder", "skipped", None, "opted_out")
    assert tick(redis_client, database_url, tomorrow + timedelta(days=1)).queued == 0  # never after STOP


def test_three_days_of_silence_bring_the_re_engagement_template_within_the_cap_and_consent(
    learner: Learner,  # noqa: F811
    redis_client: redis.Redis[bytes],
    database_url: str,
    graph_emulator: GraphEmulator,
) -> None:
    learner.say("hola")
    learner.profile(native_language="en", level="A1")
    now = datetime.now(UTC)
    step_back(database_url, redis_client, 3 * 24 + 1, timezone=zone_at(now, 19))
    assert tick(redis_client, database_url, now).by_kind == {"reengage": 1}
    before = len(replies(graph_emulator))
    learner.worker.run_once()
    [template] = sent_since(graph_emulator, before)
    assert (template["template"]["name"], template["template"]["language"]["code"]) == (
        "espaluz_te_esperamos",
        "en",
    )
    assert (
        tick(redis_client, database_url, now + timedelta(hours=2)).queued == 0
    )  # step 1 went: wait for 10 days

    # Ten days: the second step is chosen, but she stopped promotions before it went (a marketing template).
    step_back(database_url, redis_client, 7 * 24)
    assert tick(redis_client, database_url, now).by_kind == {"reengage": 1}
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE learners SET marketing_opt_out = true")
    learner.worker.run_once()
    assert proactive_rows(database_url)[-1] == ("reengage", "skipped", None, "marketing")
    assert len(sent_since(graph_emulator, before)) == 1

    # The daily cap holds at send time too: two messages already went out today.
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE learners SET marketing_opt_out = false, reminders_consent = true")
        learner_id, _ = learner_row(database_url)
        for slot in ("a", "b"):
            conn.execute(
                """INSERT INTO proactive_messages (learner_id, kind, slot, queued_at, status, sent_at)
                   VALUES (%s, 'followup', %s, %s, 'sent', %s)""",
                (learner_id, slot, now - timedelta(days=2), now - timedelta(hours=1)),
            )
    step_back(database_url, redis_client, 0)
    with psycopg.connect(database_url) as conn:  # a reminder chosen before those two were recorded
        conn.execute(
            """INSERT INTO proactive_messages (learner_id, kind, slot, queued_at)
               VALUES (%s, 'reminder', 'x', %s)""",
            (learner_id, now),
        )
    LocalFifoQueue(redis_client, "inbound").send_batch(
        [proactive_message(f"tick.reminder.{learner_id}.x", str(learner_id),
                           {"kind": "reminder", "slot": "x", "at": now.isoformat()})]
    )  # fmt: skip
    learner.worker.run_once()
    assert proactive_rows(database_url)[-1] == ("reminder", "skipped", None, "cap")
    assert len(sent_since(graph_emulator, before)) == 1


def test_the_tick_command_runs_a_pass_against_the_settings_or_says_what_is_missing(
    learner: Learner,  # noqa: F811
    redis_client: redis.Redis[bytes],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``espaluz tick --at``: with DATABASE_URL and QUEUE_URL set (the test's services) the pass runs here;
    without them and no local stack at ``--url`` it says so (exit 1); a malformed time is refused (2)."""
    from espaluz.scheduler.commands import tick as tick_command

    learner.say("hola")
    now = datetime.now(UTC)
    step_back(database_url, redis_client, 48, timezone=zone_at(now, 19), reminders_consent=True)
    out = CliRunner().invoke(tick_command, ["--at", now.isoformat(), "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["by_kind"] == {"reminder": 1}
    assert (
        json.loads(CliRunner().invoke(tick_command, ["--at", now.isoformat(), "--json"]).output)["queued"]
        == 0
    )
    assert CliRunner().invoke(tick_command, ["--at", "mañana"]).exit_code == 2
    monkeypatch.delenv("QUEUE_URL")
    missing = CliRunner().invoke(tick_command, ["--url", "http://127.0.0.1:9"])
    assert missing.exit_code == 1
    assert "no local stack answers at http://127.0.0.1:9" in missing.output
