"""Process-wide logging for ``chronik start``: one line per event, with a timestamp.

Format: ``2025-01-31T12:34:56.789+0000 INFO  [chronik.cli] message``. Newlines inside a message or a
traceback are escaped as ``\\n`` so that every event stays on one line (grep- and journald-friendly).
Twisted's own log events are bridged into :mod:`logging` (logger ``twisted``), so the reactor's
messages use the same format; :func:`setup_logging` does this once per process.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

__all__ = ["OneLineFormatter", "level_from_name", "setup_logging"]

_LEVELS = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARN": logging.WARNING,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
    "CRITICAL": logging.CRITICAL,
}
_twisted_bridged = False


def level_from_name(name: str) -> int:
    """``"info"``/``"WARN"``/... -> a :mod:`logging` level; ``ValueError`` for anything else."""
    try:
        return _LEVELS[name.strip().upper()]
    except KeyError:
        raise ValueError(f"unknown log level {name!r}; expected one of {', '.join(_LEVELS)}") from None


class OneLineFormatter(logging.Formatter):
    """``<ISO-8601 local time with ms and offset> <LEVEL> [<logger>] <message>``, on one line."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        ct = time.localtime(record.created)
        return time.strftime("%Y-%m-%dT%H:%M:%S", ct) + f".{int(record.msecs):03d}" + time.strftime("%z", ct)

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            message = f"{message} | {record.exc_text}"
        if record.stack_info:
            message = f"{message} | {self.formatStack(record.stack_info)}"
        message = message.replace("\r", "\\r").replace("\n", "\\n")
        return f"{self.formatTime(record)} {record.levelname:<5} [{record.name}] {message}"


def setup_logging(level: str | int = "INFO", *, stream: TextIO | None = None, bridge_twisted: bool = True) -> None:
    """Send the root logger's events to ``stream`` (default stderr) at ``level``, one line each.

    Calling it again replaces the handler it installed earlier (other handlers, e.g. pytest's, are
    left alone). With ``bridge_twisted``, Twisted's global log is routed into :mod:`logging` (once per
    process; the reactor code must not call ``globalLogBeginner.beginLoggingTo`` itself).
    """
    global _twisted_bridged
    numeric = level if isinstance(level, int) else level_from_name(level)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_chronik", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler._chronik = True  # type: ignore[attr-defined]
    handler.setFormatter(OneLineFormatter())
    root.addHandler(handler)
    root.setLevel(numeric)
    logging.captureWarnings(True)
    if bridge_twisted and not _twisted_bridged:
        try:
            from twisted.logger import STDLibLogObserver, globalLogBeginner
        except ImportError:  # pragma: no cover - twisted is a runtime dependency
            return
        globalLogBeginner.beginLoggingTo([STDLibLogObserver(name="twisted")], redirectStandardIO=False)
        _twisted_bridged = True
