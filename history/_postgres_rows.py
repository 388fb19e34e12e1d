"""Rows of the PostgreSQL store: records to columns and back, and point reads.

Like ``_sqlite_rows`` for SQLite: :class:`PgLookup` answers the derivation's
point reads inside the writing transaction (locking the run head row, which is
the fence of a conditional append); ``_postgres_changes`` writes the
:mod:`history._changes` records. Times are ``timestamptz`` (microseconds, UTC),
JSON values are text in the same encoding as SQLite's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ._batch import RunHead
from ._changes import ActivityRow, WorkflowTaskRow
from ._codec import PayloadConverter
from ._events import Event, Failure, WorkflowTaskFailed
from ._kinds import EVENT_KINDS
from ._sqlite_rows import dumps, failure_json, task_failure_from_json, task_failure_json
from ._store import DueTimer, RunInfo, UpdateRequest

if TYPE_CHECKING:
    import psycopg

_CONVERTER = PayloadConverter()


def failure_from_json(data: str | None) -> Failure | None:
    """A Failure stored by :func:`failure_json`."""
    return None if data is None else _CONVERTER.from_payload(json.loads(data), Failure)


def lease_span(attempt_timeout: float | None) -> timedelta | None:
    """How long a lease of an activity lasts: one attempt's timeout plus a second."""
    return None if attempt_timeout is None else timedelta(seconds=attempt_timeout + 1)


# --- records <-> rows -------------------------------------------------------------------------

RUN_COLUMNS = ("run_id, workflow_id, workflow_type, task_queue, status, start_time, close_time, "
               "first_execution_run_id, parent_workflow_id, parent_run_id, "
               "continued_from_run_id, next_run_id, memo, deadline, task_attempt, "
               "task_failure, task_retry_at, last_event_id, search_attributes")


def run_to_row(r: RunInfo) -> tuple[Any, ...]:
    return (r.run_id, r.workflow_id, r.workflow_type, r.task_queue, r.status, r.start_time,
            r.close_time, r.first_execution_run_id, r.parent_workflow_id, r.parent_run_id,
            r.continued_from_run_id, r.next_run_id, dumps(r.memo), r.deadline,
            r.task_attempt, task_failure_json(r.task_failure), r.task_retry_at,
            r.last_event_id, dumps(r.search_attributes))


def run_from_row(row: Sequence[Any]) -> RunInfo:
    return RunInfo(
        run_id=row[0], workflow_id=row[1], workflow_type=row[2], task_queue=row[3],
        status=row[4], start_time=row[5], close_time=row[6], first_execution_run_id=row[7],
        parent_workflow_id=row[8], parent_run_id=row[9], continued_from_run_id=row[10],
        next_run_id=row[11], memo=json.loads(row[12]), deadline=row[13], task_attempt=row[14],
        task_failure=task_failure_from_json(row[15]), task_retry_at=row[16],
        last_event_id=row[17], search_attributes=json.loads(row[18]))


WTASK_COLUMNS = "run_id, task_queue, has_inputs, lease_owner, lease_expires_at"


def wtask_to_row(r: WorkflowTaskRow) -> tuple[Any, ...]:
    return (r.run_id, r.task_queue, r.has_inputs, r.lease_owner, r.lease_expires_at)


def wtask_from_row(row: Sequence[Any]) -> WorkflowTaskRow:
    return WorkflowTaskRow(run_id=row[0], task_queue=row[1], has_inputs=row[2],
                           lease_owner=row[3], lease_expires_at=row[4])


ACTIVITY_COLUMNS = ("run_id, scheduled_event_id, workflow_id, task_queue, activity_type, "
                    "activity_id, args, scheduled_time, available_at, attempt, lease_owner, "
                    "lease_expires_at, heartbeat_details, cancel_requested, attempt_timeout, "
                    "last_failure, last_heartbeat_at, lease_span")


def activity_to_row(r: ActivityRow) -> tuple[Any, ...]:
    return (r.run_id, r.scheduled_event_id, r.workflow_id, r.task_queue, r.activity_type,
            r.activity_id, dumps(r.args), r.scheduled_time, r.available_at, r.attempt,
            r.lease_owner, r.lease_expires_at, dumps(r.heartbeat_details), r.cancel_requested,
            r.attempt_timeout, failure_json(r.last_failure), r.last_heartbeat_at,
            lease_span(r.attempt_timeout))


def activity_from_row(row: Sequence[Any]) -> ActivityRow:
    return ActivityRow(
        run_id=row[0], scheduled_event_id=row[1], workflow_id=row[2], task_queue=row[3],
        activity_type=row[4], activity_id=row[5], args=json.loads(row[6]),
        scheduled_time=row[7], available_at=row[8], attempt=row[9], lease_owner=row[10],
        lease_expires_at=row[11], heartbeat_details=json.loads(row[12]),
        cancel_requested=row[13], attempt_timeout=row[14],
        last_failure=failure_from_json(row[15]), last_heartbeat_at=row[16])


TIMER_COLUMNS = "run_id, started_event_id, fire_at, task_queue"


def timer_to_row(t: DueTimer) -> tuple[Any, ...]:
    return (t.run_id, t.started_event_id, t.fire_at, t.task_queue)


def timer_from_row(row: Sequence[Any]) -> DueTimer:
    return DueTimer(run_id=row[0], started_event_id=row[1], fire_at=row[2], task_queue=row[3])


UPDATE_COLUMNS = ("run_id, update_id, name, args, status, requested_at, result, failure, "
                  "headers")


def update_to_row(u: UpdateRequest) -> tuple[Any, ...]:
    return (u.run_id, u.update_id, u.name, dumps(u.args), u.status, u.requested_at,
            dumps(u.result), failure_json(u.failure), dumps(u.headers))


def update_from_row(row: Sequence[Any]) -> UpdateRequest:
    return UpdateRequest(
        run_id=row[0], update_id=row[1], name=row[2], args=json.loads(row[3]), status=row[4],
        requested_at=row[5], result=None if row[6] is None else json.loads(row[6]),
        failure=failure_from_json(row[7]), headers=json.loads(row[8]))


# --- point reads for the derivation -----------------------------------------------------------

HEAD = ("SELECT r.workflow_id, r.task_queue, r.status, r.last_event_id, w.has_inputs, "
        "r.task_attempt FROM runs AS r LEFT JOIN workflow_tasks AS w "
        "ON w.run_id = r.run_id WHERE r.run_id = %s")
"""A run's head (:func:`head_from_row`); the derivation's reads lock it (``FOR UPDATE``)."""


def head_from_row(run_id: str, row: Sequence[Any]) -> RunHead:
    return RunHead(run_id, row[0], row[1], row[2], row[3], row[4], row[5])



class PgLookup:
    """:class:`history._derive.Lookup` inside a writing transaction.

    ``run_head`` locks the run's row (``FOR UPDATE``) until the transaction
    ends: a concurrent append to the same run waits, then sees the new head and
    fails with a conflict.
    """

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def run_head(self, run_id: str) -> RunHead | None:
        row = self.conn.execute(HEAD + " FOR UPDATE OF r", (run_id,)).fetchone()
        if row is None:
            return None
        return head_from_row(run_id, row)

    def task_failure(self, run_id: str) -> WorkflowTaskFailed | None:
        row = self.conn.execute("SELECT task_failure FROM runs WHERE run_id = %s",
                                (run_id,)).fetchone()
        return None if row is None else task_failure_from_json(row[0])

    def open_run_id(self, workflow_id: str) -> str | None:
        row = self.conn.execute(
            "SELECT run_id FROM runs WHERE workflow_id = %s AND status = 'running'",
            (workflow_id,)).fetchone()
        return None if row is None else str(row[0])

    def event_kind(self, run_id: str, event_id: int) -> type[Event] | None:
        row = self.conn.execute("SELECT kind FROM events WHERE run_id = %s AND event_id = %s",
                                (run_id, event_id)).fetchone()
        return None if row is None else EVENT_KINDS.get(row[0])

    def has_activity_task(self, run_id: str, scheduled_event_id: int) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM activity_tasks WHERE run_id = %s AND scheduled_event_id = %s",
            (run_id, scheduled_event_id)).fetchone() is not None

    def has_timer(self, run_id: str, started_event_id: int) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM timers WHERE run_id = %s AND started_event_id = %s",
            (run_id, started_event_id)).fetchone() is not None

    def get_update(self, run_id: str, update_id: str) -> UpdateRequest | None:
        row = self.conn.execute(
            f"SELECT {UPDATE_COLUMNS} FROM update_requests WHERE run_id = %s "
            "AND update_id = %s", (run_id, update_id)).fetchone()
        return None if row is None else update_from_row(row)
