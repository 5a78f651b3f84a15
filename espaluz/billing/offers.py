"""When to offer the paid plan, and what came of it.

Policy (measured in the design: contextual prompts converted 8.7% against 2.3% for a generic
"subscribe now"):

- only free learners, never in their first session (``FIRST_SESSION``: the first 24 hours after the
  learner first wrote), and only right after something worth praising: a skill mastered (the last
  ``MASTERY_RUN`` attempts at that skill all right) or a streak (every ``BILLING_OFFER_STREAK`` right
  answers in a row). A single right answer, however hard, is not enough;
- with a value line from the learner's own week in ``drill_attempts`` ("Esta semana ya conjugaste bien
  12 verbos distintos y acertaste 31 ejercicios"), in the learner's language when shown
  (``messages.value_line``) and in Spanish in ``offers.value_line``;
- at most once every ``BILLING_OFFER_COOLDOWN_DAYS``, and not within ``BILLING_OFFER_QUIET_DAYS_AFTER_NO``
  of a "no";
- with an optional time-limited bonus (a feature lent for ``BILLING_OFFER_BONUS_DAYS``), which
  ``entitlements.read_entitlement`` adds while it lasts; only a feature the plan really sells
  (``Catalog.lendable``: checked where it is used, and for pronunciation only with voice configured);
- a next-day follow-up recorded as scheduled; ``due_followups`` chooses who is due and how (a voice note
  where the learner receives voice, else text, inside the 24-hour window; outside it an approved template,
  only with consent; otherwise skipped). The scheduler (``espaluz.scheduler``) selects them when due and
  the tutor sends them (``espaluz.tutor.proactive``), choosing the channel with ``followup_channel``.

Offers, answers and conversions are rows in ``offers``; ``report`` computes the conversion rate.

Why no offer in the first session: a new learner spends it setting up and finding out what the tutor
does; being sold to before coming back even once reads as pushy and, by the design's measurements,
converts worst. A learner who returns the next day has shown the intent an offer can build on. (The
free tier's own notices, which carry the price, are not offers: they answer the learner's use.)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from espaluz.billing import messages

if TYPE_CHECKING:
    from collections.abc import Sequence

    import psycopg

    from espaluz.billing.plans import Catalog
    from espaluz.config import Settings

logger = logging.getLogger(__name__)

MASTERY_RUN = 5
FIRST_SESSION = timedelta(hours=24)
RIGHT = ("correct", "accent")
ATTRIBUTION_DAYS = 7
FOLLOWUP_AFTER = timedelta(days=1)
WINDOW = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class DrillResult:
    """What the policy needs from a turn's attempts (``espaluz.tutor.orchestrator.Attempt``)."""

    skill: str
    verdict: str


@dataclass(frozen=True, slots=True)
class WeekProgress:
    """The learner's last 7 days of drills, this turn included: distinct verbs conjugated right, right
    answers, and distinct verb tenses answered right."""

    verbs: int
    right: int
    tenses: int


@dataclass(frozen=True, slots=True)
class OfferMade:
    id: UUID
    moment: str
    progress: WeekProgress
    bonus: tuple[str, int] | None  # (feature, days) lent from now on


@dataclass(frozen=True, slots=True)
class OfferPolicy:
    cooldown: timedelta
    quiet_after_no: timedelta
    streak: int
    bonus_feature: str
    bonus_days: int

    first_session: timedelta = FIRST_SESSION

    @classmethod
    def from_settings(cls, settings: Settings, catalog: Catalog | None = None) -> OfferPolicy:
        """The policy from ``BILLING_OFFER_*``; the bonus is dropped when ``catalog`` does not really sell
        that feature (see ``Catalog.lendable``)."""
        bonus = settings.billing_offer_bonus_feature
        if bonus and catalog is not None and not catalog.lendable(bonus):
            bonus = ""
        return cls(
            cooldown=timedelta(days=settings.billing_offer_cooldown_days),
            quiet_after_no=timedelta(days=settings.billing_offer_quiet_days_after_no),
            streak=settings.billing_offer_streak,
            bonus_feature=bonus,
            bonus_days=settings.billing_offer_bonus_days,
        )

    def moment(
        self, conn: psycopg.Connection[Any], learner_id: UUID, attempts: Sequence[DrillResult], streak: int
    ) -> str | None:
        """The moment worth praising this turn is, if any (strongest first)."""
        right = [a for a in attempts if a.verdict in RIGHT]
        if not right:
            return None
        for attempt in right:
            if _mastered(conn, learner_id, attempt.skill):
                return "skill_mastered"
        if self.streak > 0 and streak >= self.streak and streak % self.streak == 0:
            return "streak"
        return None

    def consider(
        self,
        conn: psycopg.Connection[Any],
        learner_id: UUID,
        attempts: Sequence[DrillResult],
        streak: int,
        now: datetime | None = None,
    ) -> OfferMade | None:
        """Record and return an offer if this turn deserves one, at ``now`` (default: this process's
        clock). The caller checked the learner is free and owns the transaction; ``attempts`` are this
        turn's (not yet in ``drill_attempts``)."""
        now = now or datetime.now(UTC)
        if self.in_first_session(conn, learner_id, now):
            return None
        moment = self.moment(conn, learner_id, attempts, streak)
        if moment is None:
            return None
        last_offer, last_no = conn.execute(
            """SELECT max(offered_at), max(responded_at) FILTER (WHERE response = 'declined')
               FROM offers WHERE learner_id = %s""",
            (learner_id,),
        ).fetchone() or (None, None)
        if last_offer is not None and now - last_offer < self.cooldown:
            return None
        if last_no is not None and now - last_no < self.quiet_after_no:
            return None
        progress = week_progress(conn, learner_id, attempts, now)
        bonus_until = (
            now + timedelta(days=self.bonus_days) if self.bonus_feature and self.bonus_days else None
        )
        row = conn.execute(
            """INSERT INTO offers (learner_id, moment, value_line, bonus_feature, bonus_until, offered_at,
                                   followup_due_at, followup_status)
               VALUES (%s, %s, %s, %s, %s, %s, %s, 'scheduled') RETURNING id""",
            (
                learner_id,
                moment,
                messages.value_line(progress, "es"),
                self.bonus_feature if bonus_until else None,
                bonus_until,
                now,
                now + FOLLOWUP_AFTER,
            ),
        ).fetchone()
        assert row is not None
        bonus = (self.bonus_feature, self.bonus_days) if bonus_until is not None else None
        logger.info("offer made", extra={"learner_id": str(learner_id), "moment": moment})
        return OfferMade(row[0], moment, progress, bonus)

    def in_first_session(self, conn: psycopg.Connection[Any], learner_id: UUID, now: datetime) -> bool:
        """Is ``now`` within ``first_session`` of the learner's arrival (``learners.created_at``)?"""
        row = conn.execute("SELECT created_at FROM learners WHERE id = %s", (learner_id,)).fetchone()
        return row is None or now - row[0] < self.first_session


def _mastered(conn: psycopg.Connection[Any], learner_id: UUID, skill: str) -> bool:
    """This turn's right answer completes a run of ``MASTERY_RUN`` right answers at the skill (the
    earlier ``MASTERY_RUN - 1`` are in ``drill_attempts``), and the run before it was not complete."""
    rows = conn.execute(
        """SELECT verdict FROM drill_attempts WHERE learner_id = %s AND skill = %s
           ORDER BY created_at DESC, id DESC LIMIT %s""",
        (learner_id, skill, MASTERY_RUN),
    ).fetchall()
    previous = [r[0] in RIGHT for r in rows]
    if len(previous) < MASTERY_RUN - 1 or not all(previous[: MASTERY_RUN - 1]):
        return False
    return len(previous) < MASTERY_RUN or not previous[MASTERY_RUN - 1]


def week_progress(
    conn: psycopg.Connection[Any], learner_id: UUID, attempts: Sequence[DrillResult], now: datetime
) -> WeekProgress:
    """The learner's last 7 days of drills before ``now``, plus this turn's answers (not recorded yet)."""
    since = now - timedelta(days=7)
    row = conn.execute(
        """SELECT count(DISTINCT substring(prompt from '\\*([^*]+)\\*')), count(*)
           FROM drill_attempts
           WHERE learner_id = %s AND created_at > %s AND verdict IN ('correct', 'accent')""",
        (learner_id, since),
    ).fetchone()
    verbs, right = (int(v or 0) for v in (row or (0, 0)))
    tenses = {
        str(r[0])
        for r in conn.execute(
            """SELECT DISTINCT skill FROM drill_attempts
               WHERE learner_id = %s AND created_at > %s AND verdict IN ('correct', 'accent')
                 AND skill LIKE 'conjugation:%%'""",
            (learner_id, since),
        ).fetchall()
    }
    mine = [a for a in attempts if a.verdict in RIGHT]
    tenses |= {a.skill for a in mine if a.skill.startswith("conjugation:")}
    return WeekProgress(verbs, right + len(mine), len(tenses))


def record_response(
    conn: psycopg.Connection[Any], learner_id: UUID, response: str, now: datetime | None = None
) -> UUID | None:
    """The learner answered the latest unanswered offer ("accepted" opened the plan, "declined" said no)
    at ``now`` (default: this process's clock, the one the cooldowns are measured with). A "no" also
    cancels its follow-up."""
    row = conn.execute(
        """UPDATE offers SET response = %(r)s, responded_at = %(now)s,
                  followup_status = CASE WHEN %(r)s = 'declined' AND followup_status = 'scheduled'
                                         THEN 'skipped' ELSE followup_status END
           WHERE id = (SELECT id FROM offers WHERE learner_id = %(l)s AND response IS NULL
                       ORDER BY offered_at DESC LIMIT 1)
           RETURNING id""",
        {"r": response, "l": learner_id, "now": now or datetime.now(UTC)},
    ).fetchone()
    return row[0] if row else None


def open_offer(conn: psycopg.Connection[Any], learner_id: UUID, now: datetime | None = None) -> UUID | None:
    """The offer a checkout started at ``now`` is attributed to: the latest one in the attribution
    window that was not declined or converted."""
    row = conn.execute(
        """SELECT id FROM offers
           WHERE learner_id = %s AND converted_at IS NULL AND response IS DISTINCT FROM 'declined'
             AND offered_at > %s
           ORDER BY offered_at DESC LIMIT 1""",
        (learner_id, (now or datetime.now(UTC)) - timedelta(days=ATTRIBUTION_DAYS)),
    ).fetchone()
    return row[0] if row else None


def record_conversion(
    conn: psycopg.Connection[Any], learner_id: UUID, offer_id: str, session_id: str
) -> None:
    try:
        offer = UUID(offer_id)
    except ValueError:
        return
    conn.execute(
        """UPDATE offers SET converted_at = COALESCE(converted_at, now()), checkout_session_id = %s,
                  followup_status = CASE WHEN followup_status = 'scheduled' THEN 'skipped'
                                         ELSE followup_status END
           WHERE id = %s AND learner_id = %s""",
        (session_id, offer, learner_id),
    )


# --- next-day follow-ups ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FollowUp:
    offer_id: UUID
    learner_id: UUID
    channel: str  # voice | text | template | skip
    template: str | None
    text: str


def due_followups(
    conn: psycopg.Connection[Any], template: str, now: datetime | None = None, limit: int = 500
) -> list[FollowUp]:
    """Follow-ups that are due, each with the channel WhatsApp's rules allow: inside the learner's 24-hour
    window a voice note (if they receive voice) or text; outside it the approved ``template``, only with
    marketing consent; otherwise ``skip``. Learners who paid meanwhile, sent STOP or stopped promotions
    (``learners.opted_out_at``, ``marketing_opt_out``) are skipped. The caller sends and
    then calls ``mark_followup``."""
    now = now or datetime.now(UTC)
    rows = conn.execute(
        """SELECT o.id, o.learner_id, o.value_line, l.last_inbound_at, l.plan,
                  COALESCE(p.marketing_consent, false), COALESCE(p.receives_voice, false),
                  (l.opted_out_at IS NOT NULL OR l.marketing_opt_out)
           FROM offers o JOIN learners l ON l.id = o.learner_id
           LEFT JOIN offer_preferences p ON p.learner_id = o.learner_id
           WHERE o.followup_status = 'scheduled' AND o.followup_due_at <= %s
           ORDER BY o.followup_due_at LIMIT %s""",
        (now, limit),
    ).fetchall()
    due = []
    for offer_id, learner_id, value_line, last_inbound, plan, consent, voice, opted_out in rows:
        text = f"Ayer te conté lo que desbloquea el plan. {value_line}: ¿seguimos así? Escribe *plan*."
        channel = followup_channel(now, last_inbound, plan, consent, voice, opted_out, template)
        due.append(FollowUp(offer_id, learner_id, channel, template if channel == "template" else None, text))
    return due


def followup_channel(
    now: datetime,
    last_inbound: datetime | None,
    plan: str,
    marketing_consent: bool,
    receives_voice: bool,
    opted_out: bool,
    template: str,
) -> str:
    """How a due follow-up may reach the learner at ``now``: ``voice`` or ``text`` inside the 24-hour
    window, the approved ``template`` outside it with marketing consent, else ``skip`` (also for a learner
    who paid meanwhile or said STOP / "stop promotions", ``opted_out``)."""
    if plan != "free" or opted_out:
        return "skip"
    if last_inbound is not None and now - last_inbound < WINDOW:
        return "voice" if receives_voice else "text"
    return "template" if marketing_consent and template else "skip"


def mark_followup(conn: psycopg.Connection[Any], offer_id: UUID, status: str, channel: str | None) -> None:
    conn.execute(
        "UPDATE offers SET followup_status = %s, followup_channel = %s WHERE id = %s",
        (status, channel, offer_id),
    )


# --- report -----------------------------------------------------------------------------------------


def report(conn: psycopg.Connection[Any], since: datetime) -> dict[str, Any]:
    """Offers since ``since``: how many, answered how, converted, and the conversion rate, per moment."""
    rows = conn.execute(
        """SELECT moment, count(*), count(*) FILTER (WHERE response = 'accepted'),
                  count(*) FILTER (WHERE response = 'declined'), count(converted_at)
           FROM offers WHERE offered_at >= %s GROUP BY moment ORDER BY moment""",
        (since,),
    ).fetchall()

    def entry(offers: int, accepted: int, declined: int, converted: int) -> dict[str, Any]:
        return {
            "offers": offers,
            "accepted": accepted,
            "declined": declined,
            "converted": converted,
            "conversion_rate": round(converted / offers, 4) if offers else 0.0,
        }

    by_moment = {m: entry(o, a, d, c) for m, o, a, d, c in rows}
    totals = [sum(r[i] for r in rows) for i in range(1, 5)]
    return {"since": since.isoformat(), **entry(*totals), "by_moment": by_moment}
