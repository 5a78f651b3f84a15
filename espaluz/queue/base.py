"""The queue port: what the webhook needs to hand messages to the tutor, FIFO per learner.

Adapters: ``sqs.SqsQueue`` (production, and moto in tests) and ``local.LocalFifoQueue`` (the local stack,
Redis-backed so that queued messages survive a restart). Both keep SQS FIFO semantics: order within a
message group, deduplication by id for five minutes, a dead-letter queue after ``max_receives``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class QueueMessage:
    body: str
    group_id: str
    dedup_id: str


class QueueError(Exception):
    """The queue did not take every message; the caller must not report success (e.g. answer 5xx)."""


class Queue(Protocol):
    def send_batch(self, messages: Sequence[QueueMessage]) -> None:
        """Enqueue all ``messages`` or raise ``QueueError``. Partial success is reported as an error:
        re-sending is safe because the dedup id makes repeats harmless."""
        ...
