"""Each skill of each learner is an FSRS card (the ``fsrs`` package), stored in Postgres as JSON.

A practice answer on a skill is a review of its card: correct -> Good, partial (an accent missed) ->
Hard, wrong -> Again, a breakthrough -> Easy. FSRS then predicts retrievability (the chance the learner
still gets it right) as it decays with time; the card falls due when retrievability reaches the target
retention, which is when a review is worth the learner's time.

Fuzzing is off: a learner has tens of cards, not thousands, so there is no load to spread, and the same
history must give the same schedule (tests run on a simulated clock).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from fsrs import Card, Rating, Scheduler, State

from espaluz.memory.kinds import Performance

if TYPE_CHECKING:
    from uuid import UUID

    import psycopg

DESIRED_RETENTION = 0.9
# Mastered: out of the learning steps, with a memory that lasts (stability in days) and is still there.
MASTERED_STABILITY_DAYS = 5.0
MASTERED_RETRIEVABILITY = 0.8

SCHEDULER = Scheduler(
    desired_retention=DESIRED_RETENTION,
    learning_steps=(timedelta(minutes=10), timedelta(hours=1)),
    relearning_steps=(timedelta(minutes=10),),
    maximum_interval=365,
    enable_fuzzing=False,
)

RATING_FOR: dict[Performance, Rating] = {
    Performance.CORRECT: Rating.Good,
    Performance.PARTIAL: Rating.Hard,
    Performance.WRONG: Rating.Again,
}


def new_card(now: datetime) -> Card:
    return Card(card_id=int(now.timestamp() * 1000), due=now)


def retrievability(card: Card, now: datetime, scheduler: Scheduler = SCHEDULER) -> float:
    """FSRS's forgetting curve on fractional days (the package rounds elapsed time down to whole days,
    which would keep retrievability flat for the first 24 hours)."""
    if card.last_review is None or card.stability is None:
        return 0.0
    decay = -scheduler.parameters[20]
    factor = 0.9 ** (1 / decay) - 1
    elapsed_days = max(0.0, (now - card.last_review).total_seconds() / 86400.0)
    return float((1 + factor * elapsed_days / card.stability) ** decay)


@dataclass(frozen=True, slots=True)
class SkillStatus:
    skill: str
    card: Card
    reviews: int
    lapses: int
    retrievability: float

    @property
    def mastered(self) -> bool:
        return (
            self.card.state == State.Review
            and (self.card.stability or 0.0) >= MASTERED_STABILITY_DAYS
            and self.retrievability >= MASTERED_RETRIEVABILITY
        )

    @property
    def due(self) -> datetime:
        return self.card.due


def review_skill(
    conn: psycopg.Connection[Any],
    learner_id: UUID,
    skill: str,
    rating: Rating,
    now: datetime | None = None,
) -> SkillStatus:
    """Review the learner's card for ``skill`` (created on first use) and store it."""
    now = now or datetime.now(UTC)
    row = conn.execute(
        "SELECT card, reviews, lapses FROM skill_cards WHERE learner_id = %s AND skill = %s FOR UPDATE",
        (learner_id, skill),
    ).fetchone()
    card = Card.from_json(json.dumps(row[0])) if row else new_card(now)
    reviews, lapses = (int(row[1]), int(row[2])) if row else (0, 0)
    # A review "before" the last one (a late, out-of-order turn) is taken at the last review time.
    at = max(now, card.last_review) if card.last_review else now
    card, _ = SCHEDULER.review_card(card, rating, review_datetime=at.astimezone(UTC))
    lapses += int(rating == Rating.Again and reviews > 0)
    reviews += 1
    conn.execute(
        """INSERT INTO skill_cards (learner_id, skill, card, due, reviews, lapses, updated_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (learner_id, skill) DO UPDATE SET card = EXCLUDED.card, due = EXCLUDED.due,
               reviews = EXCLUDED.reviews, lapses = EXCLUDED.lapses, updated_at = EXCLUDED.updated_at""",
        (learner_id, skill, card.to_json(), card.due, reviews, lapses, now),
    )
    return SkillStatus(skill, card, reviews, lapses, retrievability(card, now))


def skill_statuses(
    conn: psycopg.Connection[Any], learner_id: UUID, now: datetime | None = None
) -> dict[str, SkillStatus]:
    """Every skill card of the learner with its retrievability at ``now``."""
    now = now or datetime.now(UTC)
    rows = conn.execute(
        "SELECT skill, card, reviews, lapses FROM skill_cards WHERE learner_id = %s", (learner_id,)
    ).fetchall()
    statuses = {}
    for skill, raw, reviews, lapses in rows:
        card = Card.from_json(json.dumps(raw))
        statuses[skill] = SkillStatus(skill, card, int(reviews), int(lapses), retrievability(card, now))
    return statuses


def due_skills(
    conn: psycopg.Connection[Any], learner_id: UUID, now: datetime | None = None
) -> list[SkillStatus]:
    """Skills whose retrievability has fallen to the target (FSRS due time passed), weakest first."""
    now = now or datetime.now(UTC)
    due = [s for s in skill_statuses(conn, learner_id, now).values() if s.due <= now]
    return sorted(due, key=lambda s: s.retrievability)
