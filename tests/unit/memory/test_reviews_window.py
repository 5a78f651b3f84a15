"""When a due review may be delivered: only inside WhatsApp's 24-hour window, never by template."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from espaluz.memory.reviews import CLOSING_MARGIN, PULL_AHEAD, WINDOW, delivery_time

T = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def test_due_inside_the_open_window_is_delivered_when_due() -> None:
    assert delivery_time(T + timedelta(hours=2), T + timedelta(hours=1), T) == T + timedelta(hours=2)
    assert delivery_time(T - timedelta(days=3), T + timedelta(hours=1), T) == T + timedelta(hours=1)


def test_due_shortly_after_the_window_closes_is_pulled_forward_before_it_closes() -> None:
    closes = T + WINDOW
    assert delivery_time(closes + timedelta(hours=2), T + timedelta(hours=1), T) == closes - CLOSING_MARGIN
    # already past that point: right away
    late = closes - timedelta(minutes=5)
    assert delivery_time(closes + timedelta(hours=2), late, T) == late


def test_due_long_after_the_window_waits_for_the_learner() -> None:
    assert delivery_time(T + WINDOW + PULL_AHEAD + timedelta(minutes=1), T, T) is None


def test_a_closed_or_never_opened_window_means_waiting() -> None:
    """Out-of-window sends need a paid template; reviews wait for the learner's own message instead."""
    assert delivery_time(T, T + WINDOW, T) is None
    assert delivery_time(T, T + WINDOW + timedelta(days=2), T) is None
    assert delivery_time(T, T, None) is None
