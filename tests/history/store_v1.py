"""A store file exactly as schema version 1 wrote it, to test the migrations from it.

The DDL below is version 1's, frozen (the engine's own DDL moves on); rows are
written with version 1's columns, without the engine's hot path, which speaks
the current schema.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from replay.history import ActivityScheduled, Event, WorkflowStarted, WorkflowTaskCompleted
from replay.history._sqlite_rows import event_row, to_us

V1_DDL = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE events (
        run_id TEXT NOT NULL, event_id INTEGER NOT NULL, kind TEXT NOT NULL,
        time TEXT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (run_id, event_id)) WITHOUT ROWID""",
    """CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT,
        'replay: the events table is append-only; UPDATE is not allowed [RPL-S01]'); END""",
    """CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT,
        'replay: the events table is append-only; DELETE is not allowed [RPL-S01]'); END""",
    """CREATE TABLE runs (
        seq INTEGER PRIMARY KEY, run_id TEXT NOT NULL UNIQUE, workflow_id TEXT NOT NULL,
        workflow_type TEXT NOT NULL, task_queue TEXT NOT NULL, status TEXT NOT NULL,
        start_time INTEGER NOT NULL, close_time INTEGER,
        first_execution_run_id TEXT NOT NULL, parent_workflow_id TEXT, parent_run_id TEXT,
        continued_from_run_id TEXT, next_run_id TEXT, memo TEXT NOT NULL, deadline INTEGER)""",
    # At most one open run per workflow id, whatever a writer does.
    "CREATE UNIQUE INDEX runs_one_open ON runs (workflow_id) WHERE status = 'running'",
    "CREATE INDEX runs_by_workflow ON runs (workflow_id, seq)",
    "CREATE INDEX runs_by_status ON runs (status, seq)",
    "CREATE INDEX runs_by_type ON runs (workflow_type, seq)",
    "CREATE INDEX runs_by_deadline ON runs (deadline) WHERE status = 'running'",
    """CREATE TABLE workflow_tasks (
        seq INTEGER PRIMARY KEY, run_id TEXT NOT NULL UNIQUE, task_queue TEXT NOT NULL,
        has_inputs INTEGER NOT NULL, lease_owner TEXT, lease_expires_at INTEGER)""",
    "CREATE INDEX workflow_tasks_by_queue ON workflow_tasks (task_queue, seq)",
    """CREATE TABLE activity_tasks (
        run_id TEXT NOT NULL, scheduled_event_id INTEGER NOT NULL, workflow_id TEXT NOT NULL,
        task_queue TEXT NOT NULL, activity_type TEXT NOT NULL, activity_id TEXT NOT NULL,
        args TEXT NOT NULL, scheduled_time INTEGER NOT NULL, available_at INTEGER NOT NULL,
        attempt INTEGER NOT NULL, lease_owner TEXT, lease_expires_at INTEGER,
        heartbeat_details TEXT NOT NULL, cancel_requested INTEGER NOT NULL,
        attempt_timeout REAL, PRIMARY KEY (run_id, scheduled_event_id))""",
    "CREATE INDEX activity_tasks_by_queue ON activity_tasks (task_queue, available_at)",
    """CREATE TABLE timers (
        run_id TEXT NOT NULL, started_event_id INTEGER NOT NULL, fire_at INTEGER NOT NULL,
        task_queue TEXT NOT NULL, PRIMARY KEY (run_id, started_event_id))""",
    "CREATE INDEX timers_by_fire_at ON timers (fire_at)",
    """CREATE TABLE update_requests (
        seq INTEGER PRIMARY KEY, run_id TEXT NOT NULL, update_id TEXT NOT NULL,
        name TEXT NOT NULL, args TEXT NOT NULL, status TEXT NOT NULL,
        requested_at INTEGER NOT NULL, result TEXT, failure TEXT,
        UNIQUE (run_id, update_id))""",
    "CREATE INDEX update_requests_by_status ON update_requests (run_id, status)",
)


def make_v1_store(path: Path, runs: Sequence[tuple[str, Sequence[Event]]]) -> None:
    """A version-1 store holding ``runs`` (run id, events), all open, each with its workflow
    task (unless its last event closed one) and an activity task per ActivityScheduled
    (never attempted)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")  # as version 1 left its files
        conn.execute("BEGIN")
        for statement in V1_DDL:
            conn.execute(statement)
        conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)",
                         [("application", "replay-store"), ("schema_version", "1")])
        for run_id, events in runs:
            started = events[0]
            assert isinstance(started, WorkflowStarted)
            conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)",
                             [event_row(run_id, e) for e in events])
            conn.execute(
                "INSERT INTO runs (run_id, workflow_id, workflow_type, task_queue, status, "
                "start_time, first_execution_run_id, memo) VALUES (?, ?, ?, ?, 'running', ?, ?, "
                "'{}')", (run_id, started.workflow_id, started.workflow_type,
                          started.task_queue, to_us(started.time), run_id))
            if not isinstance(events[-1], WorkflowTaskCompleted):  # inputs wait for a task
                conn.execute("INSERT INTO workflow_tasks (run_id, task_queue, has_inputs) "
                             "VALUES (?, ?, 1)", (run_id, started.task_queue))
            for e in events:
                if isinstance(e, ActivityScheduled):
                    conn.execute(
                        "INSERT INTO activity_tasks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, "
                        "NULL, '[]', 0, NULL)",
                        (run_id, e.event_id, started.workflow_id, e.task_queue,
                         e.activity_type, e.activity_id, json.dumps(e.args), to_us(e.time),
                         to_us(e.time)))
        conn.execute("COMMIT")
    finally:
        conn.close()
