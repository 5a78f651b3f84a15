"""The notify port: how billing gets a chat message to a learner, and its queue adapter.

Billing notices (thanks after payment, payment failed) are handed over after the Stripe event is
committed. A notice that cannot be handed over is logged and dropped: the event must not be retried for it
(a retry would find the event recorded and do nothing anyway).

Production uses ``QueueNotifier``: the notice goes on the tutor's queue and leaves through the tutor's
send policy (pacing, the 24-hour window: outside it the notice waits behind the re-engagement template),
at most once per notice id, in the learner's own message group (the learner key the webhook computed for
their messages), so a notice and the learner's messages are answered in the order they arrived and never
two at once.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from uuid import UUID

    from psycopg_pool import ConnectionPool

    from espaluz.queue.base import Queue
    from espaluz.whatsapp.outgoing import Reply

logger = logging.getLogger(__name__)


class Notify(Protocol):
    def __call__(self, learner_id: UUID, reply: Reply, notice_id: str) -> None:
        """``notice_id`` is stable across Stripe's retries of the event: the learner gets it once."""


class QueueNotifier:
    """Puts the notice on the tutor's queue (``espaluz.whatsapp.inbound.notice_message``), in the
    learner's message group when ``pool`` is given and the learner has written since the ledger migration
    (``learners.learner_key``, stored by the tutor from the webhook's envelope: billing needs no Meta app
    secret for it); else grouped by the internal learner id (ordered among notices only)."""

    def __init__(self, queue: Queue, pool: ConnectionPool | None = None) -> None:
        self.queue = queue
        self.pool = pool

    def __call__(self, learner_id: UUID, reply: Reply, notice_id: str) -> None:
        from espaluz.whatsapp.inbound import notice_message

        group = self.group_of(learner_id)
        self.queue.send_batch([notice_message(notice_id, str(learner_id), reply.payload(), group)])
        logger.info("billing notice queued", extra={"learner_id": str(learner_id), "notice": notice_id})

    def group_of(self, learner_id: UUID) -> str | None:
        """The learner key the webhook grouped the learner's last message with, or None."""
        if self.pool is None:
            return None
        try:
            with self.pool.connection() as conn:
                row = conn.execute("SELECT learner_key FROM learners WHERE id = %s", (learner_id,)).fetchone()
        except Exception:  # the notice still goes, ordered among notices only
            logger.warning("notice grouped by learner id: the learner could not be read", exc_info=True)
            return None
        if row is None or not row[0]:
            logger.warning(
                "notice grouped by learner id: no learner key", extra={"learner_id": str(learner_id)}
            )
            return None
        return str(row[0])
