"""The registry of what workers host (``history._registry``) in the SQL stores.

One table, ``registrations``, keyed by (task queue, kind, name): SQLite keeps
the time as integer microseconds, PostgreSQL as ``timestamptz``. An upsert
replaces a row only with a registration at least as new as it, so the newest
worker's view wins whatever order the writes arrive in.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from ._registry import (
    HandlerSignature,
    Registration,
    WorkflowSignature,
    registration_from_row,
    registration_rows,
)
from ._sqlite_rows import dumps, from_us, to_us

SQLITE_TABLE = """CREATE TABLE registrations (
    task_queue TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, worker TEXT NOT NULL,
    registered_at INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (task_queue, kind, name)) WITHOUT ROWID"""

_UPSERT = """INSERT INTO registrations (task_queue, kind, name, worker, registered_at, data)
    VALUES ({p}, {p}, {p}, {p}, {p}, {p})
    ON CONFLICT (task_queue, kind, name) DO UPDATE SET worker = excluded.worker,
        registered_at = excluded.registered_at, data = excluded.data
    WHERE excluded.registered_at >= registrations.registered_at"""
SQLITE_UPSERT = _UPSERT.format(p="?")
POSTGRES_UPSERT = _UPSERT.format(p="%s")

_SELECT = ("SELECT task_queue, kind, worker, registered_at, data FROM registrations "
           "WHERE kind = {p}{where} ORDER BY task_queue, name")


def upsert_rows(task_queue: str, worker: str, registered_at: datetime,
                workflows: Sequence[WorkflowSignature], activities: Sequence[HandlerSignature],
                time: Callable[[datetime], Any]) -> list[tuple[Any, ...]]:
    """The parameters of one upsert per row; ``time`` encodes the registration time."""
    return [(task_queue, kind, name, who, time(registered_at), dumps(data))
            for kind, name, who, data in registration_rows(task_queue, worker, registered_at,
                                                           workflows, activities)]


def select(kind: str, task_queue: str | None, placeholder: str) -> tuple[str, list[str]]:
    """The query (and its parameters) for the rows of ``kind`` on ``task_queue``."""
    where = "" if task_queue is None else f" AND task_queue = {placeholder}"
    params = [kind] if task_queue is None else [kind, task_queue]
    return _SELECT.format(p=placeholder, where=where), params


def from_rows(found: Sequence[Sequence[Any]], time: Callable[[Any], datetime]
              ) -> list[Registration]:
    """The registrations the selected rows hold."""
    return [registration_from_row(queue, kind, who, time(at), json.loads(data))
            for queue, kind, who, at, data in found]


def sqlite_time(value: datetime) -> int:
    """SQLite keeps times as microseconds since the epoch."""
    return to_us(value)


def sqlite_read_time(value: Any) -> datetime:
    """The datetime a SQLite time column holds."""
    return from_us(int(value))
