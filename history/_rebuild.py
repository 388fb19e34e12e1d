"""Rebuilding and dumping a SQL store's derived tables, for SQLite and PostgreSQL alike.

A store describes its dialect (:class:`SqlDialect`): how to run a statement, how
to insert many rows, its rows module (the column lists and row converters) and
the two places its SQL differs. The rebuild reads what only the tables know
(update requests, leases, run order), derives the rest from the events with
:func:`~history._tables.derive_tables`, and writes every derived table anew.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import attrs

from ._changes import ActivityRow, WorkflowTaskRow
from ._events import Event
from ._search_index import INDEX_COLUMNS, rows_of
from ._store import DueTimer, RunInfo, UpdateRequest
from ._tables import Tables, derive_tables

DERIVED = ("runs", "workflow_tasks", "activity_tasks", "timers", "update_requests",
           "search_attributes")
"""The tables a rebuild recomputes from the events."""

Row = Sequence[Any]


class RowsModule(Protocol):
    """What a store's rows module offers (``_sqlite_rows``, ``_postgres_rows``)."""

    RUN_COLUMNS: str
    WTASK_COLUMNS: str
    ACTIVITY_COLUMNS: str
    TIMER_COLUMNS: str
    UPDATE_COLUMNS: str

    def run_to_row(self, r: RunInfo) -> tuple[Any, ...]: ...
    def run_from_row(self, row: Row) -> RunInfo: ...
    def wtask_to_row(self, r: WorkflowTaskRow) -> tuple[Any, ...]: ...
    def wtask_from_row(self, row: Row) -> WorkflowTaskRow: ...
    def activity_to_row(self, r: ActivityRow) -> tuple[Any, ...]: ...
    def activity_from_row(self, row: Row) -> ActivityRow: ...
    def timer_to_row(self, t: DueTimer) -> tuple[Any, ...]: ...
    def timer_from_row(self, row: Row) -> DueTimer: ...
    def update_to_row(self, u: UpdateRequest) -> tuple[Any, ...]: ...
    def update_from_row(self, row: Row) -> UpdateRequest: ...


@attrs.frozen
class SqlDialect:
    """One SQL store's way of running the rebuild, on one open connection."""

    execute: Callable[[str], Iterable[Row]]
    """Run a statement (no parameters); its rows."""
    insert_many: Callable[[str, str, list[tuple[Any, ...]]], None]
    """Insert rows into a table: ``(table, columns, rows)``."""
    rows: RowsModule
    run_select: str
    """The columns to select from ``runs`` for ``rows.run_from_row``."""
    text_order: str = ""
    """What to append to a text column in ORDER BY for byte order (``COLLATE "C"``)."""


def rebuild_indexes(sql: SqlDialect,
                    runs_events: Callable[[], Iterable[tuple[str, Sequence[Event]]]]) -> None:
    """Recompute runs, tasks, timers and update statuses from ``runs_events()`` (each
    run's events, runs in the runs index's order, runs missing from it last)."""
    rows = sql.rows
    updates = [rows.update_from_row(r) for r in sql.execute(
        f"SELECT {rows.UPDATE_COLUMNS} FROM update_requests ORDER BY seq")]
    workflow_tasks = {r.run_id: r for r in map(rows.wtask_from_row, sql.execute(
        f"SELECT {rows.WTASK_COLUMNS} FROM workflow_tasks"))}
    activity_tasks = {(a.run_id, a.scheduled_event_id): a for a in map(
        rows.activity_from_row,
        sql.execute(f"SELECT {rows.ACTIVITY_COLUMNS} FROM activity_tasks"))}
    runs_index = {r.run_id: r for r in map(rows.run_from_row, sql.execute(
        f"SELECT {sql.run_select} FROM runs"))}
    tables = derive_tables(runs_events(), updates, workflow_tasks=workflow_tasks,
                           activity_tasks=activity_tasks, runs_index=runs_index)
    for table in DERIVED:
        sql.execute(f"DELETE FROM {table}")
    for table, columns, values in _derived_rows(rows, tables):
        if values:
            sql.insert_many(table, columns, values)


def _derived_rows(rows: RowsModule, tables: Tables
                  ) -> list[tuple[str, str, list[tuple[Any, ...]]]]:
    return [
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


def dump_indexes(sql: SqlDialect) -> dict[str, list[Any]]:
    """Every derived row as records, in key order (to compare stores and rebuilds)."""
    rows = sql.rows

    def select(columns: str, table: str, order: str) -> list[Any]:
        return list(sql.execute(f"SELECT {columns} FROM {table} ORDER BY {order}"))
    text = sql.text_order
    return {
        "runs": [rows.run_from_row(r) for r in select(sql.run_select, "runs", "run_id")],
        "workflow_tasks": [rows.wtask_from_row(r) for r in
                           select(rows.WTASK_COLUMNS, "workflow_tasks", "run_id")],
        "activity_tasks": [rows.activity_from_row(r) for r in select(
            rows.ACTIVITY_COLUMNS, "activity_tasks", "run_id, scheduled_event_id")],
        "timers": [rows.timer_from_row(r) for r in
                   select(rows.TIMER_COLUMNS, "timers", "run_id, started_event_id")],
        "update_requests": [rows.update_from_row(r) for r in select(
            rows.UPDATE_COLUMNS, "update_requests", "run_id, update_id")],
        "search_attributes": [tuple(r) for r in select(
            INDEX_COLUMNS, "search_attributes",
            f"run_id{text}, name{text}, position")],
    }
