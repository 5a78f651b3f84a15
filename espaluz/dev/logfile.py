"""Send the process's log output to a file for a while: ``espaluz chat`` runs the whole local stack in its
own process, and the functions' JSON log lines would otherwise land between the tutor's messages.

``LogsToFile(path)`` is a context manager. While it is active:

- every handler of the root logger and of any named logger (Powertools' JSON handlers included) that
  writes to the terminal (stdout or stderr) writes to the file instead, with its own format, so the file
  holds the same JSON lines a Lambda would write;
- ``logging.lastResort`` (what prints warnings of loggers without handlers) and ``warnings.warn`` (through
  ``logging.captureWarnings``) write to the file too.

Handlers created after entering are not seen until ``sweep()`` runs: call it after starting something that
configures logging (the local stack builds the functions' loggers while it starts). On exit every stream,
the last-resort handler and the warnings hook are put back as they were, and the file is closed. Handlers
that write elsewhere (a file, pytest's capture) are left alone. Levels are not changed.
"""

from __future__ import annotations

import logging
import sys
import warnings
from pathlib import Path
from types import TracebackType
from typing import IO, Any

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _is_terminal_stream(stream: Any) -> bool:
    """Whether ``stream`` is the process's stdout or stderr (also through a wrapper, by file number)."""
    if any(stream is s for s in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__) if s is not None):
        return True
    try:
        return int(stream.fileno()) in (1, 2)
    except (AttributeError, OSError, ValueError):
        return False


class LogsToFile:
    """Log output goes to ``path`` (appended, line-buffered) while the context is active (module docs)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None
        self._moved: dict[logging.StreamHandler[Any], Any] = {}
        self._last_resort: logging.Handler | None = None
        self._showwarning: Any = None

    def __enter__(self) -> LogsToFile:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8", buffering=1)
        fallback = logging.StreamHandler(self._file)
        fallback.setLevel(logging.WARNING)  # what lastResort lets through
        fallback.setFormatter(logging.Formatter(FORMAT))
        self._last_resort = logging.lastResort
        logging.lastResort = fallback
        self._showwarning = warnings.showwarning
        logging.captureWarnings(True)
        self.sweep()
        return self

    def sweep(self) -> None:
        """Point every terminal-writing handler that exists now at the file (idempotent)."""
        if self._file is None:
            raise RuntimeError("LogsToFile.sweep() outside its context")
        loggers: list[logging.Logger] = [logging.getLogger()]
        loggers += [
            lg for lg in list(logging.root.manager.loggerDict.values()) if isinstance(lg, logging.Logger)
        ]
        for logger in loggers:
            for handler in list(logger.handlers):
                if (
                    isinstance(handler, logging.StreamHandler)
                    and not isinstance(handler, logging.FileHandler)
                    and handler not in self._moved
                    and _is_terminal_stream(handler.stream)
                ):
                    self._moved[handler] = handler.setStream(self._file)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        for handler, stream in self._moved.items():
            if handler.stream is self._file:
                handler.setStream(stream)
        self._moved.clear()
        logging.lastResort = self._last_resort
        logging.captureWarnings(False)
        warnings.showwarning = self._showwarning
        if self._file is not None:
            self._file.close()
            self._file = None
