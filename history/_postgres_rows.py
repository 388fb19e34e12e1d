"""Rows of the PostgreSQL store: records to columns and back, point reads, applying changes.

Like ``_sqlite_rows`` for SQLite: :class:`PgLookup` answers the derivation's
point reads inside the writing transaction (locking the run head row, which is
the fence of a conditional append), and :func:`apply_changes` runs the SQL of
each :mod:`history._changes` record. Times are ``timestamptz`` (microseconds,
UTC), JSON values are text in the same encoding as SQLite's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ._batch import RunHead
from ._changes import (
    AbortUpdates,
    AcceptUpdate,
    ActivityRow,
    AddEvents,
    AdvanceRun,
    Change,
    ClearTaskFailure,
    CloseRun,
    CompleteUpdate,
    DeleteActivityTask,
    DeleteTimer,
    DropIdleWorkflowTask,
    FinishWorkflowTask,
    InsertActivityTask,
    InsertRun,
    InsertTimer,
    InsertUpdate,
    LeaseActivityTask,
    NeedWorkflowTask,
    RejectUpdate,
    RemoveRunWork,
    RequestActivityCancel,
    SetSearchAttributes,
    SetTaskFailure,
    WorkflowTaskRow,
)
from ._codec import PayloadConverter
from ._events import Event, Failure, WorkflowTaskFailed
from ._kinds import EVENT_KINDS
from ._search_index import apply_set
from ._sqlite_rows import (
    dumps,
    event_row,
    failure_json,
    task_failure_from_json,
    task_failure_json,
)
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


class PgLookup:
    """:class:`history._derive.Lookup` inside a writing transaction.

    ``run_head`` locks the run's row (``FOR UPDATE``) until the transaction
    ends: a concurrent append to the same run waits, then sees the new head and
    fails with a conflict. ``queues`` collects the task queues of the runs read,
    to scope the commit's wake-up.
    """

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self.queues: set[str] = set()

    def run_head(self, run_id: str) -> RunHead | None:
        row = self.conn.execute(
            "SELECT r.workflow_id, r.task_queue, r.status, r.last_event_id, w.has_inputs, "
            "r.task_attempt FROM runs AS r LEFT JOIN workflow_tasks AS w "
            "ON w.run_id = r.run_id WHERE r.run_id = %s FOR UPDATE OF r",
            (run_id,)).fetchone()
        if row is None:
            return None
        self.queues.add(row[1])
        return RunHead(run_id, row[0], row[1], row[2], row[3], row[4], row[5])

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


# --- applying changes -------------------------------------------------------------------------

_NO_REQUESTED = ("NOT EXISTS (SELECT 1 FROM update_requests AS u "
                 "WHERE u.run_id = %(run_id)s AND u.status = 'requested')")
_MARKS = ", ".join(["%s"] * 18)

LEASE_ACTIVITY_SQL = (
    "UPDATE activity_tasks SET attempt = attempt + 1, lease_owner = %(owner)s, "
    "lease_expires_at = %(now)s + COALESCE(lease_span, %(default)s) "
    "WHERE run_id = %(run_id)s AND scheduled_event_id = %(sid)s AND lease_owner IS NULL")

_SQL: dict[type, tuple[str, ...]] = {
    InsertRun: (f"INSERT INTO runs ({RUN_COLUMNS}) VALUES ({', '.join(['%s'] * 19)})",),
    AdvanceRun: ("UPDATE runs SET last_event_id = %(last)s WHERE run_id = %(run_id)s",),
    CloseRun: ("UPDATE runs SET last_event_id = %(last)s, status = %(status)s, "
               "close_time = %(close)s, next_run_id = %(next)s WHERE run_id = %(run_id)s",),
    NeedWorkflowTask: (
        "INSERT INTO workflow_tasks (run_id, task_queue, has_inputs) "
        "VALUES (%(run_id)s, %(queue)s, %(inputs)s) ON CONFLICT (run_id) DO UPDATE "
        "SET has_inputs = true WHERE excluded.has_inputs AND NOT workflow_tasks.has_inputs",),
    FinishWorkflowTask: (
        f"DELETE FROM workflow_tasks WHERE run_id = %(run_id)s AND {_NO_REQUESTED}",
        "UPDATE workflow_tasks SET has_inputs = false, lease_owner = NULL, "
        "lease_expires_at = NULL WHERE run_id = %(run_id)s"),
    SetTaskFailure: (
        "UPDATE runs SET task_attempt = %(attempt)s, task_retry_at = %(retry_at)s, "
        "task_failure = COALESCE(%(failure)s, task_failure) WHERE run_id = %(run_id)s",
        "UPDATE workflow_tasks SET lease_expires_at = %(retry_at)s "
        "WHERE run_id = %(run_id)s AND %(retry_at)s::timestamptz IS NOT NULL"),
    ClearTaskFailure: ("UPDATE runs SET task_attempt = 0, task_retry_at = NULL, "
                       "task_failure = NULL WHERE run_id = %(run_id)s",),
    DropIdleWorkflowTask: (
        "DELETE FROM workflow_tasks WHERE run_id = %(run_id)s AND NOT has_inputs "
        f"AND {_NO_REQUESTED}",),
    RemoveRunWork: ("DELETE FROM workflow_tasks WHERE run_id = %(run_id)s",
                    "DELETE FROM activity_tasks WHERE run_id = %(run_id)s",
                    "DELETE FROM timers WHERE run_id = %(run_id)s"),
    AbortUpdates: ("UPDATE update_requests SET status = 'aborted', failure = %(failure)s "
                   "WHERE run_id = %(run_id)s AND status IN ('requested', 'accepted')",),
    InsertActivityTask: (f"INSERT INTO activity_tasks ({ACTIVITY_COLUMNS}) VALUES ({_MARKS})",),
    LeaseActivityTask: (LEASE_ACTIVITY_SQL,),
    RequestActivityCancel: ("UPDATE activity_tasks SET cancel_requested = true "
                            "WHERE run_id = %(run_id)s AND scheduled_event_id = %(sid)s "
                            "RETURNING task_queue",),
    DeleteActivityTask: ("DELETE FROM activity_tasks WHERE run_id = %(run_id)s "
                         "AND scheduled_event_id = %(sid)s",),
    InsertTimer: (f"INSERT INTO timers ({TIMER_COLUMNS}) VALUES (%s, %s, %s, %s)",),
    DeleteTimer: ("DELETE FROM timers WHERE run_id = %(run_id)s "
                  "AND started_event_id = %(sid)s",),
    InsertUpdate: (f"INSERT INTO update_requests ({UPDATE_COLUMNS}) "
                   "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",),
    AcceptUpdate: ("INSERT INTO update_requests (run_id, update_id, name, args, status, "
                   "requested_at) VALUES (%(run_id)s, %(uid)s, %(name)s, %(args)s, 'accepted', "
                   "%(time)s) ON CONFLICT (run_id, update_id) DO UPDATE SET status = 'accepted'",),
    CompleteUpdate: ("UPDATE update_requests SET status = 'completed', result = %(result)s, "
                     "failure = %(failure)s WHERE run_id = %(run_id)s AND update_id = %(uid)s",),
    RejectUpdate: ("UPDATE update_requests SET status = 'rejected', failure = %(failure)s "
                   "WHERE run_id = %(run_id)s AND update_id = %(uid)s",),
}

_PARAMS: dict[type, Callable[[Any], tuple[Any, ...] | dict[str, Any]]] = {
    InsertRun: lambda c: run_to_row(c.info),
    AdvanceRun: lambda c: {"run_id": c.run_id, "last": c.last_event_id},
    CloseRun: lambda c: {"run_id": c.run_id, "last": c.last_event_id, "status": c.status,
                         "close": c.close_time, "next": c.next_run_id},
    NeedWorkflowTask: lambda c: {"run_id": c.run_id, "queue": c.task_queue,
                                 "inputs": c.has_inputs},
    FinishWorkflowTask: lambda c: {"run_id": c.run_id},
    SetTaskFailure: lambda c: {"run_id": c.run_id, "attempt": c.attempt,
                               "retry_at": c.retry_at,
                               "failure": task_failure_json(c.failure)},
    ClearTaskFailure: lambda c: {"run_id": c.run_id},
    DropIdleWorkflowTask: lambda c: {"run_id": c.run_id},
    RemoveRunWork: lambda c: {"run_id": c.run_id},
    AbortUpdates: lambda c: {"run_id": c.run_id, "failure": failure_json(c.failure)},
    InsertActivityTask: lambda c: activity_to_row(c.row),
    LeaseActivityTask: lambda c: {"run_id": c.run_id, "sid": c.scheduled_event_id,
                                  "owner": c.owner, "now": c.now, "default": c.default_lease},
    RequestActivityCancel: lambda c: {"run_id": c.run_id, "sid": c.scheduled_event_id},
    DeleteActivityTask: lambda c: {"run_id": c.run_id, "sid": c.scheduled_event_id},
    InsertTimer: lambda c: timer_to_row(c.timer),
    DeleteTimer: lambda c: {"run_id": c.run_id, "sid": c.started_event_id},
    InsertUpdate: lambda c: update_to_row(c.request),
    AcceptUpdate: lambda c: {"run_id": c.run_id, "uid": c.update_id, "name": c.name,
                             "args": dumps(c.args), "time": c.time},
    CompleteUpdate: lambda c: {"run_id": c.run_id, "uid": c.update_id,
                               "result": dumps(c.result), "failure": failure_json(c.failure)},
    RejectUpdate: lambda c: {"run_id": c.run_id, "uid": c.update_id,
                             "failure": failure_json(c.failure)},
}

INSERT_EVENT = ("INSERT INTO events (run_id, event_id, kind, time, data) "
                "VALUES (%s, %s, %s, %s, %s)")


def handled_changes() -> set[type]:
    """Every change kind this module has SQL for (a test compares it with ``Change``)."""
    return {AddEvents, SetSearchAttributes, *_SQL}


def apply_changes(conn: psycopg.Connection[Any], changes: Iterable[Change],
                  sync: Callable[[], None] | None = None) -> set[str]:
    """Run the SQL of each change, in order, in the open transaction.

    Returns the task queues that may have new work (to scope the wake-up). On a
    connection in pipeline mode give ``sync`` (which waits for every answer): the
    statements go out together, and only the answers checked here (a stale
    activity result's missing row, the queue of an activity asked to cancel) are
    waited for, once.
    """
    queues: set[str] = set()
    checks: list[tuple[Change, psycopg.Cursor[Any]]] = []
    for change in _without_overwritten(changes):
        if isinstance(change, AddEvents):
            rows = [event_row(change.run_id, e) for e in change.events]
            with conn.cursor() as cur:
                cur.executemany(INSERT_EVENT, rows)
            continue
        if isinstance(change, SetSearchAttributes):
            apply_set(conn, "%s", change.run_id, change.values, fresh=change.fresh)
            continue
        if isinstance(change, NeedWorkflowTask):
            queues.add(change.task_queue)
        elif isinstance(change, InsertActivityTask):
            queues.add(change.row.task_queue)
        params = _PARAMS[type(change)](change)
        for sql in _SQL[type(change)]:
            done = conn.execute(sql, params)
            if (isinstance(change, DeleteActivityTask) and change.missing is not None) \
                    or isinstance(change, RequestActivityCancel):
                checks.append((change, done))
                if sync is None:  # its answer is in: check it before going on
                    queues |= _checked(checks.pop())
    if checks and sync is not None:
        sync()
    for check in checks:
        queues |= _checked(check)
    return queues


def _checked(check: tuple[Change, psycopg.Cursor[Any]]) -> set[str]:
    """Raise a stale activity result's error if its task row was gone; the queue of an
    activity asked to cancel (its worker looks for cancellations)."""
    change, done = check
    if isinstance(change, DeleteActivityTask):
        if done.rowcount == 0 and change.missing is not None:
            raise change.missing
        return set()
    return {str(r[0]) for r in done.fetchall()}


def _without_overwritten(changes: Iterable[Change]) -> list[Change]:
    """``changes`` less each :class:`AdvanceRun` that a later change of the same run's
    head (an advance or its close) overwrites: one update of the run row per batch."""
    listed = list(changes)
    last: dict[str, int] = {}
    for at, change in enumerate(listed):
        if isinstance(change, AdvanceRun | CloseRun):
            last[change.run_id] = at
    return [c for at, c in enumerate(listed)
            if not isinstance(c, AdvanceRun) or last[c.run_id] == at]
