"""Rebuilding and dumping the SQLite store's derived tables."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from . import _sqlite_rows as rows
from ._events import Event
from ._search_index import INDEX_COLUMNS, rows_of
from ._tables import derive_tables

_DERIVED = ("runs", "workflow_tasks", "activity_tasks", "timers", "update_requests",
            "search_attributes")


def _runs_events(conn: sqlite3.Connection) -> Iterator[tuple[str, list[Event]]]:
    # Runs keep their order in the runs index; runs missing from it come last.
    run_ids = [r[0] for r in conn.execute(
        "SELECT e.run_id FROM (SELECT DISTINCT run_id FROM events) AS e "
        "LEFT JOIN runs AS r ON r.run_id = e.run_id ORDER BY r.seq IS NULL, r.seq, e.run_id")]
    for run_id in run_ids:
        found = conn.execute("SELECT data FROM events WHERE run_id = ? ORDER BY event_id",
                             (run_id,))
        yield run_id, [rows.decode_event(r[0]) for r in found]


def rebuild_indexes(conn: sqlite3.Connection) -> None:
    """Recompute runs, tasks, timers and update statuses from the events (in a transaction)."""
    updates = [rows.update_from_row(r) for r in conn.execute(
        f"SELECT {rows.UPDATE_COLUMNS} FROM update_requests ORDER BY seq")]
    workflow_tasks = {r.run_id: r for r in map(rows.wtask_from_row, conn.execute(
        f"SELECT {rows.WTASK_COLUMNS} FROM workflow_tasks"))}
    activity_tasks = {(a.run_id, a.scheduled_event_id): a for a in map(
        rows.activity_from_row,
        conn.execute(f"SELECT {rows.ACTIVITY_COLUMNS} FROM activity_tasks"))}
    runs_index = {r.run_id: r for r in map(rows.run_from_row, conn.execute(
        f"SELECT {rows.RUN_SELECT} FROM runs"))}
    tables = derive_tables(_runs_events(conn), updates, workflow_tasks=workflow_tasks,
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
    for table, columns, values in inserts:
        marks = ", ".join("?" * len(columns.split(",")))
        conn.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)


def dump_indexes(conn: sqlite3.Connection) -> dict[str, list[Any]]:
    """Every derived row as records, in key order."""
    def select(columns: str, table: str, order: str) -> list[Any]:
        return conn.execute(f"SELECT {columns} FROM {table} ORDER BY {order}").fetchall()
    return {
        "runs": [rows.run_from_row(r) for r in select(rows.RUN_SELECT, "runs", "run_id")],
        "workflow_tasks": [rows.wtask_from_row(r) for r in
                           select(rows.WTASK_COLUMNS, "workflow_tasks", "run_id")],
        "activity_tasks": [rows.activity_from_row(r) for r in select(
            rows.ACTIVITY_COLUMNS, "activity_tasks", "run_id, scheduled_event_id")],
        "timers": [rows.timer_from_row(r) for r in
                   select(rows.TIMER_COLUMNS, "timers", "run_id, started_event_id")],
        "update_requests": [rows.update_from_row(r) for r in
                            select(rows.UPDATE_COLUMNS, "update_requests", "run_id, update_id")],
        "search_attributes": [tuple(r) for r in select(
            INDEX_COLUMNS, "search_attributes", "run_id, name, position")],
    }
