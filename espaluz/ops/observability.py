"""Logging and tracing conventions for the Lambda functions.

- Logs are Powertools JSON lines. ``configure_logging(logger)`` makes the library's standard loggers
  (``espaluz.*``, which use ``logging.getLogger(__name__)``) write through the function's Powertools
  Logger, so their records are JSON too and carry the correlation id.
- The correlation id is the WhatsApp message id (wamid): ``correlate(logger, wamid)`` at the start of a
  turn, so every line of that turn, across the webhook and the tutor, can be found with one query. The
  id is not personal data; phone numbers and message text never go into logs at INFO. The HTTP functions
  correlate by API Gateway's request id.
- Keys are per thread. ``@invocation(logger)`` wraps a handler as ``inject_lambda_context`` does and puts
  the invocation's own keys (service, function, request id, correlation id) in Powertools' thread-local
  keys, which every Powertools formatter prefers to its own. Why: a Logger's ordinary keys live on its
  formatter, one per function per process. In Lambda a process serves one invocation at a time, so that
  was enough; the local stack runs all three functions in one process, the tutor on several threads at
  once, and the ``espaluz.*`` loggers write through whichever function configured them last, so formatter
  keys stamped billing lines ``espaluz-tutor`` and could give one turn's lines another's wamid. Work a
  handler hands to a thread pool must run in a copy of its context (``contextvars.copy_context().run``)
  to keep the keys (espaluz.llm.chain does).
- Tracing: Lambda's active tracing (``provider.tracing.lambda`` in serverless.yml) records every
  invocation without code. ``subsegment(name)`` adds a named span when the X-Ray SDK is installed
  (Powertools' Tracer needs ``aws-xray-sdk``, which the layer does not ship yet) and is a no-op
  otherwise, so callers need no condition and the webhook never pays for the SDK's import.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import logging
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]  # a Lambda entry point
# The keys an invocation sets for its thread; a thread that serves none (``bind_thread``) blanks them.
INVOCATION_KEYS = (
    "function_name",
    "function_memory_size",
    "function_arn",
    "function_request_id",
    "correlation_id",
)


def configure_logging(logger: Logger, library: str = "espaluz") -> None:
    """Send the library's standard-logging records through ``logger`` (JSON, same keys)."""
    from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

    logging.getLogger(library)  # make sure the parent exists before copying
    copy_config_to_registered_loggers(source_logger=logger, include={library})


def correlate(logger: Logger, wamid: str) -> None:
    """Set the correlation id for what follows on this thread in this invocation (cleared when the
    ``@invocation`` ends, and by ``clear_state``)."""
    logger.thread_safe_append_keys(correlation_id=wamid)


def invocation(
    logger: Logger, correlation_id: Callable[[dict[str, Any]], str | None] | None = None
) -> Callable[[Handler], Handler]:
    """``@logger.inject_lambda_context(clear_state=True)`` whose keys are the thread's (module docstring):
    the service, the Lambda context's function keys and, when ``correlation_id`` finds one in the event,
    the correlation id."""
    from aws_lambda_powertools.logging.lambda_context import build_lambda_context_model

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def bound(event: dict[str, Any], context: Any) -> dict[str, Any]:
            keys: dict[str, Any] = {"service": logger.service, **vars(build_lambda_context_model(context))}
            if correlation_id is not None:
                keys["correlation_id"] = correlation_id(event)
            logger.thread_safe_append_keys(**keys)
            try:
                return handler(event, context)
            finally:
                logger.thread_safe_clear_keys()

        wrapped: Handler = logger.inject_lambda_context(clear_state=True)(bound)
        return wrapped

    return decorate


def http_request_id(event: dict[str, Any]) -> str | None:
    """API Gateway's id of an HTTP request (payload 2.0), the HTTP functions' correlation id."""
    request_id = (event.get("requestContext") or {}).get("requestId")
    return str(request_id) if request_id else None


def bind_thread(service: str) -> None:
    """Name ``service`` on this thread's lines, and no function's request or correlation id: for threads
    that serve no invocation (the local stack's queue worker), which would otherwise show the keys some
    function's formatter was last given."""
    from aws_lambda_powertools.logging.formatter import THREAD_LOCAL_KEYS

    THREAD_LOCAL_KEYS.set({"service": service, **dict.fromkeys(INVOCATION_KEYS)})


@lru_cache(maxsize=1)
def _tracer() -> Any:
    if importlib.util.find_spec("aws_xray_sdk") is None:
        return None
    from aws_lambda_powertools import Tracer

    return Tracer()


@contextlib.contextmanager
def subsegment(name: str) -> Iterator[None]:
    """An X-Ray subsegment around the block when tracing is available; otherwise nothing."""
    tracer = _tracer()
    if tracer is None:
        yield
        return
    with tracer.provider.in_subsegment(name):
        yield
