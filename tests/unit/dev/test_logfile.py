"""Log output moved to a file while ``espaluz chat`` runs (espaluz/dev/logfile.py)."""

from __future__ import annotations

import io
import logging
import sys
import uuid
import warnings
from pathlib import Path
from typing import TextIO

import pytest

from espaluz.dev.logfile import LogsToFile


def _logger(stream: TextIO) -> tuple[logging.Logger, logging.StreamHandler[TextIO]]:
    logger = logging.getLogger(f"espaluz.test_logfile.{uuid.uuid4().hex}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter('{"message":"%(message)s"}'))
    logger.addHandler(handler)
    return logger, handler


def test_terminal_handlers_write_to_the_file_while_active_and_back_after(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The fault: JSON log lines written to stdout/stderr between the chat's turns."""
    to_stdout, out_handler = _logger(sys.stdout)
    to_stderr, _ = _logger(sys.stderr)
    path = tmp_path / "logs" / "chat.log"
    with LogsToFile(path):
        to_stdout.info("turn answered")
        to_stderr.warning("webhook accepted")
    assert capsys.readouterr() == ("", "")
    lines = path.read_text().splitlines()
    assert lines == ['{"message":"turn answered"}', '{"message":"webhook accepted"}']  # their own format
    to_stdout.info("after")
    assert capsys.readouterr().out == '{"message":"after"}\n'
    assert out_handler.stream is sys.stdout


def test_handlers_created_inside_are_moved_by_sweep(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The local stack builds the functions' loggers after the chat has started."""
    path = tmp_path / "chat.log"
    with LogsToFile(path) as logs:
        late, _ = _logger(sys.stdout)
        logs.sweep()
        logs.sweep()  # idempotent: the handler's original stream is kept once
        late.info("late")
    assert capsys.readouterr().out == ""
    assert path.read_text() == '{"message":"late"}\n'
    late.info("restored")
    assert capsys.readouterr().out == '{"message":"restored"}\n'


def test_handlers_that_write_elsewhere_are_left_alone(tmp_path: Path) -> None:
    elsewhere = io.StringIO()
    logger, handler = _logger(elsewhere)
    with LogsToFile(tmp_path / "chat.log"):
        logger.info("kept")
    assert handler.stream is elsewhere
    assert elsewhere.getvalue() == '{"message":"kept"}\n'
    assert (tmp_path / "chat.log").read_text() == ""


def test_last_resort_and_warnings_are_redirected_and_restored(tmp_path: Path) -> None:
    """Warnings of loggers without handlers (lastResort) and ``warnings.warn`` would print to stderr."""
    before_last_resort, before_showwarning = logging.lastResort, warnings.showwarning
    path = tmp_path / "chat.log"
    with LogsToFile(path):
        assert logging.lastResort is not None
        record = logging.LogRecord("httpx", logging.WARNING, __file__, 1, "pool full", None, None)
        logging.lastResort.handle(record)
        assert warnings.showwarning is not before_showwarning  # routed through logging
    assert "WARNING httpx: pool full" in path.read_text()
    assert logging.lastResort is before_last_resort
    assert warnings.showwarning is before_showwarning


def test_sweep_outside_the_context_is_refused(tmp_path: Path) -> None:
    """Bad use: sweeping before entering would have nowhere to move the handlers to."""
    with pytest.raises(RuntimeError):
        LogsToFile(tmp_path / "chat.log").sweep()
