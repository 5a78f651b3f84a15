"""What the tutor writes first: a message the scheduler chose (``espaluz.scheduler.tick``), composed when
it is sent, in the learner's language and level.

The scheduler selects on what it knew at its pass; between that pass and this send the learner may have
written, sent STOP or answered the review. So :meth:`Proactive.compose` checks the rules again on fresh
rows (``espaluz.scheduler.rules``: STOP, not mid-conversation, quiet hours, the daily cap) and then:

- ``review``: inside the 24-hour window, the exercise itself, opened like a "practicar" turn (a past
  mistake that is due first, else the course's weakest due item), so the learner's answer is checked as
  usual; outside it, the approved review template (with consent to reminders) whose button starts one.
- ``reminder``: inside the window a short text with the streak and what is due (the streak and milestone
  messages exist only here: a template cannot carry them); outside it the approved reminder template.
- ``followup``: an offer's next-day follow-up: the model voice with a line of text where the learner
  receives voice, else text, inside the window; the approved template outside it with marketing consent
  (``billing.offers.followup_channel``); never after "no" or "stop promotions".
- ``reengage``: the approved re-engagement template (marketing: never after "stop promotions").

Every composed message is a turn of the ledger under the scheduler's id, sent with ``proactive=True``
(``Sender.send`` refuses it after STOP), and counted in ``proactive_messages`` (sent or skipped, why).
Templates go in the learner's explanation language (``es``/``en``): each exists in both (``espaluz
templates check``). Proactive turns have the route :data:`ROUTE`, which is not teaching (the free tier
counts the learner's answer, not the question the tutor sent).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from espaluz.billing.messages import offer_buttons
from espaluz.billing.offers import followup_channel, mark_followup
from espaluz.curriculum.course import REVIEW_EVERY
from espaluz.scheduler.rules import Rules, in_window
from espaluz.scheduler.zones import local
from espaluz.tutor.commands.profile import explanation_language
from espaluz.tutor.commands.progress import active_days, streak
from espaluz.tutor.commands.texts import tr
from espaluz.tutor.exercise import lesson_of
from espaluz.tutor.orchestrator import respond
from espaluz.whatsapp.outgoing import Button, Outgoing, Reply, Template, VoiceNote

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

    from espaluz.memory.reviews import ReviewItem
    from espaluz.storage.learners import Learner
    from espaluz.tutor.exercise import Course
    from espaluz.tutor.state import ConversationState, StateStore

logger = logging.getLogger(__name__)

ROUTE = "proactive"
MILESTONES = (7, 30, 100, 365)  # streak days worth a word of their own


@dataclass(frozen=True, slots=True)
class Order:
    """What the scheduler asked for (the envelope's ``update``)."""

    learner_id: UUID
    kind: str
    slot: str
    at: datetime
    offer_id: UUID | None = None

    @classmethod
    def from_update(cls, update: dict[str, Any]) -> Order:
        at = datetime.fromisoformat(str(update.get("at") or datetime.now(UTC).isoformat()))
        offer = update.get("offer_id")
        return cls(
            UUID(str(update["learner_id"])),
            str(update.get("kind") or ""),
            str(update.get("slot") or ""),
            at if at.tzinfo else at.replace(tzinfo=UTC),
            UUID(str(offer)) if offer else None,
        )


@dataclass(frozen=True, slots=True)
class Templates:
    """The approved templates' names (settings ``WHATSAPP_*_TEMPLATE``, ``BILLING_FOLLOWUP_TEMPLATE``)."""

    reminder: str = "espaluz_recordatorio"
    review: str = "espaluz_repaso"
    reengage: str = "espaluz_te_esperamos"
    followup: str = "espaluz_plus_followup"

    @classmethod
    def from_settings(cls, settings: Any) -> Templates:
        return cls(
            settings.whatsapp_reminder_template,
            settings.whatsapp_review_template,
            settings.whatsapp_reengage_template,
            settings.billing_followup_template,
        )


@dataclass(slots=True)
class Composed:
    """The messages to send (``state``: the conversation with the review's exercise open, to save once
    they went out) and the channel they use (``text``, ``voice`` or ``template``)."""

    messages: list[Outgoing]
    channel: str
    state: ConversationState | None = None


@dataclass(frozen=True, slots=True)
class Skipped:
    reason: str  # opted_out, active, quiet, cap, consent, marketing, window, nothing_due, offer, unknown


@dataclass(frozen=True, slots=True)
class _Facts:
    """What composing reads of the learner in one query."""

    timezone: str | None
    reminders_consent: bool | None
    sent_today: int
    due: int


class Proactive:
    """Composes the scheduler's orders; one per processor. ``course`` gives the learner's course at a
    time (the processor's skill-card read); ``review`` the past mistake due now, if any (the memory);
    ``voice`` uploads the model voice of a Spanish text and returns its media id (None: no voice)."""

    def __init__(
        self,
        pool: ConnectionPool,
        states: StateStore,
        rules: Rules,
        templates: Templates,
        *,
        course: Callable[[Learner, datetime], Course],
        review: Callable[[Learner, datetime], ReviewItem | None],
        voice: Callable[[Learner, str], str | None],
        rng: random.Random,
    ) -> None:
        self.pool = pool
        self.states = states
        self.rules = rules
        self.templates = templates
        self.course = course
        self.review = review
        self.voice = voice
        self.rng = rng

    def compose(
        self, order: Order, learner: Learner, written_at: datetime | None = None
    ) -> Composed | Skipped:
        """The messages for ``order``, or why none goes (the rules are checked on fresh rows).
        ``written_at``: when the webhook last took a message of the learner (it may still wait in the
        queue, its turn not yet on the learner's row)."""
        with self.pool.connection() as conn:
            facts = _facts(conn, learner.id, order.at)
            skip = self._skip(order, learner, facts, written_at)
            if skip is not None:
                return skip
            language = explanation_language(learner.native_language)
            if order.kind == "followup":
                return self._followup(conn, order, learner, language)
            if order.kind == "reminder":
                days = active_days(conn, learner.id, order.at, str(local(order.at, facts.timezone).tzinfo))
                return self._reminder(order, learner, facts, language, days)
        if order.kind == "review":
            return self._review(order, learner, facts, language)
        if order.kind == "reengage":
            return Composed(
                [self._template(self.templates.reengage, learner, language, marketing=True)], "template"
            )
        return Skipped("unknown")

    def _skip(
        self, order: Order, learner: Learner, facts: _Facts, written_at: datetime | None
    ) -> Skipped | None:
        if learner.opted_out:
            return Skipped("opted_out")
        latest = max((t for t in (learner.last_inbound_at, written_at) if t is not None), default=None)
        if latest is not None and latest > order.at - self.rules.idle:
            return Skipped("active")  # the learner is writing: not interrupted
        if self.rules.quiet(local(order.at, facts.timezone).hour):
            return Skipped("quiet")
        if facts.sent_today >= self.rules.daily_cap:
            return Skipped("cap")
        if order.kind in ("review", "reminder", "reengage") and facts.reminders_consent is False:
            return Skipped("consent")
        if order.kind == "reengage" and learner.marketing_opt_out:
            return Skipped("marketing")  # a marketing template: never after "stop promotions"
        return None

    # -- the kinds ------------------------------------------------------------------------------------

    def _review(self, order: Order, learner: Learner, facts: _Facts, language: str) -> Composed | Skipped:
        if facts.due == 0:
            return Skipped("nothing_due")  # answered since the pass chose it
        if not in_window(learner.last_inbound_at, order.at):
            if not facts.reminders_consent:
                return Skipped("window")
            params = (str(facts.due),)
            return Composed([self._template(self.templates.review, learner, language, params)], "template")
        state = self.states.load(learner.id)
        lesson_of(state)["since_review"] = REVIEW_EVERY  # the course's next exercise is its due review
        item = self.review(learner, order.at)  # a past mistake that is due comes first
        course = self.course(learner, order.at)
        outcome = respond(learner, "", "practice", state, self.rng, review=item, course=course)
        name = f", {learner.display_name}" if learner.display_name else ""
        head = tr(language, f"👋 ¡Hola{name}! ¿Un repaso rápido?", f"Hi{name}! A quick review?")
        reply = replace(outcome.reply, text=f"{head}\n\n{outcome.reply.text}")
        return Composed([reply], "text", outcome.state)

    def _reminder(
        self, order: Order, learner: Learner, facts: _Facts, language: str, days: set[date]
    ) -> Composed | Skipped:
        if not facts.reminders_consent:
            return Skipped("consent")
        if not in_window(learner.last_inbound_at, order.at):
            return Composed([self._template(self.templates.reminder, learner, language)], "template")
        today = local(order.at, facts.timezone).date()
        run = streak(days, today)
        lines = [tr(language, "🔔 ¿Practicamos un rato hoy?", "Shall we practise a little today?")]
        if run in MILESTONES:
            lines.append(
                tr(
                    language,
                    f"🏆 ¡Llevas {run} días seguidos! Es un hito: sigue así.",
                    f"{run} days in a row! A milestone: keep it up.",
                )
            )
        elif run >= 2:
            lines.append(
                tr(
                    language,
                    f"🔥 Llevas {run} días seguidos: no pierdas la racha.",
                    f"{run} days in a row: don't break the streak.",
                )
            )
        if facts.due:
            many = "s" if facts.due != 1 else ""
            lines.append(
                tr(
                    language,
                    f"🔁 Tienes {facts.due} repaso{many} pendiente{many}.",
                    f"{facts.due} review{many} waiting.",
                )
            )
        buttons = (Button("practice", "Practicar" if language == "es" else "Practice"),)
        return Composed([Reply("\n\n".join(lines), buttons=buttons)], "text")

    def _followup(
        self, conn: psycopg.Connection[Any], order: Order, learner: Learner, language: str
    ) -> Composed | Skipped:
        if order.offer_id is None:
            return Skipped("offer")
        row = conn.execute(
            """SELECT o.value_line, o.followup_status, COALESCE(p.marketing_consent, false),
                      COALESCE(p.receives_voice, false)
               FROM offers o LEFT JOIN offer_preferences p ON p.learner_id = o.learner_id
               WHERE o.id = %s AND o.learner_id = %s""",
            (order.offer_id, learner.id),
        ).fetchone()
        if row is None or row[1] != "scheduled":
            return Skipped("offer")  # answered ("no", or took the plan) since the pass chose it
        value_line, _, consent, voice = row
        opted = learner.opted_out or learner.marketing_opt_out
        channel = followup_channel(
            order.at, learner.last_inbound_at, learner.plan, consent, voice, opted, self.templates.followup
        )
        if channel == "skip":
            mark_followup(conn, order.offer_id, "skipped", None)
            return Skipped("marketing" if opted else "window")
        if channel == "template":
            return Composed([Template(self.templates.followup, "es", marketing=True)], "template")
        text = tr(
            language,
            f"Ayer te conté lo que desbloquea el plan. {value_line}: ¿seguimos así?",
            "Yesterday I told you what the plan unlocks. Shall we keep going like this?",
        )
        reply = Reply(text, buttons=offer_buttons(language))
        if channel == "voice":
            media = self.voice(learner, "¿Seguimos practicando juntos? Con el plan, practicas sin límites.")
            if media:
                return Composed([VoiceNote(media), reply], "voice")
        return Composed([reply], "text")

    def _template(
        self,
        name: str,
        learner: Learner,
        language: str,
        params: tuple[str, ...] = (),
        *,
        marketing: bool = False,
    ) -> Template:
        """An approved template in the learner's language, greeting them by name, whose quick-reply button
        starts an exercise (its payload reads as "practicar")."""
        return Template(
            name,
            "en" if language == "en" else "es",
            body_params=(learner.display_name or "👋", *params),
            button_payloads=("practice",),
            marketing=marketing,
        )


def record(
    conn: psycopg.Connection[Any],
    order: Order,
    status: str,
    *,
    channel: str | None = None,
    reason: str | None = None,
    at: datetime | None = None,
) -> None:
    """The outcome of the order in ``proactive_messages`` (for the cap and ``espaluz report``)."""
    row = conn.execute(
        """UPDATE proactive_messages
           SET status = %s, channel = COALESCE(%s, channel), reason = %s,
               sent_at = CASE WHEN %s = 'sent' THEN %s ELSE sent_at END
           WHERE learner_id = %s AND kind = %s AND slot = %s RETURNING channel""",
        (status, channel, reason, status, at or datetime.now(UTC), order.learner_id, order.kind, order.slot),
    ).fetchone()
    if order.kind == "followup" and order.offer_id is not None and status == "sent":
        mark_followup(conn, order.offer_id, "sent", row[0] if row else channel)


def _facts(conn: psycopg.Connection[Any], learner_id: UUID, at: datetime) -> _Facts:
    row = conn.execute(
        """SELECT l.timezone, l.reminders_consent,
                  (SELECT count(*) FROM proactive_messages p WHERE p.learner_id = l.id AND p.status = 'sent'
                     AND p.sent_at > %(day_ago)s),
                  (SELECT count(*) FROM skill_cards s WHERE s.learner_id = l.id AND s.due <= %(at)s)
                  + (SELECT count(*) FROM review_items r WHERE r.learner_id = l.id AND r.due <= %(at)s)
           FROM learners l WHERE l.id = %(id)s""",
        {"id": learner_id, "at": at, "day_ago": at - timedelta(days=1)},
    ).fetchone()
    if row is None:
        return _Facts(None, None, 0, 0)
    return _Facts(row[0], row[1], int(row[2]), int(row[3]))


__all__ = ["ROUTE", "Composed", "Order", "Proactive", "Skipped", "Templates", "record"]
