"""The SQLite store's query channel: query requests and answers in two small tables.

``query_requests`` holds the queries clients posted for the workers of a task
queue and, once given, their answers; ``query_pollers`` records which worker
polled which task queue last (wall-clock seconds), so a client knows whether
anyone will answer. Neither is derived from the events nor enters a history.
A request commits with its run in the commit's scope, so this process's waiters
on the run wake at once and other processes see the file change (``PRAGMA
data_version``): a worker waiting for work, a client waiting for its answer.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, TypeVar

from ._query_channel import QueryRequest, wall_now
from ._sqlite_rows import (
    dumps,
    failure_from_json,
    failure_json,
    from_us,
    opt_from_us,
    opt_us,
    to_us,
)

T = TypeVar("T")

TABLES = (
    """CREATE TABLE query_requests (
        seq INTEGER PRIMARY KEY, query_id TEXT NOT NULL UNIQUE, run_id TEXT NOT NULL,
        workflow_type TEXT NOT NULL, task_queue TEXT NOT NULL, name TEXT NOT NULL,
        args TEXT NOT NULL, headers TEXT NOT NULL, requested_at INTEGER NOT NULL,
        expires_at INTEGER, status TEXT NOT NULL, result TEXT, failure TEXT,
        answered_by TEXT)""",
    "CREATE INDEX query_requests_by_queue ON query_requests (task_queue, status, seq)",
    """CREATE TABLE query_pollers (
        worker TEXT NOT NULL, task_queue TEXT NOT NULL, polled_at REAL NOT NULL,
        PRIMARY KEY (worker, task_queue))""",
)
"""The DDL of the channel's tables (fresh stores and the migration to version 4)."""

POLLER_BEAT = 0.5
"""Seconds between two records of one worker's polling (each is a write)."""

_COLUMNS = ("query_id, run_id, workflow_type, task_queue, name, args, headers, requested_at, "
            "expires_at, status, result, failure, answered_by")

Write = Callable[[Callable[[sqlite3.Connection], Any], AbstractSet[str] | None], Any]
Read = Callable[[str, Sequence[Any]], list[Any]]


def _to_row(r: QueryRequest) -> tuple[Any, ...]:
    return (r.query_id, r.run_id, r.workflow_type, r.task_queue, r.name, dumps(r.args),
            dumps(r.headers), to_us(r.requested_at), opt_us(r.expires_at), r.status,
            None if r.result is None else dumps(r.result), failure_json(r.failure),
            r.answered_by)


def _from_row(row: Sequence[Any]) -> QueryRequest:
    return QueryRequest(
        query_id=row[0], run_id=row[1], workflow_type=row[2], task_queue=row[3], name=row[4],
        args=json.loads(row[5]), headers=json.loads(row[6]), requested_at=from_us(row[7]),
        expires_at=opt_from_us(row[8]), status=row[9],
        result=None if row[10] is None else json.loads(row[10]), failure=failure_from_json(row[11]),
        answered_by=row[12])


class SqliteQueryChannel:
    """:class:`~history.QueryChannel` over one SQLite store's ``write`` and ``read``."""

    def __init__(self, write: Write, read: Read) -> None:
        self._write = write
        self._read = read
        self._beats: dict[tuple[str, str], float] = {}  # (worker, queue) -> last record

    def request_query(self, request: QueryRequest) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM query_requests WHERE expires_at <= ?",
                         (to_us(wall_now()),))
            conn.execute(f"INSERT INTO query_requests ({_COLUMNS}) VALUES "
                         f"({', '.join('?' * 13)})", _to_row(request))
        self._write(run, {request.run_id})

    def pending_queries(self, task_queue: str, worker: str) -> list[QueryRequest]:
        now = time.time()
        key = (worker, task_queue)
        if now - self._beats.get(key, 0.0) >= POLLER_BEAT:
            self._write(lambda conn: conn.execute(
                "INSERT INTO query_pollers (worker, task_queue, polled_at) VALUES (?, ?, ?) "
                "ON CONFLICT (worker, task_queue) DO UPDATE SET polled_at = excluded.polled_at",
                (worker, task_queue, now)), frozenset())
            self._beats[key] = now
        found = self._read(
            f"SELECT {_COLUMNS} FROM query_requests WHERE task_queue = ? AND status = "
            "'requested' AND (expires_at IS NULL OR expires_at > ?) ORDER BY seq",
            (task_queue, to_us(wall_now())))
        return [_from_row(r) for r in found]

    def answer_query(self, answer: QueryRequest) -> None:
        self._write(lambda conn: conn.execute(
            "UPDATE query_requests SET status = ?, result = ?, failure = ?, answered_by = ? "
            "WHERE query_id = ? AND status = 'requested'",
            (answer.status, None if answer.result is None else dumps(answer.result),
             failure_json(answer.failure), answer.answered_by, answer.query_id)),
            {answer.run_id})

    def get_query(self, query_id: str) -> QueryRequest | None:
        found = self._read(f"SELECT {_COLUMNS} FROM query_requests WHERE query_id = ?",
                           (query_id,))
        return _from_row(found[0]) if found else None

    def forget_query(self, query_id: str) -> None:
        self._write(lambda conn: conn.execute(
            "DELETE FROM query_requests WHERE query_id = ?", (query_id,)), frozenset())

    def query_pollers(self, task_queue: str, within: float) -> list[str]:
        found = self._read("SELECT worker FROM query_pollers WHERE task_queue = ? AND "
                           "polled_at >= ? ORDER BY worker", (task_queue, time.time() - within))
        return [str(r[0]) for r in found]

    def retire_query_poller(self, worker: str) -> None:
        self._write(lambda conn: conn.execute(
            "DELETE FROM query_pollers WHERE worker = ?", (worker,)), frozenset())
        for key in [k for k in self._beats if k[0] == worker]:
            del self._beats[key]
