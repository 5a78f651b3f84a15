"""The notify port: how billing gets a chat message to a learner, and its queue adapter.

Billing notices (thanks after payment, payment failed) are handed over after the Stripe event is
committed. A notice that cannot be handed over is logged and dropped: the event must not be retried for it
(a retry would find the event recorded and do nothing anyway).

Production uses ``QueueNotifier``: the notice goes on the tutor's queue and leaves through the tutor's
send policy (pacing, the 24-hour window: outside it the notice waits behind the re-engagement template),
at most once per notice id.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from uuid import UUID

    from espaluz.queue.base import Queue
    from espaluz.whatsapp.outgoing import Reply

logger = logging.getLogger(__name__)


class Notify(Protocol):
    def __call__(self, learner_id: UUID, reply: Reply, notice_id: str) -> None:
        """``notice_id`` is stable across Stripe's retries of the event: the learner gets it once."""


class QueueNotifier:
    """Puts the notice on the tutor's queue (``espaluz.whatsapp.inbound.notice_message``)."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue

    def __call__(self, learner_id: UUID, reply: Reply, notice_id: str) -> None:
        from espaluz.whatsapp.inbound import notice_message

        self.queue.send_batch([notice_message(notice_id, str(learner_id), reply.payload())])
        logger.info("billing notice queued", extra={"learner_id": str(learner_id), "notice": notice_id})
