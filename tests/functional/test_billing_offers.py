"""The offer policy, follow-up selection and the per-turn entitlement check on a real Postgres."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest

from espaluz.billing.entitlements import EntitlementChecker
from espaluz.billing.offers import (
    DrillResult,
    OfferPolicy,
    WeekProgress,
    due_followups,
    record_response,
    report,
)
from espaluz.billing.plans import Catalog
from espaluz.config import Settings
from espaluz.storage import learners
from espaluz.storage.postgres import get_pool

HARD = DrillResult("conjugation:indicative.preterite", "correct")
EASY = DrillResult("conjugation:indicative.present", "correct")
WRONG = DrillResult("conjugation:indicative.preterite", "wrong")
POLICY = OfferPolicy(
    cooldown=timedelta(days=7),
    quiet_after_no=timedelta(days=21),
    streak=5,
    bonus_feature="unlimited_turns",
    bonus_days=7,
)


def new_learner(
    conn: psycopg.Connection[Any],
    wa_id: str,
    voice: bool = False,
    consent: bool = False,
    arrived: timedelta = timedelta(days=3),
) -> UUID:
    """A learner who first wrote ``arrived`` ago (past the first session unless told otherwise)."""
    learner = learners.upsert(conn, learners.Identity(bsuid=None, wa_id=wa_id), "1")
    conn.execute(
        "UPDATE learners SET created_at = %s WHERE id = %s", (datetime.now(UTC) - arrived, learner.id)
    )
    conn.execute(
        "INSERT INTO offer_preferences (learner_id, receives_voice, marketing_consent) VALUES (%s, %s, %s)",
        (learner.id, voice, consent),
    )
    return learner.id


def add_attempts(
    conn: psycopg.Connection[Any], learner_id: UUID, skill: str, verdicts: list[str], verb: str
) -> None:
    at = datetime.now(UTC)  # the tutor stamps attempts on its own clock, which the offer policy reads
    for v in verdicts:
        conn.execute(
            """INSERT INTO drill_attempts (learner_id, skill, prompt, expected, answer, verdict, created_at)
               VALUES (%s, %s, %s, 'x', 'x', %s, %s)""",
            (learner_id, skill, f"¿Cómo se conjuga *{verb}* en presente?", v, at),
        )


def test_moments_cooldown_and_quiet_after_no(database_url: str) -> None:
    """Only a moment worth praising gets an offer (a streak, not one right answer however hard); none
    again inside the cooldown; none soon after "no"."""
    now = datetime.now(UTC)
    with psycopg.connect(database_url) as conn:
        learner = new_learner(conn, "15550001001")
        assert POLICY.consider(conn, learner, [WRONG], streak=0, now=now) is None  # no moment
        assert POLICY.consider(conn, learner, [EASY], streak=1, now=now) is None  # an easy drill
        assert POLICY.consider(conn, learner, [HARD], streak=1, now=now) is None  # one hard drill
        made = POLICY.consider(conn, learner, [HARD], streak=5, now=now)
        assert made is not None
        assert made.moment == "streak"
        assert made.bonus == ("unlimited_turns", 7)
        assert POLICY.consider(conn, learner, [HARD], streak=10, now=now + timedelta(days=6)) is None
        record_response(conn, learner, "declined", now + timedelta(days=6))
        assert POLICY.consider(conn, learner, [HARD], streak=5, now=now + timedelta(days=8)) is None
        later = POLICY.consider(conn, learner, [EASY], streak=5, now=now + timedelta(days=30))
        assert later is not None
        assert later.moment == "streak"


def test_no_offer_in_the_first_session(database_url: str) -> None:
    """A new learner on a streak gets no offer in the first 24 hours after arriving; the same streak
    the next day does (the policy's clock is passed explicitly)."""
    now = datetime.now(UTC)
    with psycopg.connect(database_url) as conn:
        learner = new_learner(conn, "15550001016", arrived=timedelta(0))
        assert POLICY.consider(conn, learner, [EASY], streak=5, now=now) is None
        assert POLICY.consider(conn, learner, [EASY], streak=5, now=now + timedelta(hours=23)) is None
        assert conn.execute("SELECT count(*) FROM offers").fetchone() == (0,)
        made = POLICY.consider(conn, learner, [EASY], streak=5, now=now + timedelta(hours=25))
        assert made is not None


def test_skill_mastered_and_value_line_from_the_learners_week(database_url: str) -> None:
    """A fifth right answer in a row at a skill is "mastered"; the line counts this week's verbs."""
    with psycopg.connect(database_url) as conn:
        learner = new_learner(conn, "15550001002")
        add_attempts(conn, learner, "conjugation:indicative.present", ["wrong"], "ser")
        for verb in ("hablar", "comer", "vivir", "tener"):
            add_attempts(conn, learner, "conjugation:indicative.present", ["correct"], verb)
        made = POLICY.consider(conn, learner, [EASY], streak=1)
        assert made is not None
        assert made.moment == "skill_mastered"
        assert made.progress == WeekProgress(verbs=4, right=5, tenses=1)
        stored = conn.execute("SELECT value_line FROM offers WHERE learner_id = %s", (learner,)).fetchone()
    assert stored == ("Esta semana ya conjugaste bien 4 verbos distintos y acertaste 5 ejercicios",)


def test_due_followups_choose_the_channel_whatsapp_allows(database_url: str) -> None:
    """Inside the 24 h window: voice for voice learners, else text; outside it a template only with
    consent; declined, paying and "stop promotions" learners are not followed up."""
    offered = datetime.now(UTC) - timedelta(days=1, minutes=5)
    with psycopg.connect(database_url) as conn:
        voice = new_learner(conn, "15550001003", voice=True)
        text = new_learner(conn, "15550001004")
        template = new_learner(conn, "15550001005", consent=True)
        silent = new_learner(conn, "15550001006")
        declined = new_learner(conn, "15550001007")
        paying = new_learner(conn, "15550001008")
        no_promotions = new_learner(conn, "15550001014", voice=True, consent=True)
        for learner in (voice, text, template, silent, declined, paying, no_promotions):
            assert POLICY.consider(conn, learner, [HARD], streak=5, now=offered) is not None
        conn.execute(
            "UPDATE learners SET last_inbound_at = %s WHERE id = ANY(%s)",
            (datetime.now(UTC) - timedelta(hours=30), [template, silent]),
        )
        record_response(conn, declined, "declined")
        conn.execute("UPDATE learners SET plan = 'premium' WHERE id = %s", (paying,))
        conn.execute("UPDATE learners SET marketing_opt_out = true WHERE id = %s", (no_promotions,))
        due = {f.learner_id: f for f in due_followups(conn, "espaluz_plus_followup")}
    assert due[voice].channel == "voice"
    assert due[text].channel == "text"
    assert (due[template].channel, due[template].template) == ("template", "espaluz_plus_followup")
    assert due[silent].channel == "skip"
    assert declined not in due
    assert due[paying].channel == "skip"
    assert due[no_promotions].channel == "skip"
    assert "plan" in due[text].text


def test_report_counts_offers_and_conversions(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        a = new_learner(conn, "15550001009")
        b = new_learner(conn, "15550001010")
        for verb in ("hablar", "comer", "vivir", "tener"):
            add_attempts(conn, a, "conjugation:indicative.present", ["correct"], verb)
        assert POLICY.consider(conn, a, [EASY], streak=1) is not None  # skill mastered
        assert POLICY.consider(conn, b, [EASY], streak=5) is not None
        conn.execute("UPDATE offers SET converted_at = now() WHERE learner_id = %s", (a,))
        data = report(conn, datetime.now(UTC) - timedelta(days=1))
    assert (data["offers"], data["converted"], data["conversion_rate"]) == (2, 1, 0.5)
    assert data["by_moment"]["skill_mastered"]["conversion_rate"] == 1.0
    assert data["by_moment"]["streak"]["conversion_rate"] == 0.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_entitlement_cache_and_free_turn_count(database_url: str) -> None:
    """A paid plan is cached briefly (a downgrade is seen after the TTL); free turns are counted from the
    turns table; a refusal re-reads the plan, so a stale "free" never blocks a learner who just paid."""
    catalog = Catalog.from_settings(Settings(billing_free_turns_per_day=2))
    clock = FakeClock()
    checker = EntitlementChecker(get_pool(database_url), catalog, ttl_seconds=60, clock=clock)
    with psycopg.connect(database_url) as conn:
        learner = new_learner(conn, "15550001011")
        for i, route in enumerate(("engine.ask", "engine.check", "llm.grammar_question", "command.progress")):
            conn.execute(
                "INSERT INTO turns (wamid, learner_id, received_at, route) VALUES (%s, %s, %s, %s)",
                (f"w{i}", learner, datetime.now(UTC), route),
            )
    access = checker.check_turn(learner)
    assert (access.allowed, access.used, access.limit) == (False, 3, 2)

    with psycopg.connect(database_url) as conn:
        conn.execute(
            """INSERT INTO entitlements (learner_id, plan, status) VALUES (%s, 'premium', 'active')""",
            (learner,),
        )
    assert checker.check_turn(learner).allowed  # the refusal path read the plan again
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "UPDATE entitlements SET plan = 'free', status = 'canceled' WHERE learner_id = %s", (learner,)
        )
    assert checker.check_turn(learner).allowed  # still cached as paid
    clock.now += 61
    assert not checker.check_turn(learner).allowed


def test_free_turns_are_counted_per_utc_day_on_the_given_clock(database_url: str) -> None:
    """Time: the free tier's day is the checker's wall clock's day (UTC), whatever the date the suite runs
    on: the limit reached late one evening is lifted at midnight, and a turn after midnight counts."""
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=3)
    wall = {"now": midnight - timedelta(minutes=1)}
    catalog = Catalog.from_settings(Settings(billing_free_turns_per_day=2))
    checker = EntitlementChecker(
        get_pool(database_url), catalog, ttl_seconds=0, wall_clock=lambda: wall["now"]
    )

    def turn(wamid: str, at: datetime) -> None:
        with psycopg.connect(database_url) as conn:
            conn.execute(
                """INSERT INTO turns (wamid, learner_id, received_at, route)
                   VALUES (%s, %s, %s, 'engine.check')""",
                (wamid, learner, at),
            )

    with psycopg.connect(database_url) as conn:
        learner = new_learner(conn, "15550001015")
    for i in range(3):
        turn(f"d{i}", midnight - timedelta(minutes=3))
    before = checker.check_turn(learner)
    assert (before.allowed, before.used) == (False, 3)
    wall["now"] = midnight + timedelta(minutes=2)
    turn("d3", midnight + timedelta(minutes=1))
    after = checker.check_turn(learner)
    assert (after.allowed, after.used, after.last) == (True, 1, True)


@pytest.mark.parametrize(("hours_past_end", "plan"), [(-1, "premium"), (23, "premium"), (25, "free")])
def test_cancel_at_period_end_keeps_the_plan_until_the_period_ends(
    database_url: str, hours_past_end: int, plan: str
) -> None:
    """If Stripe's final deletion event never arrives, a cancelled plan still ends a day after the period."""
    checker = EntitlementChecker(get_pool(database_url), Catalog.from_settings(Settings()), ttl_seconds=0)
    with psycopg.connect(database_url) as conn:
        learner = new_learner(conn, "15550001012")
        conn.execute(
            """INSERT INTO entitlements (learner_id, plan, status, valid_until, cancel_at_period_end)
               VALUES (%s, 'premium', 'active', %s, true)""",
            (learner, datetime.now(UTC) - timedelta(hours=hours_past_end)),
        )
    assert checker.entitlement(learner).plan == plan


def test_followups_command_lists_due_followups(database_url: str) -> None:
    """``espaluz billing followups --json``: one line per due follow-up with its channel; nothing sent."""
    import json

    from click.testing import CliRunner

    from espaluz.cli import main

    with psycopg.connect(database_url) as conn:
        learner = new_learner(conn, "15550001013")
        made = POLICY.consider(conn, learner, [HARD], streak=5, now=datetime.now(UTC) - timedelta(days=2))
        assert made is not None
    result = CliRunner().invoke(main, ["billing", "followups", "--json"], env={"DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    [row] = [json.loads(line) for line in result.output.splitlines()]
    # The learner wrote just now (upsert), so the follow-up may go inside the window as text.
    assert (row["learner_id"], row["channel"]) == (str(learner), "text")
    with psycopg.connect(database_url) as conn:
        status = conn.execute("SELECT followup_status FROM offers").fetchone()
    assert status == ("scheduled",)


def test_billing_migration_rolls_back_and_reapplies(database_url: str) -> None:
    """0002.billing's rollback drops exactly its tables (learners and stripe_events stay), and the
    migration applies again after it."""
    from espaluz.storage.postgres import MIGRATIONS_DIR

    up = (MIGRATIONS_DIR / "0002.billing.sql").read_text()
    down = (MIGRATIONS_DIR / "0002.billing.rollback.sql").read_text()
    ours = {"billing_customers", "subscriptions", "entitlements", "offers", "offer_preferences"}

    def tables(conn: psycopg.Connection[Any]) -> set[str]:
        return {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}

    with psycopg.connect(database_url) as conn:
        assert ours <= tables(conn)
        conn.execute(down)
        assert not ours & tables(conn)
        assert {"learners", "stripe_events"} <= tables(conn)
        conn.execute(up)
        assert ours <= tables(conn)
