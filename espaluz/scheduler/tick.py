"""One scheduler pass: what is due for whom at a given time, claimed once and put on the tutor's queue.

A pass (the ``scheduler`` Lambda every few minutes, the local stack every minute, ``espaluz tick --at``):

1. fills the timezone of learners who have none yet (from their phone's country code);
2. selects, in priority order (:data:`~espaluz.scheduler.rules.KINDS`), at most one message per learner:
   - ``followup``: an offer's next-day follow-up that is due (``offers.followup_due_at``);
   - ``review``: FSRS says a skill card or a past correction is due, the learner has been quiet for
     ``SCHEDULER_REVIEW_AFTER_HOURS``; inside the 24-hour window at any waking hour, outside it (for up to
     the first re-engagement day) at their reminder hour, as a template, with consent to reminders;
     at most one review a day, and none on a day a reminder went (one nudge a day, not two in a row);
   - ``reminder``: consent to reminders, their reminder hour now, no message from them today (local),
     silent for less than the first re-engagement day, no review sent today;
   - ``reengage``: silent for ``SCHEDULER_REENGAGE_DAYS`` (3, then 10, then nothing more), at their
     reminder hour, unless they declined reminders or stopped marketing messages;
   every kind only outside quiet hours, not within ``SCHEDULER_IDLE_MINUTES`` of their last message,
   under the daily cap, hours after the previous one (``SCHEDULER_GAP_HOURS``), never after STOP
   (``espaluz.scheduler.rules``);
3. inserts one ``proactive_messages`` row per choice (its primary key is learner, kind and slot: a row that
   exists is not chosen again, and of two overlapping passes only one inserts it) and enqueues one envelope
   per row in the learner's FIFO group, in the same transaction: if the queue refuses, the rows roll back
   and the next pass tries again. The envelope's id is the slot's, so the tutor's ledger sends it at most
   once even if a commit fails after the enqueue and the next pass enqueues it again.

Every query is bounded (``SCHEDULER_BATCH`` per kind) and uses an index: follow-ups start from the due
offers (``offers_followup_due``), the others from a range of ``last_inbound_at`` (``learners_last_inbound``,
or ``learners_reminder_slot`` where the planner prefers it); the reminder hour is matched as
``(timezone, reminder_hour)`` against the pairs computed in Python for ``now``, and each zone's local date
and midnight come from Python too: no zone arithmetic in Postgres, whose zone names may differ from the
``tzdata`` package's. Sent rows are found by ``proactive_messages``' primary key, the daily cap by
``proactive_messages_learner_queued``. ``bench/bench_scheduler.py`` measures it over 100,000 learners.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from espaluz.scheduler.rules import KINDS, WINDOW, WINDOW_MARGIN, Kind, Rules, day_slot
from espaluz.scheduler.zones import local, zone_for

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

    from espaluz.config import Settings
    from espaluz.queue.base import Queue

logger = logging.getLogger(__name__)

FILL_BATCH = 10_000  # 100,000 learners without a zone (migration 0008) are filled in 10 passes


@dataclass(frozen=True, slots=True)
class Due:
    """A message the pass chose: for whom (and their FIFO group), what kind, for which slot."""

    learner_id: UUID
    group: str
    kind: Kind
    slot: str
    offer_id: UUID | None = None

    @property
    def message_id(self) -> str:
        """The envelope's id (the turn ledger's key): stable for the learner, kind and slot."""
        return f"tick.{self.kind}.{self.learner_id}.{self.slot}"


@dataclass(frozen=True, slots=True)
class TickResult:
    at: datetime
    selected: int = 0
    queued: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    timezones_filled: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "selected": self.selected,
            "queued": self.queued,
            "by_kind": self.by_kind,
            "timezones_filled": self.timezones_filled,
        }


def run_tick(pool: ConnectionPool, queue: Queue, rules: Rules, now: datetime) -> TickResult:
    """One pass at ``now`` (aware). Raises ``QueueError`` when the queue refuses (nothing is claimed)."""
    from espaluz.whatsapp.inbound import proactive_message

    with pool.connection() as conn:
        filled = fill_timezones(conn)
        with conn.transaction():
            due = select_due(conn, now, rules)
            claimed = claim(conn, due, now)
            if claimed:
                queue.send_batch(
                    [
                        proactive_message(
                            d.message_id,
                            str(d.learner_id),
                            {
                                "kind": d.kind,
                                "slot": d.slot,
                                "at": now.isoformat(),
                                "offer_id": _str(d.offer_id),
                            },
                            d.group,
                        )
                        for d in claimed
                    ]
                )
    by_kind: dict[str, int] = dict(Counter(d.kind for d in claimed))
    logger.info("scheduler pass", extra={"selected": len(due), "queued": len(claimed), "by_kind": by_kind})
    return TickResult(now, len(due), len(claimed), by_kind, filled)


def parse_at(value: object) -> datetime:
    """A pass's time as operators and tools give it: ISO 8601, a time without a zone read as UTC.
    Raises ``ValueError`` otherwise, so a mistyped time fails loudly instead of running at the wrong hour."""
    at = datetime.fromisoformat(str(value))
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def tick_from_settings(settings: Settings, now: datetime | None = None) -> TickResult:
    """The pass wired from settings (the Lambda, the local stack and ``espaluz tick`` alike)."""
    from espaluz.queue.factory import LOCAL_SCHEME, queue_from_url
    from espaluz.storage.postgres import get_pool

    redis_client = None
    if settings.queue_url.startswith(LOCAL_SCHEME):
        from espaluz.storage.redis import get_redis

        redis_client = get_redis(settings.redis_url, cluster=settings.redis_cluster)
    queue = queue_from_url(settings.queue_url, redis_client)
    return run_tick(
        get_pool(settings.database_url), queue, Rules.from_settings(settings), now or datetime.now(UTC)
    )


def fill_timezones(conn: psycopg.Connection[Any], limit: int = FILL_BATCH) -> int:
    """Give up to ``limit`` learners without a timezone their country's (``zones.zone_for``), in one
    statement, and commit; returns how many. A learner without one is never selected: the first passes
    after migration 0008 fill everyone (``FILL_BATCH`` a pass) before anyone is due."""
    rows = conn.execute("SELECT id, wa_id FROM learners WHERE timezone IS NULL LIMIT %s", (limit,)).fetchall()
    if rows:
        conn.execute(
            """UPDATE learners l SET timezone = f.zone
               FROM unnest(%s::uuid[], %s::text[]) AS f(id, zone)
               WHERE l.id = f.id AND l.timezone IS NULL""",
            ([learner_id for learner_id, _ in rows], [zone_for(wa_id) for _, wa_id in rows]),
        )
    conn.commit()
    return len(rows)


def select_due(conn: psycopg.Connection[Any], now: datetime, rules: Rules) -> list[Due]:
    """At most one message per learner at ``now``, the first kind of :data:`KINDS` that is due."""
    params = _params(now, rules)
    chosen: dict[UUID, Due] = {}
    for kind in KINDS:
        # Not prepared: after five runs psycopg prepares a statement and Postgres may switch to a generic
        # plan, which the bench measured 3-10 times slower here (the parameters decide the best index).
        for row in conn.execute(_QUERIES[kind], params, prepare=False).fetchall():
            learner_id, group, zone, extra = row
            if learner_id in chosen:
                continue
            slot, offer = _slot(kind, now, zone, extra, rules)
            if slot:
                chosen[learner_id] = Due(learner_id, group or str(learner_id), kind, slot, offer)
    return list(chosen.values())


def claim(conn: psycopg.Connection[Any], due: list[Due], now: datetime) -> list[Due]:
    """Insert the chosen rows; returns those this pass inserted (another pass may have taken the rest)."""
    if not due:
        return []
    # Rows are inserted in key order: two passes inserting the same keys in different orders (ties in a
    # selection's ORDER BY) would otherwise wait on each other and one would fail with a deadlock.
    ordered = sorted(due, key=lambda d: (d.learner_id, d.kind, d.slot))
    with conn.cursor() as cur:
        taken: set[tuple[UUID, str, str]] = set()
        for chunk in range(0, len(ordered), 1000):
            part = ordered[chunk : chunk + 1000]
            cur.execute(
                """INSERT INTO proactive_messages (learner_id, kind, slot, queued_at)
                   SELECT * FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::timestamptz[])
                   ON CONFLICT DO NOTHING RETURNING learner_id, kind, slot""",
                (
                    [d.learner_id for d in part],
                    [d.kind for d in part],
                    [d.slot for d in part],
                    [now] * len(part),
                ),
            )
            taken |= {(r[0], r[1], r[2]) for r in cur.fetchall()}
    return [d for d in due if (d.learner_id, d.kind, d.slot) in taken]


def _params(now: datetime, rules: Rules) -> dict[str, Any]:
    """The selection queries' parameters at ``now`` (every zone computation done once, in Python)."""
    from psycopg.types.json import Jsonb

    zones, hours = rules.hour_pairs(now)
    awake = rules.awake_zones(now)
    return {
        "now": now,
        "awake": awake,
        "today": Jsonb(_local_dates(now, awake)),
        "midnight": Jsonb(_local_midnights(now, awake)),
        "zones": zones,
        "hours": hours,
        "idle_before": now - rules.idle,
        "day_ago": now - timedelta(days=1),
        "cap": rules.daily_cap,
        "gap_after": now - rules.gap,
        "batch": rules.batch,
        "window_from": now - WINDOW + WINDOW_MARGIN,
        "quiet_before": now - rules.review_after,
        "first_silence": now - timedelta(days=rules.reengage_days[0]),
        "oldest_silence": now - timedelta(days=rules.reengage_days[-1] + 2),
        "silences": [now - timedelta(days=d) for d in rules.reengage_days],
    }


def _local_dates(now: datetime, zones: list[str]) -> dict[str, str]:
    """Each zone's local date at ``now``, as :func:`day_slot` writes it (the review and reminder slot)."""
    return {zone: day_slot(now, zone) for zone in zones}


def _local_midnights(now: datetime, zones: list[str]) -> dict[str, str]:
    """When each zone's local day began (an ISO instant): a message after it was sent "today"."""
    return {
        zone: local(now, zone).replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC).isoformat()
        for zone in zones
    }


def _slot(kind: Kind, now: datetime, zone: str, extra: Any, rules: Rules) -> tuple[str, UUID | None]:
    if kind == "followup":
        return str(extra), extra
    if kind == "reengage":
        step = rules.reengage_step(now - extra)
        return (f"{step}.{extra.astimezone(UTC).date().isoformat()}" if step else ""), None
    return day_slot(now, zone), None


# What every kind shares: not after STOP, a known zone where it is not quiet now, not mid-conversation,
# under the daily cap. ``%(...)s`` parameters come from ``select_due``.
_COMMON = """
    l.opted_out_at IS NULL
    AND l.timezone = ANY(%(awake)s)
    AND (l.last_inbound_at IS NULL OR l.last_inbound_at <= %(idle_before)s)
    AND (SELECT count(*) FROM proactive_messages c
         WHERE c.learner_id = l.id AND c.queued_at > %(day_ago)s AND c.status <> 'skipped') < %(cap)s
    AND NOT EXISTS (SELECT 1 FROM proactive_messages g
                    WHERE g.learner_id = l.id AND g.queued_at > %(gap_after)s AND g.status <> 'skipped')
"""
_AT_REMINDER_HOUR = """
    (l.timezone, l.reminder_hour) IN (SELECT * FROM unnest(%(zones)s::text[], %(hours)s::int[]))
"""


def _not_sent(kind: str, slot_sql: str) -> str:
    return f"""NOT EXISTS (SELECT 1 FROM proactive_messages p
                           WHERE p.learner_id = l.id AND p.kind = '{kind}' AND p.slot = {slot_sql})"""  # noqa: S608


# The learner's local date and the instant their local day began, computed in Python for every awake zone
# (``_local_dates``, ``_local_midnights``): the same zone rules as ``day_slot``, and no zone arithmetic in
# Postgres, whose zone names and rules may differ from the ``tzdata`` package's (a zone it does not know
# would make every pass fail).
_TODAY = "(%(today)s::jsonb ->> l.timezone)"
_MIDNIGHT = "(%(midnight)s::jsonb ->> l.timezone)::timestamptz"
# A due card or correction is looked up per candidate in ``(learner_id, due)`` indexes: one EXISTS over a
# UNION ALL, since ``EXISTS ... OR EXISTS ...`` lets the planner hash every due review item of every learner.
# The re-engagement step a silence calls for and the (UTC) date of the last message: as ``_slot`` writes it.
_STEP = """((SELECT count(*) FROM unnest(%(silences)s::timestamptz[]) s WHERE l.last_inbound_at <= s)::text
           || '.' || ((l.last_inbound_at AT TIME ZONE 'UTC')::date)::text)"""

_QUERIES: dict[str, str] = {
    "followup": f"""
        SELECT l.id, l.learner_key, l.timezone, o.id
        FROM offers o JOIN learners l ON l.id = o.learner_id
        WHERE o.followup_status = 'scheduled' AND o.followup_due_at <= %(now)s AND {_COMMON}
          AND {_not_sent("followup", "o.id::text")}
        ORDER BY o.followup_due_at LIMIT %(batch)s""",  # noqa: S608 (module constants, not input)
    "review": f"""
        SELECT l.id, l.learner_key, l.timezone, NULL
        FROM learners l
        WHERE l.last_inbound_at > %(first_silence)s AND l.last_inbound_at <= %(quiet_before)s
          AND l.reminders_consent IS DISTINCT FROM false AND {_COMMON}
          AND (l.last_inbound_at > %(window_from)s OR (l.reminders_consent AND {_AT_REMINDER_HOUR}))
          AND EXISTS (SELECT 1 FROM skill_cards s WHERE s.learner_id = l.id AND s.due <= %(now)s
                      UNION ALL
                      SELECT 1 FROM review_items r WHERE r.learner_id = l.id AND r.due <= %(now)s)
          AND {_not_sent("review", _TODAY)} AND {_not_sent("reminder", _TODAY)}
        ORDER BY l.last_inbound_at LIMIT %(batch)s""",  # noqa: S608 (module constants, not input)
    "reminder": f"""
        SELECT l.id, l.learner_key, l.timezone, NULL
        FROM learners l
        WHERE l.reminders_consent AND {_AT_REMINDER_HOUR} AND {_COMMON}
          AND l.last_inbound_at > %(first_silence)s
          AND l.last_inbound_at < {_MIDNIGHT}
          AND {_not_sent("reminder", _TODAY)} AND {_not_sent("review", _TODAY)}
        ORDER BY l.last_inbound_at LIMIT %(batch)s""",  # noqa: S608 (module constants, not input)
    "reengage": f"""
        SELECT l.id, l.learner_key, l.timezone, l.last_inbound_at
        FROM learners l
        WHERE l.last_inbound_at <= %(first_silence)s AND l.last_inbound_at > %(oldest_silence)s
          AND l.reminders_consent IS DISTINCT FROM false AND NOT l.marketing_opt_out
          AND {_AT_REMINDER_HOUR} AND {_COMMON}
          AND {_not_sent("reengage", _STEP)}
        ORDER BY l.last_inbound_at LIMIT %(batch)s""",  # noqa: S608 (module constants, not input)
}


def _str(value: UUID | None) -> str | None:
    return None if value is None else str(value)


__all__ = [
    "Due",
    "TickResult",
    "claim",
    "fill_timezones",
    "parse_at",
    "run_tick",
    "select_due",
    "tick_from_settings",
]
