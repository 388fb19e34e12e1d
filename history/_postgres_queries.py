"""The PostgreSQL store's query channel: query requests and answers in two small tables.

As in the SQLite store (``_sqlite_queries``), ``query_requests`` holds posted
queries and their answers and ``query_pollers`` records which worker polled
which task queue last, by the server's clock. Posting a request commits with a
``NOTIFY`` scoped to its run and task queue, which wakes the workers waiting on
any host; an answer's ``NOTIFY`` is scoped to the run, which wakes the asking
client. Nothing here enters a history or is derived from one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ._postgres_db import Database, Tx
from ._postgres_rows import failure_from_json
from ._query_channel import QueryRequest
from ._sqlite_rows import dumps, failure_json

T = TypeVar("T")

POLLER_BEAT = 0.5
"""Seconds between two records of one worker's polling (each is a round trip)."""

_COLUMNS = ("query_id, run_id, workflow_type, task_queue, name, args, headers, requested_at, "
            "expires_at, status, result, failure, answered_by")

_INSERT = (f"INSERT INTO query_requests ({_COLUMNS}) VALUES "
           f"({', '.join(['%s'] * 13)})")
_DROP_EXPIRED = "DELETE FROM query_requests WHERE expires_at <= clock_timestamp()"
_PENDING = (f"SELECT {_COLUMNS} FROM query_requests WHERE task_queue = %s AND status = "
            "'requested' AND (expires_at IS NULL OR expires_at > clock_timestamp()) "
            "ORDER BY seq")
_BEAT = ("INSERT INTO query_pollers (worker, task_queue, polled_at) VALUES "
         "(%s, %s, clock_timestamp()) ON CONFLICT (worker, task_queue) DO UPDATE "
         "SET polled_at = clock_timestamp() RETURNING 1")
_ANSWER = ("UPDATE query_requests SET status = %s, result = %s, failure = %s, "
           "answered_by = %s WHERE query_id = %s AND status = 'requested'")
_GET = f"SELECT {_COLUMNS} FROM query_requests WHERE query_id = %s"
_FORGET = "DELETE FROM query_requests WHERE query_id = %s RETURNING 1"
_POLLERS = ("SELECT worker FROM query_pollers WHERE task_queue = %s AND "
            "polled_at >= clock_timestamp() - make_interval(secs => %s) ORDER BY worker")
_RETIRE = "DELETE FROM query_pollers WHERE worker = %s RETURNING 1"


def _to_row(r: QueryRequest) -> tuple[Any, ...]:
    return (r.query_id, r.run_id, r.workflow_type, r.task_queue, r.name, dumps(r.args),
            dumps(r.headers), r.requested_at, r.expires_at, r.status,
            None if r.result is None else dumps(r.result), failure_json(r.failure),
            r.answered_by)


def _from_row(row: Sequence[Any]) -> QueryRequest:
    return QueryRequest(
        query_id=row[0], run_id=row[1], workflow_type=row[2], task_queue=row[3], name=row[4],
        args=json.loads(row[5]), headers=json.loads(row[6]), requested_at=row[7],
        expires_at=row[8], status=row[9],
        result=None if row[10] is None else json.loads(row[10]),
        failure=failure_from_json(row[11]), answered_by=row[12])


class PostgresQueryChannel:
    """:class:`~history.QueryChannel` over one PostgreSQL store's :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._beats: dict[tuple[str, str], float] = {}  # (worker, queue) -> last record

    def _write(self, fn: Callable[[Tx], T]) -> T:
        return self._db.write(fn)

    def request_query(self, request: QueryRequest) -> None:
        def run(tx: Tx) -> None:
            tx.conn.execute(_DROP_EXPIRED)
            tx.conn.execute(_INSERT, _to_row(request))
            tx.runs.add(request.run_id)
            tx.queues.add(request.task_queue)
        self._write(run)

    def pending_queries(self, task_queue: str, worker: str) -> list[QueryRequest]:
        now = time.monotonic()
        key = (worker, task_queue)
        if key not in self._beats or now - self._beats[key] >= POLLER_BEAT:
            self._db.query(_BEAT, (worker, task_queue))
            self._beats[key] = now
        return [_from_row(r) for r in self._db.query(_PENDING, (task_queue,))]

    def answer_query(self, answer: QueryRequest) -> None:
        def run(tx: Tx) -> None:
            done = tx.conn.execute(_ANSWER, (
                answer.status, None if answer.result is None else dumps(answer.result),
                failure_json(answer.failure), answer.answered_by, answer.query_id))
            if done.rowcount:
                tx.runs.add(answer.run_id)
        self._write(run)

    def get_query(self, query_id: str) -> QueryRequest | None:
        found = self._db.query(_GET, (query_id,))
        return _from_row(found[0]) if found else None

    def forget_query(self, query_id: str) -> None:
        self._db.query(_FORGET, (query_id,))

    def query_pollers(self, task_queue: str, within: float) -> list[str]:
        return [str(r[0]) for r in self._db.query(_POLLERS, (task_queue, within))]

    def retire_query_poller(self, worker: str) -> None:
        self._db.query(_RETIRE, (worker,))
        for key in [k for k in self._beats if k[0] == worker]:
            del self._beats[key]
