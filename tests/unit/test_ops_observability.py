"""Library logs become the function's JSON lines, correlated by wamid.

Failures covered: records of modules imported after the handler configured logging (the tutor imports
lazily) escaping the JSON format or the correlation id; a correlation id leaking into the next
invocation; tracing helpers that crash when the X-Ray SDK is absent (the layer does not ship it).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

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


def test_two_functions_running_at_once_in_one_process_keep_their_own_keys(
    library_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    """The local stack's situation: the tutor and billing functions invoked at the same time on two
    threads of one process, their lines interleaved (a barrier makes each round log from both threads at
    once), the library's ``espaluz.*`` loggers writing through the tutor's handler, and the tutor handing
    work to the LLM pool. Faults covered: library lines of billing stamped with the tutor's service (the
    handler's formatter keys are the tutor's), a turn's lines carrying the other invocation's correlation
    or request id, and pool threads losing the turn's correlation id."""
    import threading

    from espaluz.dev.gateway import LambdaContext
    from espaluz.llm.chain import gather
    from espaluz.llm.types import Deadline
    from espaluz.ops.observability import http_request_id, invocation

    tutor_logger, billing_logger = Logger(service="obs-tutor"), Logger(service="obs-billing")
    configure_logging(tutor_logger)  # as in the local stack: the last function configured wins
    library = logging.getLogger("espaluz.shared.module")
    both = threading.Barrier(2, timeout=10)
    rounds = 5

    def tutor_body(event: dict[str, Any], context: Any) -> dict[str, Any]:
        for n in range(rounds):
            wamid = f"wamid.T{n}"
            correlate(tutor_logger, wamid)
            both.wait()
            expected = {"who": "obs-tutor", "expected": wamid, "request": context.aws_request_id}
            library.info("library line", extra=expected)
            tutor_logger.info("function line", extra=expected)
            gather({"llm": lambda e=expected: library.info("pool line", extra=e)}, Deadline(5.0))  # type: ignore[misc]
            both.wait()
        return {}

    def billing_body(event: dict[str, Any], context: Any) -> dict[str, Any]:
        expected = {"who": "obs-billing", "expected": "req-billing-1", "request": context.aws_request_id}
        for _ in range(rounds):
            both.wait()
            library.info("library line", extra=expected)
            billing_logger.info("function line", extra=expected)
            both.wait()
        return {}

    tutor = invocation(tutor_logger)(tutor_body)
    billing = invocation(billing_logger, http_request_id)(billing_body)
    runs = [
        threading.Thread(target=tutor, args=({"Records": []}, LambdaContext("obs-tutor"))),
        threading.Thread(
            target=billing,
            args=({"requestContext": {"requestId": "req-billing-1"}}, LambdaContext("obs-billing")),
        ),
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join(30)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == rounds * 5
    for line in lines:
        assert line["service"] == line["who"], line
        assert line["correlation_id"] == line["expected"], line
        assert line["function_request_id"] == line["request"], line
        assert line["function_name"] == line["who"], line
    assert {line["message"] for line in lines if line["who"] == "obs-tutor"} >= {"pool line", "library line"}
