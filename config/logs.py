"""Log formatters that keep what a log call passes in ``extra=``.

Leme logs constant messages and puts the particulars in ``extra=`` ("survey email bounced",
``extra={"delivery_id": ...}``); the standard formatter prints only the message and drops them.
``TextFormatter`` (development) writes them after the message as ``key=value``; ``JsonFormatter``
(production) writes one JSON object per line, for a log collector to index.
"""

import json
import logging
from datetime import UTC, datetime
from typing import Any

# Everything a LogRecord carries by itself; any other attribute came in through ``extra=``.
_RECORD_ATTRIBUTES = frozenset(
    {
        *logging.LogRecord("", logging.INFO, "", 0, "", (), None).__dict__,
        "message",
        "asctime",
        "taskName",
    }
)


def record_extra(record: logging.LogRecord) -> dict[str, Any]:
    """The fields passed in ``extra=``, in the order they were given."""
    return {key: value for key, value in record.__dict__.items() if key not in _RECORD_ATTRIBUTES}


def _text_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    # Quote what would otherwise run into the next field.
    return json.dumps(text, ensure_ascii=False) if not text or any(c.isspace() or c in "=\"'" for c in text) else text


class TextFormatter(logging.Formatter):
    """``time LEVEL logger message key=value ...``, then the traceback if there is one."""

    def __init__(self, fmt: str | None = None, datefmt: str | None = None, style: str = "%", **kwargs: Any):
        super().__init__(fmt or "%(asctime)s %(levelname)s %(name)s %(message)s", datefmt, style, **kwargs)

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        extra = record_extra(record)
        if extra:
            line += " " + " ".join(f"{key}={_text_value(value)}" for key, value in extra.items())
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (ISO 8601, UTC), level, logger, message, the ``extra=`` fields,
    and ``exception`` (the formatted traceback) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record_extra(record).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # default=str: Django passes objects such as the request; a log line must never fail to be written.
        return json.dumps(entry, default=str, ensure_ascii=False)
