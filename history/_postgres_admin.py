"""Maintenance of the PostgreSQL store: rebuilding and dumping the indexes, retention.

Each function runs inside a transaction the store opened.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import _postgres_rows as rows
from ._events import Event
from ._search_index import INDEX_COLUMNS, rows_of
from ._sqlite_rows import decode_event
from ._store import RunInfo
from ._tables import derive_tables

if TYPE_CHECKING:
    import psycopg

_DERIVED = ("runs", "workflow_tasks", "activity_tasks", "timers", "update_requests",
            "search_attributes")


def _runs_events(conn: psycopg.Connection[Any]) -> Iterator[tuple[str, list[Event]]]:
    # Runs keep their order in the runs index; runs missing from it come last.
    with conn.cursor() as cur:
        cur.execute("SELECT e.run_id, e.data FROM events AS e LEFT JOIN runs AS r "
                    "ON r.run_id = e.run_id ORDER BY r.seq IS NULL, r.seq, e.run_id, "
                    "e.event_id")
        for run_id, found in itertools.groupby(cur, key=lambda r: str(r[0])):
            yield run_id, [decode_event(r[1]) for r in found]


def rebuild_indexes(conn: psycopg.Connection[Any]) -> None:
    """Recompute runs, tasks, timers and update statuses from the events."""
    conn.execute("LOCK TABLE events, runs IN EXCLUSIVE MODE")
    updates = [rows.update_from_row(r) for r in conn.execute(
        f"SELECT {rows.UPDATE_COLUMNS} FROM update_requests ORDER BY seq")]
    workflow_tasks = {r.run_id: r for r in map(rows.wtask_from_row, conn.execute(
        f"SELECT {rows.WTASK_COLUMNS} FROM workflow_tasks"))}
    activity_tasks = {(a.run_id, a.scheduled_event_id): a for a in map(
        rows.activity_from_row,
        conn.execute(f"SELECT {rows.ACTIVITY_COLUMNS} FROM activity_tasks"))}
    runs_index = {r.run_id: r for r in map(rows.run_from_row, conn.execute(
        f"SELECT {rows.RUN_COLUMNS} FROM runs"))}
    tables = derive_tables(list(_runs_events(conn)), updates, workflow_tasks=workflow_tasks,
                           activity_tasks=activity_tasks, runs_index=runs_index)
    for table in _DERIVED:
        conn.execute(f"DELETE FROM {table}")
    inserts: list[tuple[str, str, list[tuple[Any, ...]]]] = [
        ("runs", rows.RUN_COLUMNS, [rows.run_to_row(r) for r in tables.runs.values()]),
        ("workflow_tasks", rows.WTASK_COLUMNS,
         [rows.wtask_to_row(r) for r in tables.workflow_tasks.values()]),
        ("activity_tasks", rows.ACTIVITY_COLUMNS,
         [rows.activity_to_row(r) for r in tables.activity_tasks.values()]),
        ("timers", rows.TIMER_COLUMNS, [rows.timer_to_row(t) for t in tables.timers.values()]),
        ("update_requests", rows.UPDATE_COLUMNS,
         [rows.update_to_row(u) for u in tables.all_updates()]),
        ("search_attributes", INDEX_COLUMNS,
         [row for r in tables.runs.values() for row in rows_of(r.run_id, r.search_attributes)]),
    ]
    with conn.cursor() as cur:
        for table, columns, values in inserts:
            if values:
                marks = ", ".join(["%s"] * len(columns.split(",")))
                cur.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)


def dump_indexes(conn: psycopg.Connection[Any]) -> dict[str, list[Any]]:
    """Every derived row as records, in key order (to compare stores and rebuilds)."""
    def select(columns: str, table: str, order: str) -> list[Any]:
        return conn.execute(f"SELECT {columns} FROM {table} ORDER BY {order}").fetchall()
    return {
        "runs": [rows.run_from_row(r) for r in select(rows.RUN_COLUMNS, "runs", "run_id")],
        "workflow_tasks": [rows.wtask_from_row(r) for r in
                           select(rows.WTASK_COLUMNS, "workflow_tasks", "run_id")],
        "activity_tasks": [rows.activity_from_row(r) for r in select(
            rows.ACTIVITY_COLUMNS, "activity_tasks", "run_id, scheduled_event_id")],
        "timers": [rows.timer_from_row(r) for r in
                   select(rows.TIMER_COLUMNS, "timers", "run_id, started_event_id")],
        "update_requests": [rows.update_from_row(r) for r in select(
            rows.UPDATE_COLUMNS, "update_requests", "run_id, update_id")],
        "search_attributes": [tuple(r) for r in select(
            INDEX_COLUMNS, "search_attributes", 'run_id COLLATE "C", name COLLATE "C", position')],
    }


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
