"""Logs: one JSON object per line, never a request header, so never a credential."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import msgspec


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line; never includes request headers, so never a credential."""

    FIELDS = ("request_id", "partner_id", "method", "path", "status", "duration_ms")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="microseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({name: getattr(record, name) for name in self.FIELDS if hasattr(record, name)})
        if record.exc_info:
            entry["exception"] = "".join(traceback.format_exception(*record.exc_info))
        return msgspec.json.encode(entry).decode()


def configure_logging(level: str, handlers: Iterable[logging.Handler] | None = None) -> None:
    # The JSON lines never show threads or processes: logging need not look them up for every
    # record (its documented optimisation; a third of an access-log line's cost, bench/).
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLogFormatter())
    root = logging.getLogger()
    root.handlers = [handler, *(handlers or [])]
    root.setLevel(level)
