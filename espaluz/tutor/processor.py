"""Process one queued WhatsApp message: one tutor turn, at most once per wamid.

Idempotency: a turn row keyed by the wamid moves ``claimed`` -> ``sending`` -> ``answered``. A redelivery
finds the row: ``claimed`` means the last attempt died before sending anything, so it is taken over;
``sending`` or ``answered`` means the reply may have gone out, so the redelivery is acknowledged without a
second answer. (SQS FIFO never hands one group's message to two consumers at once, so a takeover cannot
race a live attempt.) If the send fails with an error worth retrying, the row is released and the error
raised, so SQS delivers the message again; a permanent error (outside the 24-hour window, a blocked
recipient) is recorded and not retried. Only a crash in the instant between the send and the final
update can cost the learner that one answer; nothing can make them get it twice.

Privacy: logs name the learner by internal id and the message by wamid only.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from espaluz.storage import learners
from espaluz.tutor.orchestrator import Attempt, respond
from espaluz.tutor.state import StateStore
from espaluz.whatsapp.graph import GraphAPIError, GraphClient
from espaluz.whatsapp.inbound import InboundEnvelope
from espaluz.whatsapp.models import Message, message_text, reply_id
from espaluz.whatsapp.outgoing import Recipient

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TurnResult:
    wamid: str
    learner_id: UUID | None
    route: str
    reply_wamids: tuple[str, ...] = ()
    duplicate: bool = False


class TutorProcessor:
    def __init__(
        self,
        pool: ConnectionPool,
        states: StateStore,
        graph: GraphClient,
        *,
        llm_available: bool = False,
        rng: random.Random | None = None,
    ) -> None:
        self.pool = pool
        self.states = states
        self.graph = graph
        self.llm_available = llm_available
        self.rng = rng or random.Random()  # noqa: S311 - exercise choice, not security

    def process(self, body: str) -> TurnResult:
        started = time.perf_counter()
        envelope = InboundEnvelope.model_validate_json(body)
        message = Message.model_validate(envelope.message)
        identity = learners.Identity(bsuid=envelope.bsuid, wa_id=envelope.wa_id, name=envelope.name)

        with self.pool.connection() as conn:
            learner = learners.upsert(conn, identity, envelope.phone_number_id)
            claimed = conn.execute(
                """INSERT INTO turns (wamid, learner_id) VALUES (%s, %s)
                   ON CONFLICT (wamid) DO UPDATE SET claimed_at = now() WHERE turns.status = 'claimed'""",
                (envelope.wamid, learner.id),
            ).rowcount
        if not claimed:
            logger.info("duplicate delivery acknowledged", extra={"wamid": envelope.wamid})
            return TurnResult(envelope.wamid, learner.id, "duplicate", duplicate=True)

        pnid = envelope.phone_number_id
        try:
            self.graph.mark_read(pnid, envelope.wamid, typing=True)
        except GraphAPIError as exc:  # blue ticks are a courtesy; the answer matters more
            logger.warning("mark-as-read failed", extra={"code": exc.code})

        state = self.states.load(learner.id)
        outcome = respond(
            learner,
            message_text(message),
            reply_id(message),
            state,
            self.rng,
            llm_available=self.llm_available,
        )
        recipient = Recipient(wa_id=learner.wa_id, bsuid=learner.bsuid)
        with self.pool.connection() as conn:
            conn.execute("UPDATE turns SET status = 'sending' WHERE wamid = %s", (envelope.wamid,))
        try:
            sent = self.graph.send(pnid, recipient, outcome.reply)
        except GraphAPIError as exc:
            if exc.retryable:
                self._release(envelope.wamid)
                raise
            logger.error("reply undeliverable", extra={"code": exc.code, "wamid": envelope.wamid})
            self._finish(envelope.wamid, learner.id, "undeliverable", (), [], started)
            return TurnResult(envelope.wamid, learner.id, "undeliverable")
        except Exception:
            self._release(envelope.wamid)
            raise

        self.states.save(learner.id, outcome.state)
        self._finish(envelope.wamid, learner.id, outcome.route, (sent,), outcome.attempts, started)
        logger.info(
            "turn answered",
            extra={"wamid": envelope.wamid, "learner_id": str(learner.id), "route": outcome.route},
        )
        return TurnResult(envelope.wamid, learner.id, outcome.route, (sent,))

    def _release(self, wamid: str) -> None:
        with self.pool.connection() as conn:
            conn.execute("DELETE FROM turns WHERE wamid = %s AND status <> 'answered'", (wamid,))

    def _finish(
        self,
        wamid: str,
        learner_id: UUID,
        route: str,
        reply_wamids: tuple[str, ...],
        attempts: list[Attempt],
        started: float,
    ) -> None:
        latency_ms = int((time.perf_counter() - started) * 1000)
        with self.pool.connection() as conn:
            conn.execute(
                """UPDATE turns SET status = 'answered', route = %s, answered_at = now(),
                                    reply_wamids = %s, latency_ms = %s
                   WHERE wamid = %s""",
                (route, list(reply_wamids), latency_ms, wamid),
            )
            if attempts:
                with conn.cursor() as cur:
                    cur.executemany(
                        """INSERT INTO drill_attempts (learner_id, skill, prompt, expected, answer, verdict)
                           VALUES (%s, %s, %s, %s, %s, %s)""",
                        [(learner_id, a.skill, a.prompt, a.expected, a.answer, a.verdict) for a in attempts],
                    )


def build_processor(settings: Any) -> TutorProcessor:
    """Wire the processor from settings (production and the local stack alike)."""
    from espaluz.storage.postgres import get_pool
    from espaluz.storage.redis import get_redis

    redis_client = get_redis(settings.redis_url)
    graph = GraphClient(settings.whatsapp_graph_url, settings.whatsapp_access_token.get_secret_value())
    llm = bool(settings.groq_api_key.get_secret_value() or settings.anthropic_api_key.get_secret_value())
    return TutorProcessor(
        get_pool(settings.database_url),
        StateStore(redis_client, settings.conversation_ttl_seconds),
        graph,
        llm_available=llm,
    )
