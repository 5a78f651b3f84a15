"""The notify port: how billing sends a chat message to a learner, and its WhatsApp adapter.

Billing notices (thanks after payment, payment failed) are handed over after the Stripe event is
committed. A notice that cannot be handed over is logged and dropped: the event must not be retried for it
(a retry would find the event recorded and do nothing anyway).

Production uses ``QueueNotifier``: the notice goes on the tutor's queue and leaves through the tutor's
send policy (pacing, the 24-hour window: outside it the notice waits behind the re-engagement template),
at most once per notice id. ``GraphNotifier`` sends directly (no window handling); it stays for setups
without the queue.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Protocol

from espaluz.whatsapp.outgoing import Recipient

if TYPE_CHECKING:
    from uuid import UUID

    from psycopg_pool import ConnectionPool

    from espaluz.queue.base import Queue
    from espaluz.whatsapp.graph import GraphClient
    from espaluz.whatsapp.outgoing import Reply

logger = logging.getLogger(__name__)


class Notify(Protocol):
    def __call__(self, learner_id: UUID, reply: Reply, notice_id: str = "") -> None: ...


class QueueNotifier:
    """Puts the notice on the tutor's queue (``espaluz.whatsapp.inbound.notice_message``)."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue

    def __call__(self, learner_id: UUID, reply: Reply, notice_id: str = "") -> None:
        from espaluz.whatsapp.inbound import notice_message

        notice_id = notice_id or f"notice.{learner_id}.{hashlib.sha256(reply.text.encode()).hexdigest()[:16]}"
        self.queue.send_batch([notice_message(notice_id, str(learner_id), reply.payload())])
        logger.info("billing notice queued", extra={"learner_id": str(learner_id), "notice": notice_id})


class GraphNotifier:
    """Sends from the business number the learner last wrote to, to their wa_id or BSUID."""

    def __init__(self, pool: ConnectionPool, graph: GraphClient, default_phone_number_id: str) -> None:
        self.pool = pool
        self.graph = graph
        self.default_phone_number_id = default_phone_number_id

    def __call__(self, learner_id: UUID, reply: Reply, notice_id: str = "") -> None:
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT wa_id, bsuid, business_phone_number_id FROM learners WHERE id = %s", (learner_id,)
            ).fetchone()
        if row is None:
            logger.warning("notice for an unknown learner", extra={"learner_id": str(learner_id)})
            return
        wa_id, bsuid, pnid = row
        wamid = self.graph.send(
            pnid or self.default_phone_number_id, Recipient(wa_id=wa_id, bsuid=bsuid), reply
        )
        logger.info("billing notice sent", extra={"learner_id": str(learner_id), "wamid": wamid})
