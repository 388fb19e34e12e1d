"""How ``replay worker`` logs: one handler on the ``replay`` namespace, text or JSON lines.

Every layer logs under its own name (``replay.worker``, ``replay.client``,
``replay.history``, ``replay.core``, ``replay.sandbox``, ``replay.cli``; the
workflow and activity loggers users call are ``replay.workflow`` and
``replay.activity``). The worker command puts one handler on ``replay`` at the
level asked for (INFO by default, so workflow and activity INFO records are
shown), writing to stderr:

* ``text``: ``2026-11-29 15:00:00,123 INFO replay.workflow: message``, with
  every control character escaped (messages carry untrusted text from runs);
* ``json``: one object per line with ``time`` (ISO 8601, UTC), ``level``,
  ``logger``, ``message``, the ids a record carries (``workflow_id``,
  ``run_id``, ``workflow_type``, ``task_queue``, ``activity_id``,
  ``activity_type``, ``attempt``) and ``exception`` (the traceback, if any);
  control characters are JSON escapes.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from ._escape import EscapingFormatter, json_text

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FIELDS = ("workflow_id", "run_id", "workflow_type", "task_queue", "activity_id",
          "activity_type", "attempt")


class JsonFormatter(logging.Formatter):
    """One JSON object per record (see the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        for field in FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                data[field] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json_text(data, default=str)


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]  # stderr, untyped in stubs
    """The worker command's handler (found again, and replaced, by its class)."""


def configure_logging(level: str = "INFO", fmt: str = "text") -> logging.Handler:
    """Send the ``replay`` namespace's records at ``level`` and up to stderr as ``fmt``."""
    logger = logging.getLogger("replay")
    for old in [h for h in logger.handlers
                if isinstance(h, _Handler) or isinstance(h.formatter, EscapingFormatter)]:
        logger.removeHandler(old)
    handler = _Handler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else EscapingFormatter(TEXT_FORMAT))
    logger.addHandler(handler)
    logger.setLevel(level)
    return handler
