"""The tutor's batches within the Lambda's clock: the per-turn budget, when to stop taking records, and how
soon a record that was not answered comes back.

Why. A batch of the inbound FIFO queue runs record by record inside one invocation of at most
``tutorTimeout`` (60 s). An invocation that times out returns nothing: SQS delivers the whole batch again
after the queue's visibility timeout (6 minutes) and counts a receive against every message in it, so
learners who did nothing wrong wait 6 minutes and walk toward the dead-letter queue (five receives).
Three rules keep a batch inside its clock:

1. **The per-turn budget** (:func:`turn_budget`) is the sum of every wait one turn can contain, each capped
   by its own setting. With the defaults (seconds)::

       voice note       download and recognition share VOICE_DEADLINE_SECONDS:                     18
                          download: 2 attempts x 2 Graph requests (media info, file) x 3 s
                          (WHATSAPP_GRAPH_TIMEOUT_SECONDS) + 0.5 s backoff = 12.5, never cut;
                          Groq Whisper 3 s (no SDK retry), Modal 15 s (cancelled when abandoned),
                          each given at most what is left, none started with under 1 s left
       LLM work         LLM_TURN_DEADLINE_SECONDS (intent, agents, fallbacks)                       8
       pacing           WHATSAPP_SEND_MAX_WAIT_SECONDS (a slot further away defers to the queue)   12
       send             3 attempts x 3 s (Graph timeout) + backoffs 0.5 + 1.0 (jitter <= 1x)        10.5
       -------------------------------------------------------------------------------------------
       per-turn budget                                                                             48.5
       tutor timeout (tutorTimeout)                                                                60
       margin: Postgres, Redis, memory retrieval, Polly, decoding the audio          11.5 (19 %)

   A text turn has no voice note (30.5 s); the budget is the voice turn's, the longest. Longer waits do
   not stretch a turn: a pacing slot further away than ``max_wait`` raises ``SendDeferred`` and a failed
   download answers through the queue (both retryable, rule 3). Not bounded here: a reply of several
   parts waits the learner interval (6 s) before each part after the first, and 131056 (pair rate
   limit) backs off at least that long; the margin holds one such wait, not more.
2. **Stop taking records** when the remaining time (``context.get_remaining_time_in_millis()``) is below
   the budget. The rest of the batch is reported in ``batchItemFailures`` untouched, and its visibility
   is set to 0 so the next invocation takes it at once (FIFO still holds: SQS hands out no message of a
   group while an earlier one of it is in flight, and the processor skips a failed group's later
   records). The first record is always taken: a timeout below the budget is a configuration fault
   (tests/unit/test_batch_budget.py), and an invocation that takes nothing never makes progress.
3. **A retryable failure comes back soon**: the failed message's visibility becomes
   ``tutor_retry_visibility_seconds`` (15 s) plus or minus ``tutor_retry_jitter_seconds`` (5 s), inside
   10-30 s in production, instead of the 6-minute visibility timeout. Retryable means the same message may
   succeed shortly: a Graph API error marked retryable (5xx, rate limit, a deferred send) or a voice note
   that could not be fetched yet. A turn being answered by another invocation (``TurnInProgress``) and
   every other error keep the full visibility timeout: the other invocation may hold the claim for up to
   the claim timeout (90 s), and an outage of Postgres or Redis should not spend a learner's five
   receives in a minute. The failed group's later records get visibility 0 (they wait behind it anyway).

The local stack's queue (espaluz/dev/worker.py) is no SQS: for a record of it the visibility asked for is
kept in :data:`LOCAL_VISIBILITY`, and the worker, which runs the handler in the same process, takes it as
the group's retry delay.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor
from aws_lambda_powertools.utilities.batch.exceptions import SQSFifoMessageGroupCircuitBreakerError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch import ExceptionInfo, FailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from espaluz.config import Settings

logger = logging.getLogger(__name__)

SEND_BACKOFF_MAX_SECONDS = 8.0  # SendPolicy.backoff_max (espaluz/whatsapp/sender.py): each backoff's cap
LOCAL_QUEUE_PREFIX = "espaluz-local-"  # LocalFifoQueue names its queues so (espaluz/queue/local.py)


@dataclass(frozen=True)
class TurnBudget:
    """The waits of one turn, by name, in seconds; ``total`` is the per-turn budget."""

    waits: tuple[tuple[str, float], ...]

    @property
    def total(self) -> float:
        return sum(seconds for _, seconds in self.waits)


def turn_budget(settings: Settings) -> TurnBudget:
    """Every wait one turn can contain, from the settings (the arithmetic is in the module docstring)."""
    graph = settings.whatsapp_graph_timeout_seconds
    attempts = settings.whatsapp_send_max_attempts
    backoffs = sum(
        min(SEND_BACKOFF_MAX_SECONDS, settings.whatsapp_send_backoff_seconds * 2.0 ** (k - 1))
        for k in range(1, attempts)
    )
    return TurnBudget(
        (
            # The download is never cut, so it bounds the voice note's share when it alone is longer.
            ("voice note", max(settings.voice_deadline_seconds, download_seconds(settings))),
            ("llm", settings.llm_turn_deadline_seconds),
            ("pacing", settings.whatsapp_send_max_wait_seconds),
            ("send", attempts * graph + backoffs),
        )
    )


def download_seconds(settings: Settings) -> float:
    """The longest a voice note's download can take: each attempt asks for a fresh URL and fetches the
    file (two Graph requests), with GraphClient.fetch_media's backoff (0.5 s, doubling) between."""
    attempts = settings.voice_download_attempts
    backoffs = sum(0.5 * 2.0 ** (k - 1) for k in range(1, attempts))
    return attempts * 2 * settings.whatsapp_graph_timeout_seconds + backoffs


def is_retryable(exc: BaseException | None) -> bool:
    """Whether the same message may succeed within seconds (rule 3 of the module docstring)."""
    from espaluz.tutor.processor import VoiceRetry
    from espaluz.whatsapp.graph import GraphAPIError

    if isinstance(exc, VoiceRetry):
        return True
    return isinstance(exc, GraphAPIError) and bool(exc.retryable)


def retry_visibility(settings: Settings, rng: random.Random | None = None) -> int:
    """Seconds a retryable failure stays invisible: the setting, jittered so that learners who failed
    together (a Graph outage) do not all come back in the same second."""
    jitter = settings.tutor_retry_jitter_seconds
    spread = (rng or _RNG).uniform(-jitter, jitter) if jitter else 0.0
    return max(0, round(settings.tutor_retry_visibility_seconds + spread))


_RNG = random.Random()  # noqa: S311 - jitter, not security


class Visibility(Protocol):
    """Where a record's visibility is changed: SQS, or the local stack's queue."""

    def change(self, record: SQSRecord, seconds: int) -> None: ...


class LocalVisibility:
    """The local queue's stand-in for ``ChangeMessageVisibility``: the worker, in this process, reads what
    the handler asked for when it settles the batch (see espaluz/dev/worker.py)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._asked: dict[str, int] = {}

    def change(self, record: SQSRecord, seconds: int) -> None:
        with self._lock:
            self._asked[record.message_id] = seconds

    def take(self, message_id: str) -> int | None:
        """The visibility asked for this message (seconds), forgotten once read; None if none was."""
        with self._lock:
            return self._asked.pop(message_id, None)


LOCAL_VISIBILITY = LocalVisibility()


class SqsVisibility:
    """``ChangeMessageVisibility`` on the record's queue, whose URL Powertools derives from the record's
    ARN (no ``sqs:GetQueueUrl`` needed); boto3 honours ``AWS_ENDPOINT_URL_SQS``, which the tests point at
    moto. The client is made on first use only: most batches fail nothing."""

    def __init__(self) -> None:
        self._client: Any = None

    def change(self, record: SQSRecord, seconds: int) -> None:
        if self._client is None:
            import boto3

            self._client = boto3.client("sqs", region_name=record.aws_region)
        self._client.change_message_visibility(
            QueueUrl=record.queue_url, ReceiptHandle=record.receipt_handle, VisibilityTimeout=seconds
        )


class RecordVisibility:
    """Local queue records to :data:`LOCAL_VISIBILITY`, the others to SQS."""

    def __init__(self) -> None:
        self.sqs = SqsVisibility()

    def change(self, record: SQSRecord, seconds: int) -> None:
        local = record.event_source_arn.rsplit(":", 1)[-1].startswith(LOCAL_QUEUE_PREFIX)
        (LOCAL_VISIBILITY if local else self.sqs).change(record, seconds)


class OutOfTime(RuntimeError):
    """The invocation's remaining time cannot hold one more turn; the record was not touched."""


class BudgetedFifoProcessor(SqsFifoPartialProcessor):
    """Powertools' FIFO processor (``skip_group_on_error``) that also stops taking records when the
    remaining time is below ``budget_s`` and shortens the visibility of what it reports failed (module
    docstring, rules 2 and 3)."""

    def __init__(
        self,
        budget_s: float,
        remaining_ms: Callable[[], int],
        visibility: Visibility,
        retry_seconds: Callable[[], int],
    ) -> None:
        super().__init__(skip_group_on_error=True)
        self.budget_s = budget_s
        self.remaining_ms = remaining_ms
        self.visibility = visibility
        self.retry_seconds = retry_seconds
        self.taken = 0  # records handed to the record handler in this batch
        self.out_of_time = False

    def _process_record(self, record: dict[str, Any]) -> Any:
        if not self.out_of_time and self.taken and self.remaining_ms() < self.budget_s * 1000:
            self.out_of_time = True
            logger.warning(
                "tutor batch stopped: the remaining time cannot hold one more turn",
                extra={"remaining_ms": self.remaining_ms(), "budget_s": self.budget_s, "taken": self.taken},
            )
        if self.out_of_time:
            self._current_group_id = record.get("attributes", {}).get("MessageGroupId")
            error = OutOfTime("not taken: the invocation's remaining time is below the per-turn budget")
            return self.failure_handler(
                record=self._to_batch_type(record, event_type=self.event_type, model=self.model),
                exception=(OutOfTime, error, None),
            )
        self.taken += 1  # a skipped group's record counts too: it only makes the check start sooner
        return super()._process_record(record)  # type: ignore[no-untyped-call]

    def failure_handler(self, record: Any, exception: ExceptionInfo) -> FailureResponse:
        error = exception[1]
        if isinstance(error, (OutOfTime, SQSFifoMessageGroupCircuitBreakerError)):
            seconds: int | None = 0
        elif is_retryable(error):
            seconds = self.retry_seconds()
        else:
            seconds = None  # the queue's visibility timeout: see rule 3
        if seconds is not None:
            try:
                self.visibility.change(record, seconds)
            except Exception:  # the message then waits out the visibility timeout, as before
                logger.warning("could not shorten a failed record's visibility", exc_info=True)
        return super().failure_handler(record, exception)


def processor_for(
    settings: Settings, context: Any, visibility: Visibility | None = None
) -> BudgetedFifoProcessor:
    """The processor of one invocation: the budget from ``settings``, the clock from ``context``."""
    budget = turn_budget(settings).total
    return BudgetedFifoProcessor(
        budget,
        context.get_remaining_time_in_millis,
        visibility or RecordVisibility(),
        lambda: retry_visibility(settings),
    )
