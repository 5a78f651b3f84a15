"""Review items: a correction becomes a drill that returns when FSRS says so, inside the 24-hour window.

When a learner gets an item wrong, the item (prompt, accepted answers, what they wrote) becomes a review
item with its own FSRS card, rated Again. Each later answer to it is a review (Good or Again), and FSRS
moves its due time out as the learner gets it right.

Delivery respects WhatsApp's customer-service window: a free-form message may go out only within 24 hours
of the learner's last message. So a due review goes out in the learner's next turn while the window is
open; one that falls due shortly after the window closes is pulled forward to before it closes (a little
early costs little retrievability; a template costs money and goodwill); anything else waits until the
learner writes again, which reopens the window. Reviews never produce a stream of templates.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from fsrs import Card, Rating
from psycopg.rows import dict_row

from espaluz.memory.skills import SCHEDULER, new_card, retrievability

if TYPE_CHECKING:
    from uuid import UUID

    import psycopg

logger = logging.getLogger(__name__)

WINDOW = timedelta(hours=24)
PULL_AHEAD = timedelta(hours=6)  # how far past the window's end a review may be pulled forward
CLOSING_MARGIN = timedelta(minutes=30)  # deliver pulled-forward reviews this long before the window closes


@dataclass(frozen=True, slots=True)
class ReviewItem:
    id: int
    learner_id: UUID
    skill: str
    prompt: str
    expected: tuple[str, ...]
    wrong_answer: str
    card: Card
    reviews: int
    memory_id: int | None
    due: datetime


def _item(row: dict[str, Any]) -> ReviewItem:
    return ReviewItem(
        id=int(row["id"]),
        learner_id=row["learner_id"],
        skill=row["skill"],
        prompt=row["prompt"],
        expected=tuple(row["expected"].split("|")),
        wrong_answer=row["wrong_answer"],
        card=Card.from_json(json.dumps(row["card"])),
        reviews=int(row["reviews"]),
        memory_id=row["memory_id"],
        due=row["due"].astimezone(UTC),
    )


_COLUMNS = "id, learner_id, skill, prompt, expected, wrong_answer, card, reviews, memory_id, due"


def add_correction(
    conn: psycopg.Connection[Any],
    learner_id: UUID,
    *,
    skill: str,
    prompt: str,
    expected: str,
    wrong_answer: str,
    memory_id: int | None = None,
    now: datetime | None = None,
) -> ReviewItem:
    """Turn an error into a review item (rated Again). The same prompt failed again is the same item,
    reviewed Again once more, not a second item."""
    now = now or datetime.now(UTC)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"""SELECT {_COLUMNS} FROM review_items
                WHERE learner_id = %s AND skill = %s AND prompt = %s FOR UPDATE""",  # noqa: S608
            (learner_id, skill, prompt),
        )
        row = cur.fetchone()
        card = _item(row).card if row else new_card(now)
        at = max(now, card.last_review) if card.last_review else now
        card, _ = SCHEDULER.review_card(card, Rating.Again, review_datetime=at.astimezone(UTC))
        cur.execute(
            f"""INSERT INTO review_items (learner_id, skill, prompt, expected, wrong_answer, memory_id,
                                          card, due, created_at)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
                ON CONFLICT (learner_id, skill, prompt) DO UPDATE SET
                    wrong_answer = EXCLUDED.wrong_answer,
                    memory_id = COALESCE(EXCLUDED.memory_id, review_items.memory_id),
                    card = EXCLUDED.card, due = EXCLUDED.due, reviews = review_items.reviews + 1
                RETURNING {_COLUMNS}""",  # noqa: S608
            (learner_id, skill, prompt, expected, wrong_answer, memory_id, card.to_json(), card.due, now),
        )
        created = cur.fetchone()
    assert created is not None
    return _item(created)


def answer_review(
    conn: psycopg.Connection[Any], learner_id: UUID, item_id: int, correct: bool, now: datetime | None = None
) -> ReviewItem | None:
    """Record the learner's answer to a review item (Good or Again); None if it is not theirs."""
    now = now or datetime.now(UTC)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT {_COLUMNS} FROM review_items WHERE id = %s AND learner_id = %s FOR UPDATE",  # noqa: S608
            (item_id, learner_id),
        )
        row = cur.fetchone()
        if row is None:
            return None
        card = _item(row).card
        at = max(now, card.last_review) if card.last_review else now
        rating = Rating.Good if correct else Rating.Again
        card, _ = SCHEDULER.review_card(card, rating, review_datetime=at.astimezone(UTC))
        cur.execute(
            f"""UPDATE review_items SET card = %s, due = %s, reviews = reviews + 1
                WHERE id = %s RETURNING {_COLUMNS}""",  # noqa: S608
            (card.to_json(), card.due, item_id),
        )
        updated = cur.fetchone()
    assert updated is not None
    return _item(updated)


def find_open_item(
    conn: psycopg.Connection[Any], learner_id: UUID, skill: str, prompt: str
) -> ReviewItem | None:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"""SELECT {_COLUMNS} FROM review_items
                WHERE learner_id = %s AND skill = %s AND prompt = %s""",  # noqa: S608
            (learner_id, skill, prompt),
        )
        row = cur.fetchone()
    return _item(row) if row else None


def delivery_time(
    due: datetime, now: datetime, last_inbound_at: datetime | None, pull_ahead: timedelta = PULL_AHEAD
) -> datetime | None:
    """When a review due at ``due`` should be delivered, or None: wait for the learner's next message.

    - window closed (or never opened): None; the learner's own message reopens it.
    - due now or before the window closes: at ``max(due, now)``.
    - due within ``pull_ahead`` after the window closes: pulled forward to just before it closes.
    - later: None.
    """
    if last_inbound_at is None:
        return None
    closes = last_inbound_at + WINDOW
    if now >= closes:
        return None
    if due <= closes:
        return max(due, now)
    if due - closes <= pull_ahead:
        return max(now, closes - CLOSING_MARGIN)
    return None


def deliverable_reviews(
    conn: psycopg.Connection[Any],
    learner_id: UUID,
    now: datetime,
    last_inbound_at: datetime | None,
    limit: int = 1,
) -> list[ReviewItem]:
    """Review items to put in the learner's turn at ``now``, most forgotten first."""
    if last_inbound_at is None or now >= last_inbound_at + WINDOW:
        return []
    horizon = last_inbound_at + WINDOW + PULL_AHEAD
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"""SELECT {_COLUMNS} FROM review_items
                WHERE learner_id = %s AND due <= %s ORDER BY due""",  # noqa: S608
            (learner_id, horizon),
        )
        items = [_item(r) for r in cur.fetchall()]
    ready = [
        i for i in items if (when := delivery_time(i.due, now, last_inbound_at)) is not None and when <= now
    ]
    ready.sort(key=lambda i: retrievability(i.card, now))
    return ready[:limit]


def mark_delivered(conn: psycopg.Connection[Any], item_id: int, now: datetime) -> None:
    conn.execute("UPDATE review_items SET last_delivered_at = %s WHERE id = %s", (now, item_id))
