"""The progress message's streak line agrees in number in Spanish (found holding a first-day chat:
"1 día seguidos")."""

from __future__ import annotations

import pytest

from espaluz.tutor.commands.progress import Progress, report


def _progress(streak: int) -> Progress:
    return Progress(
        verbs_week=(), words_week=0, answers_week=0, right_week=0, skills=(), streak_days=streak,
        active_days_week=min(streak, 7),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("streak", "line"),
    [(0, "Racha: *0* días seguidos"), (1, "Racha: *1* día seguido"), (4, "Racha: *4* días seguidos 🔥")],
)
def test_the_streak_agrees_with_its_number(streak: int, line: str) -> None:
    text = report(_progress(streak), "es")
    assert line in text
    assert "día seguidos" not in text
