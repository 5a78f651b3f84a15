"""The local stand-in for the tutor's SQS event source mapping: it receives from the local FIFO queue,
invokes the real tutor Lambda handler with SQS-shaped events, and settles each message group by the
handler's ``batchItemFailures`` (as the mapping does with ReportBatchItemFailures). It behaves as Lambda
does where a learner waiting for a reply would notice:

- Concurrency. Up to ``concurrency`` invocations run at once (``LOCAL_TUTOR_CONCURRENCY``, as the event
  source's ``maximumConcurrency`` = ``tutorMaxConcurrency`` does), each on its own thread. The Sender
  paces replies to one learner (one per ``WHATSAPP_LEARNER_INTERVAL_SECONDS``) by waiting for that
  learner's slot; with one invocation at a time that wait held up every other learner.
- Batching. The local stack asks for one message per batch (``LOCAL_BATCH_SIZE``), so a batch never holds
  one learner's paced backlog in front of other learners' messages: a handler works its batch record by
  record, and Lambda's FIFO batches (up to 10 records, possibly of several groups) would make the others
  wait for every paced reply before theirs. ``batch_size`` > 1 (the tests' default) gives the queue's plain
  receive, several groups per batch.
- FIFO. The queue hands out a group only while no batch of it is in flight, oldest message first, so one
  learner's messages are still answered one at a time and in order, whatever the concurrency.
- Timeout (``TUTOR_TIMEOUT_SECONDS``, serverless.yml's ``tutorTimeout``). The handler gets a
  ``LambdaContext`` whose ``get_remaining_time_in_millis`` counts down to that deadline. Python threads
  cannot be killed, so the deadline is enforced on the batch rather than the thread: at the deadline the
  invocation counts as timed out, as Lambda counts it. Nothing of its batch is deleted (whatever the
  handler reports later is ignored), its concurrency slot is free again, and its group stays locked
  until the queue's visibility timeout since the receive (``visibility_timeout_ms``: 1.5x the timeout, so
  a retry never overlaps the invocation while it is within its deadline); then the whole batch is
  delivered again with a higher receive count. The thread runs on unobserved. That such a late finisher
  never answers a message twice is the tutor's per-wamid turn claim (espaluz/tutor/processor.py): the
  redelivery finds the turn ``sending``/``answered`` and acknowledges it without a reply, or finds it
  ``claimed`` and takes the claim over, after which the late thread's move to ``sending`` fails and it
  stops without sending.
- The clock inside the batch (espaluz/tutor/batch.py). Because the ``LambdaContext`` counts down, the
  handler's own budget logic runs unchanged here: it stops taking records when the remaining time cannot
  hold one more turn and reports the rest failed. What the handler asks of SQS's
  ``ChangeMessageVisibility`` for a failed record (its local stand-in,
  ``espaluz.tutor.batch.LOCAL_VISIBILITY``) becomes the group's retry delay: the shortened visibility of
  a retryable failure (``TUTOR_RETRY_VISIBILITY_SECONDS``, with its jitter), 0 for records not taken. A
  failure that asked for nothing waits ``RETRY_DELAY_MS`` (SQS would wait out the visibility timeout;
  locally that would only slow development down).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from espaluz.dev.gateway import LambdaContext, LambdaHandler
from espaluz.ops.observability import bind_thread
from espaluz.queue.local import LocalFifoQueue
from espaluz.tutor.batch import LOCAL_VISIBILITY

if TYPE_CHECKING:
    from espaluz.config import Settings
    from espaluz.queue.local import ReceivedMessage
    from espaluz.scheduler.tick import TickResult
    from espaluz.storage.redis import RedisClient

logger = logging.getLogger(__name__)

RETRY_DELAY_MS = 2_000  # a failure that asked for no visibility returns this soon (see the docstring)
LOCAL_BATCH_SIZE = 1  # see the module docstring (Batching)
VISIBILITY_PER_TIMEOUT = 1.5  # the local queue's visibility timeout, in tutor timeouts
IDLE_WAIT_S = 0.5  # nothing in flight: wait this long for the webhook's notification
SETTLE_WAIT_S = 0.1  # invocations in flight: look again this soon (a settled group may have more)
WORKER_SERVICE = "espaluz-local-worker"  # the service its own log lines name (no function wrote them)


@dataclass
class WorkerStats:
    """What the worker did, for tests and benchmarks (counts since it was built)."""

    invocations: int = 0
    failed: int = 0  # the handler raised or reported failures
    timed_out: int = 0  # past the deadline: the batch returns after the visibility timeout


class QueueWorker:
    """See the module docstring. ``run_once`` serves one batch on the caller's thread (tests); ``start``
    runs the concurrent loop the local stack uses."""

    def __init__(
        self,
        queue: LocalFifoQueue,
        handler: LambdaHandler,
        batch_size: int = 10,
        *,
        concurrency: int = 1,
        timeout_s: float = 60.0,
        function_name: str = "espaluz-tutor",
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.queue = queue
        self.handler = handler
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.function_name = function_name
        self.stats = WorkerStats()
        self._lock = threading.Lock()
        self._slots = threading.Semaphore(concurrency)
        self._in_flight = 0  # invocations within their deadline (each holds a slot)
        self._handlers: set[threading.Thread] = set()  # handler threads alive, late finishers included
        self._settled = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def for_local_stack(
        cls, redis_client: RedisClient, handler: LambdaHandler, settings: Settings
    ) -> QueueWorker:
        """The worker ``espaluz dev`` runs: concurrency and timeout from the settings, one message per
        batch, and a queue whose visibility timeout outlasts the tutor's timeout."""
        timeout_s = settings.tutor_timeout_seconds
        queue = LocalFifoQueue(
            redis_client, "inbound", visibility_timeout_ms=int(timeout_s * VISIBILITY_PER_TIMEOUT * 1000)
        )
        return cls(
            queue,
            handler,
            LOCAL_BATCH_SIZE,
            concurrency=settings.local_tutor_concurrency,
            timeout_s=timeout_s,
        )

    def run_once(self) -> int:
        """Receive one batch and process it; returns how many messages were handed to the handler."""
        received = self.queue.receive(self.batch_size)
        if received:
            self._invoke(received)
        return len(received)

    def running(self) -> int:
        """Handler threads still alive, including those of invocations that timed out."""
        with self._lock:
            return len(self._handlers)

    def _invoke(self, received: list[ReceivedMessage]) -> None:
        """One Lambda invocation: the handler on its own thread, waited for until the deadline."""
        context = LambdaContext(self.function_name, timeout_s=self.timeout_s)
        event = {"Records": [m.to_sqs_record(self.queue.arn) for m in received]}
        outcome: dict[str, Any] = {}

        def call() -> None:
            try:
                outcome["result"] = self.handler(event, context)
            except Exception as exc:  # the whole batch failed (as when a Lambda raises)
                outcome["error"] = exc
            finally:
                with self._lock:
                    self._handlers.discard(threading.current_thread())

        thread = threading.Thread(target=call, name=f"tutor-{context.aws_request_id[:8]}", daemon=True)
        with self._lock:
            self._handlers.add(thread)
            self.stats.invocations += 1
        thread.start()
        thread.join(context.get_remaining_time_in_millis() / 1000)
        if thread.is_alive():
            with self._lock:
                self.stats.timed_out += 1
            logger.warning(
                "tutor invocation timed out after %.1f s; its batch returns after %.1f s",
                self.timeout_s,
                self.queue.visibility_timeout_ms / 1000,
                extra={"request_id": context.aws_request_id, "messages": len(received)},
            )
            return
        self._settle(received, outcome)

    def _settle(self, received: list[ReceivedMessage], outcome: dict[str, Any]) -> None:
        error = outcome.get("error")
        if error is None:
            result: dict[str, Any] = outcome["result"]
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        else:
            failed = {m.message_id for m in received}
            # A batch whose every record failed makes Powertools raise BatchProcessingError; the
            # records' own errors were logged by the handler, so no second traceback here.
            traceback = type(error).__name__ != "BatchProcessingError"
            logger.warning(
                "tutor handler raised; the batch will be retried", exc_info=error if traceback else None
            )
        if failed:
            with self._lock:
                self.stats.failed += 1
        by_group: dict[str, list[str]] = defaultdict(list)
        retry_ms: dict[str, int] = {}  # a failed group's delay: what its first failed record asked for
        for m in received:
            asked = LOCAL_VISIBILITY.take(m.message_id)  # forget every record's ask, failed or not
            if m.message_id in failed:
                if m.group_id not in retry_ms:
                    retry_ms[m.group_id] = RETRY_DELAY_MS if asked is None else asked * 1000
            else:
                by_group[m.group_id].append(m.message_id)
            by_group.setdefault(m.group_id, [])
        for group, done in by_group.items():
            self.queue.settle(group, done, retry_delay_ms=retry_ms.get(group, 0))

    def _serve(self, received: list[ReceivedMessage]) -> None:
        bind_thread(WORKER_SERVICE)
        try:
            self._invoke(received)
        except Exception:  # settling failed (Redis gone): the group returns after the visibility timeout
            logger.exception("local queue worker error")
        finally:
            with self._lock:
                self._in_flight -= 1
            self._slots.release()
            self._settled.set()

    def _loop(self) -> None:
        bind_thread(WORKER_SERVICE)
        while not self._stop.is_set():
            if not self._slots.acquire(timeout=IDLE_WAIT_S):
                continue  # every slot busy
            try:
                received = self.queue.receive(self.batch_size)
            except Exception:  # Redis gone for a moment: keep the worker alive, try again shortly
                self._slots.release()
                if self._stop.is_set():
                    return
                logger.exception("local queue worker error")
                self._stop.wait(1.0)
                continue
            if not received:
                self._slots.release()
                self._idle()
                continue
            with self._lock:
                self._in_flight += 1
            name = f"tutor-invocation-{received[0].message_id}"
            threading.Thread(target=self._serve, args=(received,), name=name, daemon=True).start()

    def _idle(self) -> None:
        """Nothing to receive. With invocations in flight, a settle may make a group deliverable (it sends
        no notification), so look again soon; otherwise wait for the webhook's notification."""
        with self._lock:
            busy = self._in_flight > 0
        if busy:
            self._settled.wait(SETTLE_WAIT_S)
            self._settled.clear()
        else:
            try:
                self.queue.wait(IDLE_WAIT_S)
            except Exception:
                if not self._stop.is_set():
                    logger.exception("local queue worker error")
                self._stop.wait(1.0)

    def start(self) -> None:
        self.queue.release_all()  # this worker is the queue's only consumer; old locks are a dead one's
        self._thread = threading.Thread(target=self._loop, name="espaluz-queue-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop receiving, then give the invocations in flight up to ``timeout`` to finish and settle."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        deadline = time.monotonic() + timeout
        acquired = 0
        for _ in range(self.concurrency):  # every slot back means nothing is in flight
            if not self._slots.acquire(timeout=max(0.0, deadline - time.monotonic())):
                break
            acquired += 1
        for _ in range(acquired):
            self._slots.release()


TICK_INTERVAL_S = 60.0  # the local stand-in for the scheduler's EventBridge rule (5 minutes in AWS)


class SchedulerTicker:
    """The local stand-in for the ``scheduler`` Lambda's schedule: one pass of ``run_pass`` (in the local
    stack, ``tick_from_settings`` with the local settings, whose queue is the one the webhook fills and
    this module's worker consumes) at start and then every ``interval_s``, on a daemon thread.

    A pass that raises (Postgres or Redis away for a moment, the queue refusing) is logged at WARNING and
    the next one runs as planned: nothing is lost, since a failed pass claims nothing, and it never stops
    the stack. ``tick(at)`` runs one pass on the caller's thread and raises what the pass raised (the
    simulator's "skip ahead", ``POST /dev/tick``); passes never overlap (a lock), as they may not need
    to but the log reads better."""

    def __init__(
        self, run_pass: Callable[[datetime | None], TickResult], interval_s: float = TICK_INTERVAL_S
    ) -> None:
        self.run_pass = run_pass
        self.interval_s = interval_s
        self.passes = 0  # passes that completed (tests)
        self.failures = 0  # passes that raised
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self, at: datetime | None = None) -> TickResult:
        """One pass at ``at`` (aware; ``None``: now). Raises what the pass raised."""
        with self._lock:
            try:
                result = self.run_pass(at)
            except Exception:
                self.failures += 1
                raise
            self.passes += 1
            return result

    def _loop(self) -> None:
        bind_thread(WORKER_SERVICE)
        while not self._stop.is_set():
            try:
                result = self.tick()
                if result.queued:
                    logger.info("scheduler pass queued %d message(s): %s", result.queued, result.by_kind)
            except Exception as exc:  # never kill the stack: the next pass retries
                if self._stop.is_set():
                    return
                logger.warning(
                    "scheduler pass failed (%s: %s); retrying in %.0f s",
                    type(exc).__name__,
                    exc,
                    self.interval_s,
                )
            self._stop.wait(self.interval_s)

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="espaluz-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the pass in progress (if any) ends, waiting up to ``timeout``."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
