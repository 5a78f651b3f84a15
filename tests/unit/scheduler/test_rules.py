"""The scheduler's pure rules: quiet hours (wrapping past midnight or not), the (zone, hour) pairs a pass
matches reminder hours against, re-engagement steps, a day's slot on the learner's clock, the 24-hour
window, and the zone a phone number's country code gives (NANP territories by area code, business-scoped
learners without a number, malformed or unknown numbers, unknown zone names).

The instants below are fixed because these functions read no clock: they hold on any day.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from espaluz.config import Settings
from espaluz.scheduler.rules import WINDOW, WINDOW_MARGIN, Rules, day_slot, in_window
from espaluz.scheduler.zones import DEFAULT_ZONE, known_zones, local, valid_zone, zone_for


@pytest.mark.parametrize(
    ("hour", "quiet"),
    [(22, True), (23, True), (0, True), (3, True), (7, True), (8, False), (12, False), (21, False)],
)
def test_default_quiet_hours_wrap_past_midnight(hour: int, quiet: bool) -> None:
    assert Rules().quiet(hour) is quiet


def test_quiet_hours_that_do_not_wrap_and_none_at_all() -> None:
    rules = Rules(quiet_from=1, quiet_to=5)
    assert [h for h in range(24) if rules.quiet(h)] == [1, 2, 3, 4]
    assert not any(Rules(quiet_from=9, quiet_to=9).quiet(h) for h in range(24))


def test_rules_from_settings_parse_quiet_hours_and_reengage_days() -> None:
    settings = Settings(
        scheduler_quiet_hours="23-7",
        scheduler_reengage_days="10, 3,",
        scheduler_daily_cap=1,
        scheduler_idle_minutes=5,
        scheduler_review_after_hours=4,
        scheduler_batch=10,
    )
    rules = Rules.from_settings(settings)
    assert (rules.quiet_from, rules.quiet_to) == (23, 7)
    assert rules.reengage_days == (3, 10)  # sorted: the first day is the first step
    assert rules.daily_cap == 1
    assert rules.idle == timedelta(minutes=5)
    assert rules.review_after == timedelta(hours=4)
    assert rules.batch == 10
    assert Rules.from_settings(Settings(scheduler_reengage_days="")).reengage_days == (3, 10)


def test_hour_pairs_give_each_awake_zone_its_local_hour() -> None:
    now = datetime(2026, 1, 15, 1, 0, tzinfo=UTC)  # 19:00 in Mexico City, 02:00 in Madrid
    rules = Rules()
    zones, hours = rules.hour_pairs(now)
    pairs = dict(zip(zones, hours, strict=True))
    assert pairs["America/Mexico_City"] == 19
    assert "Europe/Madrid" not in pairs  # quiet there
    assert all(not rules.quiet(h) for h in hours)
    assert all(local(now, z).hour == h for z, h in pairs.items())
    assert set(rules.awake_zones(now)) == set(zones)
    assert set(zones) | {z for z in known_zones() if rules.quiet(local(now, z).hour)} == set(known_zones())


def test_a_reminder_hour_inside_quiet_hours_is_never_a_pair() -> None:
    rules = Rules()
    start = datetime(2026, 6, 1, tzinfo=UTC)
    for step in range(0, 24 * 4):  # every quarter hour of a day
        _, hours = rules.hour_pairs(start + timedelta(minutes=15 * step))
        assert not any(rules.quiet(h) for h in hours)


@pytest.mark.parametrize(("days", "step"), [(0, 0), (2.9, 0), (3, 1), (9.9, 1), (10, 2), (20, 2)])
def test_reengage_steps(days: float, step: int) -> None:
    assert Rules().reengage_step(timedelta(days=days)) == step


def test_day_slot_is_the_local_date_of_each_zone() -> None:
    now = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)
    assert day_slot(now, "America/Mexico_City") == "2026-02-28"
    assert day_slot(now, "Europe/Madrid") == "2026-03-01"
    assert day_slot(now, "Pacific/Auckland") == "2026-03-01"
    assert day_slot(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), "Pacific/Auckland") == "2026-03-02"
    assert day_slot(now, None) == day_slot(now, DEFAULT_ZONE)
    assert day_slot(now, "Not/AZone") == day_slot(now, DEFAULT_ZONE)  # unknown reads as the default


def test_in_window_closes_a_margin_before_the_24_hours() -> None:
    now = datetime(2026, 5, 5, 12, 0, tzinfo=UTC)
    assert in_window(now - timedelta(hours=8), now)
    assert in_window(now - WINDOW + WINDOW_MARGIN + timedelta(seconds=1), now)
    assert not in_window(now - WINDOW + WINDOW_MARGIN, now)
    assert not in_window(now - timedelta(hours=30), now)
    assert not in_window(None, now)


@pytest.mark.parametrize(
    ("wa_id", "zone"),
    [
        ("5215512345678", "America/Mexico_City"),  # Mexican mobile (+52 1 55...)
        ("+525512345678", "America/Mexico_City"),
        ("34612345678", "Europe/Madrid"),
        ("5491123456789", "America/Argentina/Buenos_Aires"),
        ("573001234567", "America/Bogota"),
        ("51987654321", "America/Lima"),
        ("56912345678", "America/Santiago"),
        ("50688887777", "America/Costa_Rica"),
        ("17875551234", "America/Puerto_Rico"),  # NANP: Puerto Rico by area code
        ("19395551234", "America/Puerto_Rico"),
        ("18095551234", "America/Santo_Domingo"),  # NANP: Dominican Republic's three area codes
        ("18295551234", "America/Santo_Domingo"),
        ("18495551234", "America/Santo_Domingo"),
        ("12125551234", "America/New_York"),  # the rest of NANP
        ("447911123456", "Europe/London"),
        ("5511912345678", "America/Sao_Paulo"),
        ("61412345678", "Australia/Sydney"),
    ],
)
def test_zone_for_a_country_code(wa_id: str, zone: str) -> None:
    assert zone_for(wa_id) == zone
    assert valid_zone(zone)


@pytest.mark.parametrize("wa_id", [None, "", "+", "52", "9991234567", "0001234"])
def test_zone_for_no_or_unknown_number_is_the_default(wa_id: str | None) -> None:
    """A BSUID-only learner has no number (None); a bare or unknown code is not a country."""
    assert zone_for(wa_id) == DEFAULT_ZONE


def test_valid_zone() -> None:
    assert valid_zone("America/Mexico_City")
    assert not valid_zone("localtime")  # the machine's zone, not a place
    assert not valid_zone("Factory")
    assert not valid_zone("Mars/Olympus_Mons")
    assert not valid_zone("")
