"""Rebuilding and dumping the SQLite store's derived tables."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from . import _rebuild as rebuild
from . import _sqlite_rows as rows
from ._events import Event
from ._rebuild import SqlDialect


def _runs_events(conn: sqlite3.Connection) -> Iterator[tuple[str, list[Event]]]:
    # Runs keep their order in the runs index; runs missing from it come last.
    run_ids = [r[0] for r in conn.execute(
        "SELECT e.run_id FROM (SELECT DISTINCT run_id FROM events) AS e "
        "LEFT JOIN runs AS r ON r.run_id = e.run_id ORDER BY r.seq IS NULL, r.seq, e.run_id")]
    for run_id in run_ids:
        found = conn.execute("SELECT data FROM events WHERE run_id = ? ORDER BY event_id",
                             (run_id,))
        yield run_id, [rows.decode_event(r[0]) for r in found]


def _dialect(conn: sqlite3.Connection) -> SqlDialect:
    def insert_many(table: str, columns: str, values: list[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" * len(columns.split(",")))
        conn.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)
    return SqlDialect(execute=conn.execute, insert_many=insert_many, rows=rows,
                      run_select=rows.RUN_SELECT)


def rebuild_indexes(conn: sqlite3.Connection) -> None:
    """Recompute runs, tasks, timers and update statuses from the events (in a transaction)."""
    rebuild.rebuild_indexes(_dialect(conn), lambda: _runs_events(conn))


def dump_indexes(conn: sqlite3.Connection) -> dict[str, list[Any]]:
    """Every derived row as records, in key order."""
    return rebuild.dump_indexes(_dialect(conn))
