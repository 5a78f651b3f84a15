"""The memory feature as the tutor uses it: one object built from settings at startup.

``build_memory`` checks the configured embedder against the schema (``EmbeddingSchemaError`` if they
disagree: the process should not start). ``remember`` never raises: a turn the learner already received
must not fail because its memory could not be stored; the failure is logged (learner id and wamid only).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from espaluz.memory.chat import handle_memory_command, is_memory_command
from espaluz.memory.context import load_context
from espaluz.memory.embedders import build_embedder
from espaluz.memory.recorder import remember_turn
from espaluz.memory.reviews import ReviewItem, deliverable_reviews, mark_delivered
from espaluz.memory.store import MemoryStore

if TYPE_CHECKING:
    from collections.abc import Sequence
    from uuid import UUID

    from psycopg_pool import ConnectionPool

    from espaluz.memory.context import Context
    from espaluz.memory.embedders import Embedder
    from espaluz.memory.recorder import AttemptLike
    from espaluz.storage.learners import Learner
    from espaluz.whatsapp.outgoing import Reply

logger = logging.getLogger(__name__)


class MemoryService:
    def __init__(self, pool: ConnectionPool, embedder: Embedder, context_tokens: int = 1500) -> None:
        self.pool = pool
        self.store = MemoryStore(embedder)
        self.context_tokens = context_tokens

    def context(self, learner_id: UUID, query_text: str, skills: Sequence[str] = ()) -> Context:
        """What the tutor should have in mind for this turn (summary, retrieved memories, sampled
        history) within ``MEMORY_CONTEXT_TOKENS``; ``Context.render()`` gives the prompt text."""
        with self.pool.connection() as conn:
            return load_context(conn, self.store, learner_id, query_text, skills, budget=self.context_tokens)

    def check(self) -> None:
        with self.pool.connection() as conn:
            self.store.check(conn)

    def command(self, learner_id: UUID, text: str, reply_id: str | None) -> Reply | None:
        """The reply to a "memoria" command, or None when the message is not one."""
        if not is_memory_command(text, reply_id):
            return None
        with self.pool.connection() as conn:
            return handle_memory_command(conn, learner_id, text, reply_id)

    def due_review(self, learner: Learner, now: datetime | None = None) -> ReviewItem | None:
        """The review item to ask now (marked delivered), when one is due while the learner's window is
        open (they just wrote); None otherwise, or on failure (the tutor then asks a fresh exercise)."""
        now = now or datetime.now(UTC)
        try:
            with self.pool.connection() as conn:
                items = deliverable_reviews(
                    conn, learner.id, now, getattr(learner, "last_inbound_at", None) or now
                )
                if not items:
                    return None
                mark_delivered(conn, items[0].id, now)
                return items[0]
        except Exception as exc:
            logger.warning(
                "review lookup failed", extra={"learner_id": str(learner.id), "error": type(exc).__name__}
            )
            return None

    def remember(
        self,
        learner_id: UUID,
        *,
        text: str,
        route: str,
        attempts: Sequence[AttemptLike],
        wamid: str | None = None,
        now: datetime | None = None,
    ) -> int:
        """Record the turn; returns how many memories were stored (0 on failure, which is logged)."""
        try:
            with self.pool.connection() as conn:
                stored = remember_turn(
                    conn,
                    self.store,
                    learner_id,
                    text=text,
                    route=route,
                    attempts=attempts,
                    now=now or datetime.now(UTC),
                    source_wamid=wamid,
                )
            return len(stored)
        except Exception as exc:
            logger.warning(
                "memory not recorded",
                extra={"learner_id": str(learner_id), "wamid": wamid, "error": type(exc).__name__},
            )
            return 0


def build_memory(settings: Any, pool: ConnectionPool | None = None) -> MemoryService:
    """The memory service for these settings, checked against the schema."""
    if pool is None:
        from espaluz.storage.postgres import get_pool

        pool = get_pool(settings.database_url)
    service = MemoryService(pool, build_embedder(settings), settings.memory_context_tokens)
    service.check()
    return service
