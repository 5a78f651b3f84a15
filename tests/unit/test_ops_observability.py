"""Library logs become the function's JSON lines, correlated by wamid.

Failures covered: records of modules imported after the handler configured logging (the tutor imports
lazily) escaping the JSON format or the correlation id; a correlation id leaking into the next
invocation; tracing helpers that crash when the X-Ray SDK is absent (the layer does not ship it).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from aws_lambda_powertools import Logger

from espaluz.ops.observability import configure_logging, correlate, subsegment


@pytest.fixture
def library_logger() -> Iterator[logging.Logger]:
    """The ``espaluz`` logger, restored afterwards (configure_logging stops its propagation)."""
    parent = logging.getLogger("espaluz")
    saved = (list(parent.handlers), parent.propagate, parent.level)
    yield parent
    parent.handlers, parent.propagate = saved[0], saved[1]
    parent.setLevel(saved[2])


def test_late_library_loggers_write_json_with_the_wamid(
    library_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    logger = Logger(service="tutor")
    configure_logging(logger)
    correlate(logger, "wamid.HBgLMTIz")
    logging.getLogger("espaluz.tutor.some_module_imported_later").info(
        "turn answered", extra={"learner_id": "0b7d"}
    )
    logger.clear_state()
    logging.getLogger("espaluz.tutor.some_module_imported_later").info("next invocation")
    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert first["message"] == "turn answered"
    assert first["correlation_id"] == "wamid.HBgLMTIz"
    assert first["learner_id"] == "0b7d"
    assert first["service"] == "tutor"
    assert first["name"] == "espaluz.tutor.some_module_imported_later"
    assert second.get("correlation_id") is None


def test_subsegment_is_a_no_op_without_the_xray_sdk() -> None:
    ran = []
    with subsegment("respond"):
        ran.append(True)
    assert ran == [True]
