"""The turn ledger: at most one answer per learner message, and no answer lost to a crash while waiting.

In the manner of Powertools' idempotency persistence layer (a record per idempotency key that moves
``INPROGRESS`` -> ``COMPLETED`` and is deleted when the work fails), but for a turn that sends several
WhatsApp messages, each of which may leave or not independently: a turn row per wamid (``turns``) and a
row per message it sends (``turn_parts``), in Postgres, written by ``TutorProcessor``.

States of a turn (``turns.status``):

- ``claimed``: an attempt is deciding the answer; nothing is planned or sent. The claim is a lease on
  the database's clock: ``claimed_at`` is the fence token of the attempt that holds it, and a claim
  older than ``claim_timeout`` (more than the tutor function's timeout) was abandoned.
- ``sending``: the answer is planned: its messages are in ``turn_parts`` (rendered Graph bodies) and what
  completing the turn needs (route, conversation state, the learner's text) in ``turns.plan``; the
  attempt holding ``claimed_at`` is sending them.
- ``released``: an attempt failed with something worth retrying after the plan was written; the plan and
  what went out are kept, and the next delivery takes the turn over at once.
- ``answered``: done (or undeliverable: a permanent error, recorded in ``route``).

A turn released before its plan is deleted instead (nothing of it exists yet). States of a part
(``turn_parts.status``): ``pending`` -> ``sending`` (right before its Graph call, after the learner's pacing
slot and any backoff: the sender's ``Journal``) -> ``sent`` (with Meta's wamid), or back to ``pending``
when Meta refused the call, or ``held`` (outside the 24-hour window, kept for the learner's next message).

What a delivery does, by what it finds:

- nothing: claims the turn, decides the answer, writes the plan, sends the parts.
- ``claimed`` or ``sending`` under a live lease: another attempt is at it; ``TurnInProgress`` (SQS retries).
- ``claimed`` with an expired lease: the attempt died deciding (nothing went out); decides afresh.
- ``sending`` with an expired lease, or ``released``: resumes the plan: sends the parts still ``pending``,
  never a part found ``sending`` (the attempt may have died after Meta accepted it: the learner may have
  it, so it is not sent again), then completes the turn. A turn whose parts all went out (a database
  error after the last send) is completed without sending anything.
- ``answered``: acknowledged, nothing sent.

So only a crash (or an unanswered request: a read timeout) in the instant between a part's Graph call and
its ``sent`` update can cost the learner that part, and nothing can make them get a part twice: a part
leaves only after its move to ``sending``, which happens once per part unless Meta refused it.

A burst (several messages of one learner answered as one turn, ``TutorProcessor.process_burst``) is
one turn keyed by its first wamid; each other message's row points to it (``answered_by``), follows its
fate and is never taken over on its own: a redelivery of one of them is acknowledged once the turn is
answered and waits (``busy``) until then. A burst released before its plan goes as a whole (the rows
cascade), so its messages are answered afresh.

Notices (billing) go through the same ledger, keyed by their notice id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from psycopg.types.json import Jsonb

from espaluz.llm.usage import record_usage

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from uuid import UUID

    from psycopg_pool import ConnectionPool

    from espaluz.llm.types import Usage
    from espaluz.tutor.turn import Attempt

logger = logging.getLogger(__name__)

ClaimOutcome = Literal["new", "resume", "orphan", "busy", "done"]


# The turns of the learner's own messages: notices and proactive messages are turns of the ledger too (one
# row per message the tutor owes), with these routes. For streaks, active learners and latency.
OWN_TURNS_SQL = "route IS DISTINCT FROM 'notice' AND route IS DISTINCT FROM 'proactive'"


class TurnTakenOver(RuntimeError):
    """This attempt's claim was taken over by a later delivery: it must stop without sending."""


@dataclass(frozen=True, slots=True)
class Part:
    """One message of a planned turn, as recorded."""

    part: int
    body: dict[str, Any]
    status: str
    reply_wamid: str | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """What a delivery found and holds. ``outcome``: ``new`` (decide the answer), ``resume`` (send the
    plan's pending parts, then complete), ``orphan`` (a turn left ``sending`` with no plan by code before
    the ledger: it may have been answered, complete it without sending), ``busy`` (another attempt holds
    it), ``done`` (answered: acknowledge)."""

    wamid: str
    outcome: ClaimOutcome
    token: datetime | None = None  # the fence: this attempt's claimed_at
    plan: dict[str, Any] | None = None
    parts: tuple[Part, ...] = ()

    @property
    def pending(self) -> list[Part]:
        return [p for p in self.parts if p.status == "pending"]

    @property
    def in_doubt(self) -> list[Part]:
        """Parts whose Graph call was in flight when an earlier attempt stopped: never sent again."""
        return [p for p in self.parts if p.status == "sending"]

    @property
    def reply_wamids(self) -> tuple[str, ...]:
        return tuple(p.reply_wamid for p in self.parts if p.reply_wamid)


@dataclass
class Plan:
    """What completing the turn needs besides sending: kept in ``turns.plan`` so a redelivery completes
    it exactly as the attempt that decided it would have."""

    route: str
    state: str | None = None  # ConversationState.to_json(), saved once the parts went out
    text: str = ""  # what the learner said (for the pedagogical memory)
    attempts: list[dict[str, str]] = field(default_factory=list)
    erase: bool = False  # a confirmed "borrar": erase the learner once the goodbye went out
    routes: dict[str, str] = field(default_factory=dict)  # a burst: each message's own route, by wamid

    def to_json(self) -> dict[str, Any]:
        return {
            "route": self.route,
            "state": self.state,
            "text": self.text,
            "attempts": self.attempts,
            "erase": self.erase,
            "routes": self.routes,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Plan:
        data = data or {}
        return cls(
            route=str(data.get("route") or "unknown"),
            state=data.get("state"),
            text=str(data.get("text") or ""),
            attempts=list(data.get("attempts") or []),
            erase=bool(data.get("erase")),
            routes={str(k): str(v) for k, v in (data.get("routes") or {}).items()},
        )


class TurnLedger:
    """The ledger's reads and writes; one per processor (the pool is shared and thread-safe)."""

    def __init__(self, pool: ConnectionPool, claim_timeout: float = 90.0) -> None:
        self.pool = pool
        # A lease older than this was abandoned (the Lambda timed out or crashed). Must exceed the tutor
        # function's timeout, so a live attempt is never taken over in production.
        self.claim_timeout = claim_timeout

    def claim(self, wamid: str, learner_id: UUID, received_at: datetime | None = None) -> Claim:
        """Claim the turn for this delivery, or say why not (see the module docstring)."""
        with self.pool.connection() as conn:
            row = conn.execute(
                # received_at on this process's clock, the one the free tier's day is counted with;
                # the claim is a lease between database sessions, on the database's clock.
                """INSERT INTO turns (wamid, learner_id, received_at) VALUES (%s, %s, %s)
                   ON CONFLICT (wamid) DO UPDATE
                     SET claimed_at = now(),
                         status = CASE WHEN turns.status = 'released' THEN 'sending' ELSE turns.status END
                   WHERE turns.answered_by IS NULL
                     AND (turns.status = 'released'
                          OR (turns.status IN ('claimed', 'sending')
                              AND turns.claimed_at < now() - make_interval(secs => %s)))
                   RETURNING claimed_at, status, plan""",
                (wamid, learner_id, received_at or datetime.now(UTC), self.claim_timeout),
            ).fetchone()
            if row is None:  # another attempt's, answered, or part of a burst: then the burst's fate
                found = conn.execute(
                    """SELECT coalesce(head.status, t.status) FROM turns t
                       LEFT JOIN turns head ON head.wamid = t.answered_by WHERE t.wamid = %s""",
                    (wamid,),
                ).fetchone()
                status = str(found[0]) if found else None
                return Claim(wamid, "done" if status == "answered" else "busy")
            token, status, plan = row
            if status == "claimed":
                return Claim(wamid, "new", token)
            if plan is None:
                return Claim(wamid, "orphan", token)
            parts = tuple(
                Part(int(n), dict(body), str(st), rw)
                for n, body, st, rw in conn.execute(
                    """SELECT part, body, status, reply_wamid FROM turn_parts
                       WHERE wamid = %s ORDER BY part""",
                    (wamid,),
                ).fetchall()
            )
        return Claim(wamid, "resume", token, dict(plan), parts)

    def write_plan(
        self,
        claim: Claim,
        learner_id: UUID,
        bodies: Sequence[dict[str, Any]],
        plan: Plan,
        usages: Sequence[Usage] = (),
        attempts: Sequence[Attempt] = (),
    ) -> Claim:
        """``claimed`` -> ``sending``: record the parts to send and the plan, with the turn's provider
        usage and drill attempts, in one transaction fenced by the claim. Raises ``TurnTakenOver`` when a
        later delivery holds the turn now. Returns the claim as ``resume`` with its parts."""
        parts = tuple(Part(n, dict(body), "pending") for n, body in enumerate(bodies))
        with self.pool.connection() as conn:
            moved = conn.execute(
                """UPDATE turns SET status = 'sending', plan = %s
                   WHERE wamid = %s AND status = 'claimed' AND claimed_at = %s""",
                (Jsonb(plan.to_json()), claim.wamid, claim.token),
            ).rowcount
            if not moved:
                raise TurnTakenOver(f"turn {claim.wamid} was taken over by a later delivery; not sending")
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO turn_parts (wamid, part, body) VALUES (%s, %s, %s)",
                    [(claim.wamid, p.part, Jsonb(p.body)) for p in parts],
                )
            if usages:
                record_usage(conn, learner_id, claim.wamid, usages)
            if attempts:
                at = datetime.now(UTC)  # the clock the offers' week and the progress chart read with
                with conn.cursor() as cur:
                    cur.executemany(
                        """INSERT INTO drill_attempts
                               (learner_id, skill, prompt, expected, answer, verdict, created_at)
                           VALUES (%s, %s, %s, %s, %s, %s, %s)""",
                        [
                            (learner_id, a.skill, a.prompt, a.expected, a.answer, a.verdict, at)
                            for a in attempts
                        ],
                    )
        return Claim(claim.wamid, "resume", claim.token, plan.to_json(), parts)

    def join(self, claim: Claim, learner_id: UUID, wamids: Sequence[str]) -> list[str]:
        """Make the learner's next messages (in order) part of the freshly claimed turn ``claim``: rows
        pointing to it, under its fence. Stops at the first message that has a turn of its own (answered
        earlier, or being answered): it and what follows are answered on their own, in order. Returns
        the wamids joined."""
        joined: list[str] = []
        with self.pool.connection() as conn:
            for wamid in wamids:
                row = conn.execute(
                    """INSERT INTO turns (wamid, learner_id, received_at, claimed_at, answered_by)
                       VALUES (%s, %s, %s, %s, %s)
                       ON CONFLICT (wamid) DO UPDATE SET claimed_at = excluded.claimed_at
                       WHERE turns.answered_by = excluded.answered_by AND turns.status <> 'answered'
                       RETURNING wamid""",
                    (wamid, learner_id, datetime.now(UTC), claim.token, claim.wamid),
                ).fetchone()
                if row is None:
                    break
                joined.append(wamid)
        return joined

    def journal(self, claim: Claim, parts: Sequence[int]) -> PartJournal:
        """The sender's journal for one send of ``parts`` (part numbers, in the order given to it)."""
        return PartJournal(self, claim, list(parts))

    def release(self, claim: Claim) -> None:
        """Let the next delivery take the turn at once: forgotten when nothing was planned, ``released``
        (plan and sent parts kept) otherwise. Fenced: an attempt that lost its claim frees nothing."""
        with self.pool.connection() as conn:
            conn.execute(
                "DELETE FROM turns WHERE wamid = %s AND status = 'claimed' AND claimed_at = %s",
                (claim.wamid, claim.token),
            )
            conn.execute(
                """UPDATE turns SET status = 'released'
                   WHERE wamid = %s AND status = 'sending' AND claimed_at = %s""",
                (claim.wamid, claim.token),
            )

    def finish(
        self,
        wamid: str,
        route: str,
        reply_wamids: Sequence[str],
        latency_ms: int,
        routes: Mapping[str, str] | None = None,
    ) -> None:
        """The turn is answered (or undeliverable, or silent): a later delivery is acknowledged. The
        messages of a burst are answered with it, each with its own route from ``routes`` (what it asked
        for: a drill answer, a command, the LLM), else ``route``."""
        with self.pool.connection() as conn:
            conn.execute(
                """UPDATE turns SET status = 'answered', route = coalesce(%s::jsonb ->> wamid, %s),
                                    answered_at = %s, reply_wamids = %s, latency_ms = %s
                   WHERE wamid = %s OR answered_by = %s""",
                (
                    Jsonb(dict(routes or {})),
                    route,
                    datetime.now(UTC),
                    list(reply_wamids),
                    latency_ms,
                    wamid,
                    wamid,
                ),
            )

    def sent_wamids(self, wamid: str) -> tuple[str, ...]:
        """Meta's wamids of the parts that went out, in order."""
        with self.pool.connection() as conn:
            rows = conn.execute(
                """SELECT reply_wamid FROM turn_parts
                   WHERE wamid = %s AND reply_wamid IS NOT NULL ORDER BY part""",
                (wamid,),
            ).fetchall()
        return tuple(str(r[0]) for r in rows)


class PartJournal:
    """Records what happens to each part while ``Sender.send`` sends it (``espaluz.whatsapp.sender.
    Journal``): one short transaction per event, so what is recorded is what the learner may have."""

    def __init__(self, ledger: TurnLedger, claim: Claim, parts: list[int]) -> None:
        self.ledger = ledger
        self.claim = claim
        self.parts = parts  # the sender's index -> the part number

    def sending(self, index: int) -> None:
        """``pending`` -> ``sending``, only while this attempt holds the turn: a part leaves at most once
        because only one attempt can make this move, and a taken-over attempt stops here."""
        with self.ledger.pool.connection() as conn:
            moved = conn.execute(
                """UPDATE turn_parts p SET status = 'sending', sending_at = %s
                   FROM turns t
                   WHERE p.wamid = %s AND p.part = %s AND p.status = 'pending'
                     AND t.wamid = p.wamid AND t.status = 'sending' AND t.claimed_at = %s""",
                (datetime.now(UTC), self.claim.wamid, self.parts[index], self.claim.token),
            ).rowcount
        if not moved:
            raise TurnTakenOver(f"turn {self.claim.wamid} was taken over by a later delivery; not sending")

    def unsent(self, index: int) -> None:
        with self.ledger.pool.connection() as conn:
            conn.execute(
                """UPDATE turn_parts SET status = 'pending'
                   WHERE wamid = %s AND part = %s AND status = 'sending'""",
                (self.claim.wamid, self.parts[index]),
            )

    def sent(self, index: int, wamid: str) -> None:
        with self.ledger.pool.connection() as conn:
            conn.execute(
                """UPDATE turn_parts SET status = 'sent', reply_wamid = %s, sent_at = %s
                   WHERE wamid = %s AND part = %s""",
                (wamid, datetime.now(UTC), self.claim.wamid, self.parts[index]),
            )

    def held(self, indexes: Sequence[int]) -> None:
        with self.ledger.pool.connection() as conn:
            conn.execute(
                """UPDATE turn_parts SET status = 'held'
                   WHERE wamid = %s AND part = ANY(%s) AND status = 'pending'""",
                (self.claim.wamid, [self.parts[i] for i in indexes]),
            )


def attempts_json(attempts: Sequence[Attempt]) -> list[dict[str, str]]:
    """Drill attempts as the plan keeps them (for the memory write of a resumed turn)."""
    return [
        {
            "skill": a.skill,
            "prompt": a.prompt,
            "expected": a.expected,
            "answer": a.answer,
            "verdict": a.verdict,
        }
        for a in attempts
    ]
