"""Retention in the SQLite store: the one path allowed to delete a run's events.

SQLite has no roles or privileged functions, so the permission lives in the
data: the ``events_no_delete`` trigger lets a row go only while a ``pruning``
marker row names its run *and* an audit row for the run is in ``pruned_runs``
*and* the run is closed. :func:`prune_run` writes the audit row and the marker,
deletes the events and the run's index rows, and removes the marker, all in
the caller's transaction: after the commit no marker is left, so every other
``DELETE`` (and every ``UPDATE``) is refused again. ``pruned_runs`` itself is
append-only.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from ._errors import ReplayError
from ._sqlite_rows import to_us

_REFUSED = "replay: the {table} table is append-only; {op} is not allowed [RPL-S01]"

#: Tables the retention path adds (schema version 3).
TABLES = (
    """CREATE TABLE pruned_runs (
        run_id TEXT PRIMARY KEY, workflow_id TEXT NOT NULL, workflow_type TEXT NOT NULL,
        status TEXT NOT NULL, start_time INTEGER NOT NULL, close_time INTEGER,
        event_count INTEGER NOT NULL, exported_to TEXT, pruned_at INTEGER NOT NULL)""",
    "CREATE TABLE pruning (run_id TEXT PRIMARY KEY)",
)

#: The events' DELETE trigger: refused unless prune_run() is removing a closed run.
EVENTS_NO_DELETE = f"""CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    WHEN NOT EXISTS (SELECT 1 FROM pruning AS p JOIN pruned_runs AS a ON a.run_id = p.run_id
                     WHERE p.run_id = OLD.run_id)
      OR EXISTS (SELECT 1 FROM runs WHERE run_id = OLD.run_id AND status = 'running')
    BEGIN SELECT RAISE(ABORT, '{_REFUSED.format(table="events", op="DELETE")}'); END"""

#: The audit table's own triggers: an audit row is never changed or removed.
AUDIT_TRIGGERS = tuple(
    f"""CREATE TRIGGER pruned_runs_no_{op.lower()} BEFORE {op} ON pruned_runs
        BEGIN SELECT RAISE(ABORT, '{_REFUSED.format(table="pruned_runs", op=op)}'); END"""
    for op in ("UPDATE", "DELETE"))

_INDEX_TABLES = ("update_requests", "workflow_tasks", "activity_tasks", "timers",
                 "search_attributes")


class RunNotPrunableError(ReplayError):
    """Only closed runs can be pruned: this one is still running. Nothing was removed."""

    code = "RPL-S10"

    def __init__(self, run_id: str) -> None:
        super().__init__(
            f"run {run_id!r} is running; retention removes closed runs only. Nothing was "
            "removed: terminate or cancel the run first if it must go.")
        self.run_id = run_id


RunNotPrunableError.__module__ = "replay.history"


def prune_run(conn: sqlite3.Connection, run_id: str, exported_to: str | None) -> int:
    """Remove a closed run (events and index rows) inside the caller's transaction,
    auditing it in ``pruned_runs``; returns how many events it had (0: no such run)."""
    found = conn.execute(
        "SELECT workflow_id, workflow_type, status, start_time, close_time FROM runs "
        "WHERE run_id = ?", (run_id,)).fetchone()
    if found is None:
        return 0
    if found[2] == "running":
        raise RunNotPrunableError(run_id)
    count = int(conn.execute("SELECT count(*) FROM events WHERE run_id = ?",
                             (run_id,)).fetchone()[0])
    conn.execute(
        "INSERT INTO pruned_runs (run_id, workflow_id, workflow_type, status, start_time, "
        "close_time, event_count, exported_to, pruned_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (run_id, *found, count, exported_to, to_us(datetime.now(UTC))))
    conn.execute("INSERT INTO pruning (run_id) VALUES (?)", (run_id,))
    conn.execute("DELETE FROM events WHERE run_id = ?", (run_id,))
    conn.execute("DELETE FROM pruning WHERE run_id = ?", (run_id,))
    for table in _INDEX_TABLES:
        conn.execute(f"DELETE FROM {table} WHERE run_id = ?", (run_id,))
    conn.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
    return count

