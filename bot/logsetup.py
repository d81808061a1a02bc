"""Structured logs: one JSON object per line, one line per event.

Events name what happened (``ingested``, ``quarantined``, ``sent``) and carry
ids, states and a hashed sender id, never message bodies or addresses. A
filter drops any ``extra`` field not on the allow-list, so a careless call
cannot leak patient data into the logs.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime

# Fields a log call may attach; everything else given as ``extra`` is dropped.
ALLOWED = frozenset(
    {"event", "state", "stage", "sender", "count", "inquiry_id", "reply_id", "path", "job", "seconds"}
)
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key in ALLOWED:
                entry[key] = value
        if record.exc_info:
            entry["error"] = record.exc_info[0].__name__ if record.exc_info[0] else "exception"
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup(level: str | None = None, stream=None) -> None:  # type: ignore[no-untyped-def]
    """Send the bot's logs, as JSON lines, to ``stream`` (stderr); level from $BOT_LOG_LEVEL."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel((level or os.environ.get("BOT_LOG_LEVEL", "INFO")).upper())
    # Libraries that would log protocol traffic (and so addresses) stay quiet.
    for noisy in ("imapclient", "mail.log", "apscheduler.executors", "waitress"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
