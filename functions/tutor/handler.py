"""Lambda entry point of the tutor: an SQS FIFO batch, answered with partial batch failures.

Per-learner order: when a message fails, the rest of its message group in the batch is reported failed
too (``skip_group_on_error``), so a learner's later message is never answered before an earlier one.
Other learners' messages in the same batch are unaffected.

The batch keeps within the Lambda's clock (espaluz/tutor/batch.py): no record is taken once the remaining
time cannot hold one more turn, and what is reported failed comes back soon (ChangeMessageVisibility).
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import process_partial_response

from espaluz.config import get_settings
from espaluz.ops import metrics
from espaluz.ops.observability import configure_logging, correlate, invocation
from espaluz.tutor.batch import processor_for
from espaluz.tutor.burst import bursts_of

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from espaluz.tutor.processor import TutorProcessor

logger = Logger(service="espaluz-tutor", log_uncaught_exceptions=True)
# This invocation's bursts (a context variable: the local stack runs invocations on threads).
_bursts: ContextVar[dict[str, list[str]]] = ContextVar("tutor_bursts")
configure_logging(logger)


@lru_cache(maxsize=1)
def processor() -> TutorProcessor:
    from espaluz.tutor.processor import build_processor

    return build_processor(get_settings())


def record_handler(record: SQSRecord) -> None:
    # The deduplication id is the wamid (or a stable id for other updates): the correlation id of a turn.
    correlate(logger, record.attributes.message_deduplication_id or record.message_id)
    metrics.queue_age(metrics.queue_age_of(record.raw_event.get("attributes", {}), time.time()))
    # A learner's consecutive messages in the batch are answered as one turn from the first of them
    # (espaluz/tutor/burst.py); the others are then acknowledged by the turn ledger.
    burst = (_bursts.get(None) or {}).get(record.message_id)
    processor().process_burst(burst or [record.body])


@invocation(logger)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _bursts.set(bursts_of(event.get("Records") or []))
    batch = processor_for(get_settings(), context)
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=batch, context=context
    )
    return dict(response)  # a TypedDict; the Lambda runtime wants the plain mapping
