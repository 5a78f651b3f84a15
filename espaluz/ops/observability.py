"""Logging and tracing conventions for the Lambda functions.

- Logs are Powertools JSON lines. ``configure_logging(logger)`` makes the library's standard loggers
  (``espaluz.*``, which use ``logging.getLogger(__name__)``) write through the function's Powertools
  Logger, so their records are JSON too and carry the correlation id.
- The correlation id is the WhatsApp message id (wamid): ``correlate(logger, wamid)`` at the start of a
  turn, so every line of that turn, across the webhook and the tutor, can be found with one query. The
  id is not personal data; phone numbers and message text never go into logs at INFO.
- Tracing: Lambda's active tracing (``provider.tracing.lambda`` in serverless.yml) records every
  invocation without code. ``subsegment(name)`` adds a named span when the X-Ray SDK is installed
  (Powertools' Tracer needs ``aws-xray-sdk``, which the layer does not ship yet) and is a no-op
  otherwise, so callers need no condition and the webhook never pays for the SDK's import.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger


def configure_logging(logger: Logger, library: str = "espaluz") -> None:
    """Send the library's standard-logging records through ``logger`` (JSON, same keys)."""
    from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

    logging.getLogger(library)  # make sure the parent exists before copying
    copy_config_to_registered_loggers(source_logger=logger, include={library})


def correlate(logger: Logger, wamid: str) -> None:
    """Set the correlation id for what follows in this invocation (cleared by ``clear_state``)."""
    logger.set_correlation_id(wamid)


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
