"""Maintenance of the PostgreSQL store: rebuilding and dumping the indexes, retention.

Each function runs inside a transaction the store opened.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import _postgres_rows as rows
from . import _rebuild as rebuild
from ._events import Event
from ._rebuild import SqlDialect
from ._sqlite_rows import decode_event
from ._store import RunInfo

if TYPE_CHECKING:
    import psycopg

def _runs_events(conn: psycopg.Connection[Any]) -> Iterator[tuple[str, list[Event]]]:
    # Runs keep their order in the runs index; runs missing from it come last.
    with conn.cursor() as cur:
        cur.execute("SELECT e.run_id, e.data FROM events AS e LEFT JOIN runs AS r "
                    "ON r.run_id = e.run_id ORDER BY r.seq IS NULL, r.seq, e.run_id, "
                    "e.event_id")
        for run_id, found in itertools.groupby(cur, key=lambda r: str(r[0])):
            yield run_id, [decode_event(r[1]) for r in found]


def _dialect(conn: psycopg.Connection[Any]) -> SqlDialect:
    def insert_many(table: str, columns: str, values: list[tuple[Any, ...]]) -> None:
        marks = ", ".join(["%s"] * len(columns.split(",")))
        with conn.cursor() as cur:
            cur.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)
    return SqlDialect(execute=conn.execute, insert_many=insert_many, rows=rows,
                      run_select=rows.RUN_COLUMNS, text_order=' COLLATE "C"')


def rebuild_indexes(conn: psycopg.Connection[Any]) -> None:
    """Recompute runs, tasks, timers and update statuses from the events."""
    conn.execute("LOCK TABLE events, runs IN EXCLUSIVE MODE")
    rebuild.rebuild_indexes(_dialect(conn), lambda: list(_runs_events(conn)))


def dump_indexes(conn: psycopg.Connection[Any]) -> dict[str, list[Any]]:
    """Every derived row as records, in key order (to compare stores and rebuilds)."""
    return rebuild.dump_indexes(_dialect(conn))


def closed_runs(conn: psycopg.Connection[Any], closed_before: datetime,
                statuses: list[str] | None, limit: int) -> list[RunInfo]:
    """Closed runs that ended before ``closed_before`` (optionally of these statuses)."""
    where = "status <> 'running' AND close_time < %s"
    params: list[Any] = [closed_before]
    if statuses:
        where += " AND status = ANY(%s)"
        params.append(statuses)
    found = conn.execute(f"SELECT {rows.RUN_COLUMNS} FROM runs WHERE {where} "
                         "ORDER BY close_time, run_id LIMIT %s", [*params, limit])
    return [rows.run_from_row(r) for r in found]


def prune_run(conn: psycopg.Connection[Any], run_id: str, exported_to: str | None) -> int:
    """Remove one closed run through ``prune_run()``; returns how many events it had."""
    found = conn.execute("SELECT prune_run(%s, %s)", (run_id, exported_to)).fetchone()
    conn.execute("DELETE FROM search_attributes WHERE run_id = %s", (run_id,))
    return int(found[0]) if found is not None else 0
