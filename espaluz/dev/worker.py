"""The local queue consumer: receives batches from the local FIFO queue and hands them to the real
tutor Lambda handler as SQS events, then settles each message group by the handler's
``batchItemFailures`` (as the SQS event source mapping does with ReportBatchItemFailures)."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from typing import Any

from espaluz.dev.gateway import LambdaContext, LambdaHandler
from espaluz.queue.local import LocalFifoQueue

logger = logging.getLogger(__name__)

RETRY_DELAY_MS = 2_000


class QueueWorker:
    def __init__(self, queue: LocalFifoQueue, handler: LambdaHandler, batch_size: int = 10) -> None:
        self.queue = queue
        self.handler = handler
        self.batch_size = batch_size
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """Receive one batch and process it; returns how many messages were handed to the handler."""
        received = self.queue.receive(self.batch_size)
        if not received:
            return 0
        event = {"Records": [m.to_sqs_record(self.queue.arn) for m in received]}
        try:
            result: dict[str, Any] = self.handler(event, LambdaContext("espaluz-tutor", timeout_s=60))
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        except Exception:  # the whole batch failed (as when a Lambda raises)
            logger.exception("tutor handler raised; the batch will be retried")
            failed = {m.message_id for m in received}
        by_group: dict[str, list[str]] = defaultdict(list)
        groups_failed: set[str] = set()
        for m in received:
            if m.message_id in failed:
                groups_failed.add(m.group_id)
            else:
                by_group[m.group_id].append(m.message_id)
            by_group.setdefault(m.group_id, [])
        for group, done in by_group.items():
            self.queue.settle(group, done, retry_delay_ms=RETRY_DELAY_MS if group in groups_failed else 0)
        return len(received)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self.run_once() == 0:
                    self.queue.wait(0.5)
            except Exception:  # Redis gone for a moment: keep the worker alive, try again shortly
                if self._stop.is_set():
                    return
                logger.exception("local queue worker error")
                self._stop.wait(1.0)

    def start(self) -> None:
        self.queue.release_all()  # this worker is the queue's only consumer; old locks are a dead one's
        self._thread = threading.Thread(target=self._loop, name="espaluz-queue-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
